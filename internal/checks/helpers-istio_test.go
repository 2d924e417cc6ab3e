package checks

import "testing"

// TestIstioServerAdmitsNamespace: a server's hosts say whose VirtualServices may bind to it
// ([namespace/]dnsName, Istio's Gateway reference): none of the namespace's when every host
// names another one, so a tenant's tcp route on another namespace's stream server it cannot
// bind to publishes nothing.
func TestIstioServerAdmitsNamespace(t *testing.T) {
	tests := map[string]struct {
		hosts []string
		want  bool
	}{
		"a host without a namespace part admits every namespace": {hosts: []string{"db.example.com"}, want: true},
		"*/ admits every namespace":                              {hosts: []string{"*/*"}, want: true},
		"the tenant's own namespace part admits it":              {hosts: []string{"infra/*", "shop/db.example.com"}, want: true},
		"another namespace's part does not":                      {hosts: []string{"infra/*"}, want: false},
		"./ admits the Gateway's namespace only":                 {hosts: []string{"./*"}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (istioServer{Hosts: tc.hosts}).admitsNamespace("infra", "shop"); got != tc.want {
				t.Errorf("admitsNamespace(%v) = %v, want %v", tc.hosts, got, tc.want)
			}
		})
	}
	if !(istioServer{Hosts: []string{"./*"}}).admitsNamespace("infra", "infra") {
		t.Error("./ does not admit the Gateway's own namespace")
	}
}

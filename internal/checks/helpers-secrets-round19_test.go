package checks

import "testing"

// TestUserPasswordNamesHoldingAServer: a name that holds USER:PASSWORD (CONSUL_HTTP_AUTH,
// PROXY_AUTH) given a server, HOST:PORT, holds no credential. Before, only a bare AUTH's
// server passed: CONSUL_HTTP_AUTH=localhost:8500 failed. A user with a password of digits
// still fails.
func TestUserPasswordNamesHoldingAServer(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"localhost":                 {"CONSUL_HTTP_AUTH", "localhost:8500", false},
		"an IPv4 address":           {"NOMAD_HTTP_AUTH", "10.0.0.12:4646", false},
		"a cluster service":         {"PROXY_AUTH", "squid.proxy.svc:3128", false},
		"a cluster service, FQDN":   {"PROXY_AUTH", "squid.proxy.svc.cluster.local:3128", false},
		"a Consul name":             {"CONSUL_HTTP_AUTH", "consul.service.consul:8500", false},
		"a host name":               {"CONSUL_HTTP_AUTH", "consul.example.com:8500", false},
		"a password of digits":      {"CONSUL_HTTP_AUTH", "operator:20242024", true},
		"a dotted user, digits":     {"CONSUL_HTTP_AUTH", "john.doe:1234", true},
		"localhost, not a port":     {"CONSUL_HTTP_AUTH", "localhost:123456", true},
		"localhost, a leading zero": {"CONSUL_HTTP_AUTH", "localhost:08080", true},
		"a user and password":       {"CONSUL_HTTP_AUTH", "operator:Orders-2024x", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			text := tc.name + "=" + tc.value + "\n"
			if got := keyCredential("app.env", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(app.env, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
}

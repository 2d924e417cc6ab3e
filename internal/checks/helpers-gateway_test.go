package checks

import "testing"

// TestGatewayHostnamesIntersect holds hostnameIntersects to the Gateway API's hostname
// intersection (a wildcard is a suffix match over any number of labels, never the suffix itself).
func TestGatewayHostnamesIntersect(t *testing.T) {
	cases := map[string]struct {
		listener, route string
		want            bool
	}{
		"the same host":                                {"shop.example.com", "shop.example.com", true},
		"hosts differ in case only":                    {"Shop.Example.com", "shop.example.com", true},
		"two hosts":                                    {"shop.example.com", "api.example.com", false},
		"a listener wildcard over one label":           {"*.example.com", "shop.example.com", true},
		"a listener wildcard over two labels":          {"*.example.com", "a.shop.example.com", true},
		"a listener wildcard and its suffix":           {"*.example.com", "example.com", false},
		"a route wildcard over the listener's host":    {"shop.example.com", "*.example.com", true},
		"a route wildcard and the listener's suffix":   {"example.com", "*.example.com", false},
		"a wildcard inside another":                    {"*.example.com", "*.shop.example.com", true},
		"the other wildcard inside":                    {"*.shop.example.com", "*.example.com", true},
		"two wildcards apart":                          {"*.example.com", "*.example.org", false},
		"a wildcard whose suffix ends another's label": {"*.ample.com", "shop.example.com", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := hostnameIntersects(c.listener, c.route); got != c.want {
				t.Errorf("hostnameIntersects(%q, %q) = %v, want %v", c.listener, c.route, got, c.want)
			}
		})
	}
}

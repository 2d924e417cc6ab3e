package checks

import "testing"

func TestTLSCovers(t *testing.T) {
	tests := map[string]struct {
		tlsHost, host string
		want          bool
	}{
		"the same host":                           {"shop.example.com", "shop.example.com", true},
		"hosts compare without case":              {"Shop.Example.com", "shop.example.com", true},
		"a wildcard covers one label":             {"*.example.com", "shop.example.com", true},
		"a wildcard does not cover two labels":    {"*.example.com", "a.shop.example.com", false},
		"a wildcard does not cover the apex":      {"*.example.com", "example.com", false},
		"a wildcard rule needs the same wildcard": {"*.example.com", "*.example.com", true},
		"a named entry does not cover a wildcard": {"shop.example.com", "*.example.com", false},
		"another host is not covered":             {"shop.example.com", "api.example.com", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tlsCovers(tc.tlsHost, tc.host); got != tc.want {
				t.Errorf("tlsCovers(%q, %q) = %v, want %v", tc.tlsHost, tc.host, got, tc.want)
			}
		})
	}
}

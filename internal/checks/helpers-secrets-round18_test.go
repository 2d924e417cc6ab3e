package checks

import "testing"

// TestHeaderListsInEnvValues judges env values that hold a list of HTTP headers as JSON or
// YAML name/value pairs ([{"name": "Authorization", "value": "Bearer ..."}], as a gateway's,
// a proxy's or an SDK's REQUEST_HEADERS take them): before, envCredential read the OpenTelemetry
// form (key=value,...) and a header on its own only, so these passed.
func TestHeaderListsInEnvValues(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"JSON name and value, Bearer":  {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON with blanks, Basic":      {"HEADERS", `[{"name": "Authorization", "value": "Basic ZGVwbG95Ok9yZGVycy0yMDI0"}]`, true},
		"JSON key and value":           {"UPSTREAM_HEADERS", `[{"key":"Proxy-Authorization","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"YAML name and value":          {"EXTRA_HEADERS", "- name: Authorization\n  value: Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc", true},
		"JSON, Honeycomb's header":     {"EXPORTER_HEADERS", `[{"name":"x-honeycomb-team","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON headers map":             {"DEFAULT_HEADERS", `{"Authorization": "Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}`, true},
		"a variable":                   {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer ${API_TOKEN}"}]`, false},
		"a placeholder":                {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer <token>"}]`, false},
		"Honeycomb's header, variable": {"EXPORTER_HEADERS", `[{"name":"x-honeycomb-team","value":"${HONEYCOMB_API_KEY}"}]`, false},
		"another header":               {"REQUEST_HEADERS", `[{"name":"X-Request-Source","value":"orders-2024-deploy"}]`, false},
		"a scheme without credentials": {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer"}]`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
}

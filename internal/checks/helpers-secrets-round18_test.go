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

// TestHoneycombHeaderAsTOMLPair judges Honeycomb's API key header written as a TOML name/value
// pair ([[headers]] name = "x-honeycomb-team" / value = "KEY", or an inline table): before,
// honeycombValueKey read a value key followed by ':' only, so these passed.
func TestHoneycombHeaderAsTOMLPair(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"an array of tables":       {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"", true},
		"an inline table":          {`headers = [{ name = "X-Honeycomb-Team", value = "Zt7Rk2Qp9Lm4Xw8Vn3Bc" }]`, true},
		"key and value":            {"[[sinks.http.headers]]\nkey = \"x-honeycomb-team\"\nvalue = 'Zt7Rk2Qp9Lm4Xw8Vn3Bc'", true},
		"a variable":               {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"${HONEYCOMB_API_KEY}\"", false},
		"an inline table variable": {`headers = [{ name = "x-honeycomb-team", value = "$HONEYCOMB_API_KEY" }]`, false},
		"another header's value":   {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"${KEY}\"\n\n[[headers]]\nname = \"x-request-id\"\nvalue = \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := honeycombTeamHeader(tc.text); got != tc.want {
				t.Errorf("honeycombTeamHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
			if got := keyCredential("collector.toml", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(collector.toml, %q) = %q, want a credential %v", tc.text, keyCredential("collector.toml", tc.text, false), tc.want)
			}
		})
	}
}

// TestHeaderPairsOnOneLineAreReadPairByPair: a list of name/value pairs written on one line
// gives each header its own value. Before, the value of any pair on the line was the header's,
// so a Honeycomb header taken from a variable beside another header's literal value failed.
func TestHeaderPairsOnOneLineAreReadPairByPair(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"JSON, the next pair's value":          {`[{"name":"x-honeycomb-team","value":"${KEY}"},{"name":"x-request-id","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, false},
		"JSON, the previous pair's value":      {`[{"name":"x-request-id","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"},{"name":"x-honeycomb-team","value":"${KEY}"}]`, false},
		"TOML, the next pair's value":          {`headers = [{ name = "x-honeycomb-team", value = "$KEY" }, { name = "x-request-source", value = "orders-2024" }]`, false},
		"JSON, its own value":                  {`[{"name":"x-request-id","value":"${ID}"},{"name":"x-honeycomb-team","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON, its value before its name":      {`[{"value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc","name":"x-honeycomb-team"}]`, true},
		"an object over lines, its own value":  {"[{\"name\": \"x-honeycomb-team\",\n  \"value\": \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"}]", true},
		"Authorization, the next pair's value": {`[{"name":"Authorization","value":"Bearer ${T}"},{"name":"X-Upstream","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := honeycombTeamHeader(tc.text) || literalAuthorizationHeader(tc.text); got != tc.want {
				t.Errorf("honeycombTeamHeader or literalAuthorizationHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

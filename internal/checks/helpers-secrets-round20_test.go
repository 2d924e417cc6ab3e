package checks

import "testing"

// TestAlertmanagerReceiverKeysInFlowStyleAndJSON judges Alertmanager's receiver keys
// (alertmanagerReceiverKeys) written in YAML's flow style or as JSON, as Alertmanager also
// reads its configuration (JSON is YAML) and as the Prometheus Operator's and Helm charts'
// generated configurations often are. Before, the reader took block-style YAML only
// (pagerduty_configs:\n  - routing_key: KEY), and these passed.
func TestAlertmanagerReceiverKeysInFlowStyleAndJSON(t *testing.T) {
	const key = "1111aaaa2222bbbb1111aaaa2222bbbb"
	tests := map[string]struct {
		text string
		want bool
	}{
		"JSON, one line":                     {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "` + key + `"}]}]}`, true},
		"JSON, indented":                     {"{\n  \"receivers\": [\n    {\n      \"name\": \"po\",\n      \"pushover_configs\": [\n        {\n          \"user_key\": \"Orders2024deploy\",\n          \"token_file\": \"/etc/po/token\"\n        }\n      ]\n    }\n  ]\n}\n", true},
		"flow style, one line":               {"receivers: [{name: pd, pagerduty_configs: [{routing_key: " + key + "}]}]\n", true},
		"a block list, a flow item":          {"receivers:\n- name: pd\n  pagerduty_configs:\n  - {send_resolved: true, service_key: '" + key + "'}\n", true},
		"JSON, a key file":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/etc/pd/key"}]}]}`, false},
		"JSON, a template":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "{{ .Values.pdKey }}"}]}]}`, false},
		"JSON, a variable":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "${PD_ROUTING_KEY}"}]}]}`, false},
		"JSON, an empty key":                 {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": ""}]}]}`, false},
		"JSON, AMQP's routing_key elsewhere": {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/k"}]}, {"name": "wh", "webhook_configs": [{"url": "http://relay", "routing_key": "orders.created"}]}]}`, false},
		"flow style, a name in a string":     {"receivers: [{name: 'pagerduty_configs', webhook_configs: [{url: 'http://relay', routing_key: orders.created}]}]\n", false},
		"an unclosed list":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/k"`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("alertmanager.yml", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(alertmanager.yml, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

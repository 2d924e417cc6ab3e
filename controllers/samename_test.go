package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestTwoGatewaysOfOneNameInTwoGroupsAreTwoFindings: tenant samename's Gateway API Gateway edge
// and its Istio Gateway edge (networking.istio.io, the same kind name) both publish a TCP port.
// They are two deviations: the report lists both, the second to fail raises its own NewFinding
// alert, the journal opens each under its own key, and when the tenant fixes the Istio one the
// journal closes it as resolved while the Gateway API one stays open.
func TestTwoGatewaysOfOneNameInTwoGroupsAreTwoFindings(t *testing.T) {
	hook := newReceiver(t, 0, false)
	createNamespace(t, "samename", map[string]string{"samenametest": "true"})
	const gatewayAPI = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: samename
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
`
	const istio = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: samename
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: cert}
`
	const tcpServer = `  - port: {number: 5432, name: postgres, protocol: TCP}
    hosts: ["*"]
`
	applyYAML(t, gatewayAPI)
	applyYAML(t, istio)
	createProfile(t, "samenametest", "samenametest", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "net-service-exposure")
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityLow,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	eventuallyAssessedPass(t, 20*time.Second, "samename", "samenametest", "CC6.6")

	edgeFindings := func() ([]v1alpha1.Finding, error) {
		rep, err := getReport("samename", "samenametest")
		if err != nil {
			return nil, err
		}
		var out []v1alpha1.Finding
		for _, f := range rep.Status.Findings {
			if f.Check == "net-service-exposure" && f.Resource.Name == "edge" {
				out = append(out, f)
			}
		}
		return out, nil
	}
	newFindingAlerts := func() int {
		n := 0
		for _, b := range hook.received() {
			if b["event"] == string(v1alpha1.AlertNewFinding) {
				n++
			}
		}
		return n
	}

	// The Gateway API Gateway fails first, then the Istio one.
	applyYAML(t, gatewayAPI+`  - name: postgres
    protocol: TCP
    port: 5432
`)
	eventually(t, 20*time.Second, "the Gateway API Gateway's finding and its alert", func() error {
		fs, err := edgeFindings()
		if err != nil || len(fs) != 1 || newFindingAlerts() != 1 {
			return fmt.Errorf("findings %v (%v), %d NewFinding alerts", fs, err, newFindingAlerts())
		}
		return nil
	})
	applyYAML(t, istio+tcpServer)
	eventually(t, 20*time.Second, "two findings, one per Gateway", func() error {
		fs, err := edgeFindings()
		if err != nil || len(fs) != 2 || fs[0].Resource.APIVersion == fs[1].Resource.APIVersion {
			return fmt.Errorf("findings %+v (%v)", fs, err)
		}
		return nil
	})
	eventually(t, 20*time.Second, "a NewFinding alert for the Istio Gateway", func() error {
		if n := newFindingAlerts(); n != 2 {
			return fmt.Errorf("%d NewFinding alerts: %v", n, hook.received())
		}
		return nil
	})

	edgeRecords := func(r *journal.Record) bool {
		return r.Profile == "samenametest" && r.Namespace == "samename" && r.Finding != nil && r.Finding.Name == "edge"
	}
	var recs []journal.Record
	eventually(t, 20*time.Second, "each Gateway's finding opened in the journal", func() error {
		recs = journalRecords(t, edgeRecords)
		keys := map[string]string{}
		for _, r := range recs {
			if r.Type == journal.FindingOpened {
				keys[r.Finding.Key] = r.Finding.Group
			}
		}
		if len(keys) != 2 || !hasValue(keys, "networking.istio.io") || !hasValue(keys, "") {
			return fmt.Errorf("opened: %v", strings.Join(describe(recs), "; "))
		}
		return nil
	})

	// The tenant fixes the Istio Gateway: its finding closes as resolved; the other stays open.
	applyYAML(t, istio)
	eventually(t, 20*time.Second, "the Istio Gateway's finding closed in the journal", func() error {
		recs = journalRecords(t, edgeRecords)
		for _, r := range recs {
			if r.Type == journal.FindingClosed {
				if r.Finding.Group != "networking.istio.io" || r.Finding.CloseReason != journal.CloseResolved {
					return fmt.Errorf("closed %+v", *r.Finding)
				}
				return nil
			}
		}
		return fmt.Errorf("no closed record: %v", describe(recs))
	})
	// The journal records the closing before the report is written: wait for the report.
	eventually(t, 20*time.Second, "the report to list the Gateway API Gateway's finding alone", func() error {
		fs, err := edgeFindings()
		if err != nil || len(fs) != 1 || fs[0].Resource.Kind != "Gateway" || !strings.HasPrefix(fs[0].Resource.APIVersion, "gateway.networking.k8s.io/") {
			return fmt.Errorf("findings after the fix: %+v (%v); want the Gateway API Gateway's alone", fs, err)
		}
		return nil
	})
}

func hasValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// TestAFindingOpenedBeforeKeysNamedTheGroupStaysOpenUnderItsKey: a journal written before keys
// named a group other than Kubernetes' own opened Istio's Gateway edge's finding as
// net-service-exposure|Gateway|edge|. At the first evaluation after the upgrade it continues
// under that key (no false closing and reopening), unless the Gateway API's Gateway edge, whose
// key that now is, fails too; later, a key open without a group is the Gateway API's alone.
func TestAFindingOpenedBeforeKeysNamedTheGroupStaysOpenUnderItsKey(t *testing.T) {
	legacy := journal.FindingKey("net-service-exposure", "Gateway", "edge", "")
	grouped := journal.FindingKey("net-service-exposure", "Gateway.networking.istio.io", "edge", "")
	istio := journal.Finding{Key: grouped, Check: "net-service-exposure", Kind: "Gateway", Group: "networking.istio.io", Name: "edge"}
	gatewayAPI := journal.Finding{Key: legacy, Check: "net-service-exposure", Kind: "Gateway", Name: "edge"}
	old := journal.Finding{Key: legacy, Check: "net-service-exposure", Kind: "Gateway", Name: "edge"}
	cases := map[string]struct {
		current  []journal.Finding
		open     journal.Finding
		first    bool
		wantKeys []string
	}{
		"Istio's Gateway fails at the first evaluation": {
			current: []journal.Finding{istio}, open: old, first: true, wantKeys: []string{legacy}},
		"both fail at the first evaluation": {
			current: []journal.Finding{istio, gatewayAPI}, open: old, first: true, wantKeys: []string{grouped, legacy}},
		"Istio's Gateway fails later, the key open without a group": {
			current: []journal.Finding{istio}, open: old, wantKeys: []string{grouped}},
		"Istio's Gateway still fails, kept under the old key before": {
			current: []journal.Finding{istio}, open: istio, wantKeys: []string{legacy}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			current := map[string]journal.Finding{}
			for _, f := range tc.current {
				current[f.Key] = f
			}
			open := tc.open
			open.Key = legacy
			keepUngroupedKeys(current, map[string]journal.Finding{legacy: open}, tc.first)
			if got := sortedFindingKeys(current); !slices.Equal(got, tc.wantKeys) {
				t.Errorf("keys %q, want %q", got, tc.wantKeys)
			}
			for k, f := range current {
				if f.Key != k {
					t.Errorf("finding %+v under key %q", f, k)
				}
			}
		})
	}
}

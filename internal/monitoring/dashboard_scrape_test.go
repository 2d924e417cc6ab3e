//go:build e2e

package monitoring

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// scrape reads the operator's /metrics into series names with the label names their samples
// carry (a histogram as its _bucket, _sum and _count series).
func scrape(ctx context.Context, url string) (exported, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	text := expfmt.NewTextParser(model.LegacyValidation)
	families, err := text.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	out := exported{}
	add := func(name string, labels map[string]bool) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for l := range labels {
			out[name][l] = true
		}
	}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]bool{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
			if m.GetHistogram() != nil {
				add(name+"_sum", labels)
				add(name+"_count", labels)
				labels["le"] = true
				add(name+"_bucket", labels)
				continue
			}
			add(name, labels)
		}
	}
	return out, nil
}

// TestDashboardQueriesReadExportedSeries runs the operator binary against a real API server,
// with a profile, a non-compliant namespace, an Active exception about to expire, an alert sink
// and the evidence journal, so that every series the operator exports exists; then scrapes its
// /metrics and checks every expression of the dashboard (panels and variables, parsed with
// Prometheus's own PromQL parser) against the scrape: each series it reads is there, and
// carries each label the expression filters, groups or matches on, and each label its legend
// and the panel's transformations name.
func TestDashboardQueriesReadExportedSeries(t *testing.T) {
	d := loadDashboard(t)
	qs := queries(t, d)
	wanted := map[string]bool{}
	for _, q := range qs {
		if e, err := parsePromQL(q.expr); err == nil {
			for _, vs := range selectorsIn(e) {
				if _, synthetic := scrapeSeries[vs.Name]; !synthetic {
					wanted[vs.Name] = true
				}
			}
		}
	}
	if len(wanted) < 10 {
		t.Fatalf("the dashboard reads only %d series: %v", len(wanted), wanted)
	}

	ctx := context.Background()
	start := time.Now()
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	dir := t.TempDir()
	kubeconfig, err := testenv.AdminKubeconfig(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	bin, err := testenv.BuildOperator()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("control plane up and operator built after %s", time.Since(start).Round(time.Second))

	// An alert sink that accepts everything.
	var received atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(sink.Close)

	const ns = "dashboard-shop"
	no := false
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: engine.DefaultAdminNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"dashboard": "yes"}}},
		// A privileged container: a Critical finding, so the namespace is NonCompliant and
		// alerts fire.
		testenv.PrivilegedAgent(ns),
		&v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "dashboard"}, Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"dashboard": "yes"}},
			ExceptionPolicy:   &v1alpha1.ExceptionPolicy{RequireApproval: &no},
			Alerts:            &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "receiver", Type: v1alpha1.SinkWebhook, URL: sink.URL}}},
		}},
		// Active, and expiring within the default expiryWarning (72h): ExceptionExpiring.
		&v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "rootfs", Namespace: ns},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-readonly-rootfs"}, Reason: "The agent writes its state under /var.",
				Owner: "platform@example.com", Expires: metav1.NewTime(time.Now().Add(48 * time.Hour).Truncate(time.Second))},
		},
	} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}

	journal, err := os.MkdirTemp(dir, "journal-")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	mgr, err := testenv.StartManager(bin, kubeconfig, "--journal-store", journal, "--cluster-name", "dashboard-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mgr.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("operator output:\n%s", mgr.Output())
		}
	})
	if err := mgr.WaitReady(90 * time.Second); err != nil {
		t.Fatal(err)
	}

	// A series neither internal/metrics registers nor the first scrape holds will never come:
	// say so now rather than wait for it.
	exp, err := scrape(ctx, mgr.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	ours := registered(t)
	for name := range wanted {
		if !ours[name] && exp[name] == nil {
			t.Errorf("the dashboard reads %s, which the operator does not export%s", name, similar(exp, name))
			delete(wanted, name)
		}
	}
	// Wait until the scenario has made every other series the dashboard reads, then check each
	// query against the scrape.
	testenv.Eventually(t, 120*time.Second, "the operator exports every series the dashboard reads", func() error {
		var err error
		if exp, err = scrape(ctx, mgr.MetricsURL); err != nil {
			return err
		}
		var missing []string
		for name := range wanted {
			if exp[name] == nil {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			return fmt.Errorf("not in the scrape: %s (alerts received: %d)", strings.Join(missing, ", "), received.Load())
		}
		return nil
	})
	t.Logf("every series in the scrape %s after the operator started (%d queries, %d series)", time.Since(started).Round(time.Second), len(qs), len(wanted))
	for _, q := range qs {
		for _, p := range checkQuery(exp, q) {
			t.Error(p)
		}
	}
}

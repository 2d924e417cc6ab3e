package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	Annotations map[string]string `json:"annotations"`
}

type prometheusRule struct {
	Spec struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

func configDir() string { return filepath.Join(testenv.RepoRoot(), "config", "prometheus") }

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func alerts(t *testing.T) []rule {
	t.Helper()
	var pr prometheusRule
	if err := yaml.Unmarshal(read(t, filepath.Join(configDir(), "prometheusrule.yaml")), &pr); err != nil {
		t.Fatalf("config/prometheus/prometheusrule.yaml: %v", err)
	}
	var out []rule
	for _, g := range pr.Spec.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatal("config/prometheus/prometheusrule.yaml has no rules")
	}
	return out
}

// promtool is Prometheus's promtool: $SOC2_PROMTOOL, or hack/tool.sh promtool, which builds it
// once (v0.316.0) from the Go module proxy into a cache outside the checkout.
func promtool(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SOC2_PROMTOOL"); bin != "" {
		return bin
	}
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tool.sh"), "promtool")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/tool.sh promtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestAlertsPassPromtoolUnitTests checks the PrometheusRule's spec (a Prometheus rule file) with
// `promtool check rules` and runs config/prometheus/rules_test.yaml on it with `promtool test
// rules`: each alert fires when it should and not before, with the labels and annotations a
// receiver sees.
func TestAlertsPassPromtoolUnitTests(t *testing.T) {
	bin := promtool(t)
	var pr map[string]any
	if err := yaml.Unmarshal(read(t, filepath.Join(configDir(), "prometheusrule.yaml")), &pr); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(pr["spec"])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := read(t, filepath.Join(configDir(), "rules_test.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Every alert has a unit test.
	for _, r := range alerts(t) {
		if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
			t.Errorf("alert %s has no test in config/prometheus/rules_test.yaml", r.Alert)
		}
	}
}

// registered is every series name the operator registers (internal/metrics, with the
// journal's), histograms with their _bucket, _sum and _count.
func registered(t *testing.T) map[string]bool {
	t.Helper()
	metrics.Register()
	metrics.RegisterJournal()
	descs := make(chan *prometheus.Desc, 100)
	go func() {
		ctrlmetrics.Registry.(prometheus.Collector).Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			names[m[1]+suffix] = true
		}
	}
	return names
}

// TestAlertsUseOnlyExportedSeries: every series an alert's expression reads is one the
// operator registers, so no alert silently never fires.
func TestAlertsUseOnlyExportedSeries(t *testing.T) {
	names := registered(t)
	if !names["soc2_operator_namespace_compliant"] || !names["soc2_operator_journal_behind"] {
		t.Fatalf("the registry does not hold the operator's series: %v", names)
	}
	used := 0
	for _, r := range alerts(t) {
		for _, name := range seriesNames(t, r.Expr) {
			used++
			if !names[name] {
				t.Errorf("alert %s reads %s, which the operator does not export", r.Alert, name)
			}
		}
	}
	if used == 0 {
		t.Fatal("no series found in the alerts' expressions")
	}
}

// seriesNames are the series an expression selects, parsed with Prometheus's PromQL parser.
func seriesNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parsePromQL(expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	var out []string
	for _, vs := range selectorsIn(e) {
		out = append(out, vs.Name)
	}
	return out
}

func TestSeriesNames(t *testing.T) {
	got := strings.Join(seriesNames(t, `sum by (profile, namespace) (a_b{severity="Critical"}) - (x offset 15m or y * 0) > 0 and absent(z) and increase(w{outcome="dropped"}[15m]) > 7 * 86400 - time()`), " ")
	if want := "a_b x y z w"; got != want {
		t.Fatalf("series names %q, want %q", got, want)
	}
}

// runbookPrefix is the address of docs/runbooks.md that alerts and dashboard panels link to.
const runbookPrefix = "https://github.com/soc2-operator/soc2-operator/blob/main/docs/runbooks.md#"

// runbookAnchors are the anchors of docs/runbooks.md's sections.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	doc := string(read(t, filepath.Join(testenv.RepoRoot(), "docs", "runbooks.md")))
	anchors := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			anchors[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(line, "## ")), " ", "-"))] = true
		}
	}
	return anchors
}

// TestEveryAlertHasARunbook: each alert links to a section of docs/runbooks.md that exists.
func TestEveryAlertHasARunbook(t *testing.T) {
	anchors := runbookAnchors(t)
	for _, r := range alerts(t) {
		url := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookPrefix)
		if !ok || !anchors[anchor] {
			t.Errorf("alert %s: runbook_url %q is not a section of docs/runbooks.md (sections: %v)", r.Alert, url, anchors)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("alert %s lacks a summary or description", r.Alert)
		}
	}
}

// TestServiceMonitorSelectsTheMetricsService: the ServiceMonitor's selector and port match the
// operator's metrics Service (config/metrics), so Prometheus scrapes it, and it keeps the
// series' own namespace label.
func TestServiceMonitorSelectsTheMetricsService(t *testing.T) {
	var sm struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Endpoints []struct {
				Port        string `json:"port"`
				Scheme      string `json:"scheme"`
				HonorLabels bool   `json:"honorLabels"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(read(t, filepath.Join(configDir(), "servicemonitor.yaml")), &sm); err != nil {
		t.Fatal(err)
	}
	var svc struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Ports []struct {
				Name string `json:"name"`
			} `json:"ports"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(read(t, filepath.Join(testenv.RepoRoot(), "config", "metrics", "metrics_service.yaml")), &svc); err != nil {
		t.Fatal(err)
	}
	if len(sm.Spec.Selector.MatchLabels) == 0 {
		t.Fatal("the ServiceMonitor selects nothing")
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s; the metrics Service has %v", k, v, svc.Metadata.Labels)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || len(svc.Spec.Ports) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Scheme != "https" {
		t.Errorf("the ServiceMonitor's endpoints %+v do not scrape the Service's port %+v over https", sm.Spec.Endpoints, svc.Spec.Ports)
	}
	// The operator's series have a namespace label of their own (the report's namespace),
	// which Prometheus would rename exported_namespace in favour of the target's namespace.
	for _, e := range sm.Spec.Endpoints {
		if !e.HonorLabels {
			t.Errorf("the ServiceMonitor's endpoint %s does not set honorLabels: the series' namespace label would be replaced by the operator's namespace", e.Port)
		}
	}
}

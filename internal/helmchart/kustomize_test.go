//go:build e2e

package helmchart

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestChartMatchesKustomize renders the chart and the kustomize install it stands for and
// compares them object by object: the same kinds and names, and the same content (RBAC rules
// and bindings, container arguments, environment, ports, probes, resources, volumes, pod and
// container security contexts, Services, NetworkPolicies, webhook configuration, CRDs). What
// differs by design is left out of the comparison: Helm's labels and the release's
// app.kubernetes.io/instance label in selectors.
func TestChartMatchesKustomize(t *testing.T) {
	t.Run("defaults and config/default", func(t *testing.T) {
		chart := byKey(t, decode(t, "chart", render(t, nil)))
		kust := byKey(t, decode(t, "config/default", kustomize(t, "default", nil)))
		// The one object of config/default the chart leaves to `kubectl create namespace` by
		// default: Helm needs the release namespace before it installs.
		if chart["Namespace/soc2-operator-system"] != nil || kust["Namespace/soc2-operator-system"] == nil {
			t.Fatal("want the Namespace in config/default and not in the chart's defaults")
		}
		delete(kust, "Namespace/soc2-operator-system")
		compare(t, chart, kust)
	})
	t.Run("namespace.create and config/default", func(t *testing.T) {
		compare(t, byKey(t, decode(t, "chart", render(t, nil, "namespace.create=true"))),
			byKey(t, decode(t, "config/default", kustomize(t, "default", nil))))
	})
	t.Run("webhook.enabled and config/enforcement", func(t *testing.T) {
		compare(t, byKey(t, decode(t, "chart", render(t, nil, "namespace.create=true", "webhook.enabled=true"))),
			byKey(t, decode(t, "config/enforcement", kustomize(t, "enforcement", nil))))
	})
	t.Run("ui.enabled and config/default with the config/ui component", func(t *testing.T) {
		compare(t, byKey(t, decode(t, "chart", render(t, nil, "namespace.create=true", "ui.enabled=true"))),
			byKey(t, decode(t, "config/default+ui", kustomize(t, "default", []string{"ui"}))))
	})
	t.Run("policyReports.enabled and config/policyreport/writer", func(t *testing.T) {
		chart := byKey(t, decode(t, "chart", render(t, nil, "policyReports.enabled=true", "policyReports.installCRDs=true")))
		writer := byKey(t, decode(t, "config/policyreport/writer", kustomizeDir(t, filepath.Join(root, "config", "policyreport", "writer"))))
		crds := byKey(t, decode(t, "config/policyreport", kustomizeDir(t, filepath.Join(root, "config", "policyreport"))))
		want := map[string]*unstructured.Unstructured{}
		for k, o := range writer {
			want[k] = o
		}
		for k, o := range crds {
			want[k] = o
		}
		got := map[string]*unstructured.Unstructured{}
		for k := range want {
			got[k] = must(t, chart, k)
		}
		compare(t, got, want)
	})
	t.Run("metrics.serviceMonitor.enabled and config/prometheus", func(t *testing.T) {
		chart := byKey(t, decode(t, "chart", render(t, nil, "metrics.serviceMonitor.enabled=true")))
		kust := byKey(t, decode(t, "config/prometheus", kustomizeDir(t, filepath.Join(root, "config", "prometheus"))))
		// config/prometheus is added to an overlay of config/default, which names and places it.
		sm := must(t, kust, "ServiceMonitor/controller-manager-metrics-monitor")
		sm.SetName("soc2-operator-controller-manager-metrics-monitor")
		sm.SetNamespace("soc2-operator-system")
		compare(t, map[string]*unstructured.Unstructured{key(sm): must(t, chart, key(sm))},
			map[string]*unstructured.Unstructured{key(sm): sm})
	})
}

// compare fails for every object only one side has and every difference of content.
func compare(t *testing.T, chart, kust map[string]*unstructured.Unstructured) {
	t.Helper()
	for _, k := range keys(kust) {
		if chart[k] == nil {
			t.Errorf("kustomize has %s, the chart does not", k)
		}
	}
	for _, k := range keys(chart) {
		if kust[k] == nil {
			t.Errorf("the chart has %s, kustomize does not", k)
		}
	}
	for _, k := range keys(chart) {
		if kust[k] == nil {
			continue
		}
		a, b := normalize(chart[k].Object), normalize(kust[k].Object)
		if !reflect.DeepEqual(a, b) {
			var d []string
			diff(a, b, k, &d)
			t.Errorf("%s differs (chart != kustomize):\n  %s", k, strings.Join(d, "\n  "))
		}
	}
}

// normalize drops what differs by design: labels other than RBAC aggregation and Pod Security,
// annotations other than cert-manager's CA injection, and the release's instance label wherever
// it selects pods; and it sorts lists whose items all have names (ports, volumes, volume mounts,
// environment), whose order kustomize's patches change (a patch's items come first) and which
// mean the same in any order.
func normalize(obj map[string]any) map[string]any {
	o := deepCopy(obj).(map[string]any)
	if md, ok := o["metadata"].(map[string]any); ok {
		keep(md, "labels", func(k string) bool {
			return strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") || strings.HasPrefix(k, "pod-security.kubernetes.io/")
		})
		keep(md, "annotations", func(k string) bool { return k == "cert-manager.io/inject-ca-from" })
	}
	if tmd, ok, _ := unstructured.NestedMap(o, "spec", "template", "metadata"); ok {
		delete(tmd, "labels")
		_ = unstructured.SetNestedMap(o, tmd, "spec", "template", "metadata")
	}
	dropInstance(o)
	sortNamed(o)
	return o
}

func sortNamed(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, c := range v {
			sortNamed(c)
		}
	case []any:
		named := len(v) > 1
		for _, c := range v {
			sortNamed(c)
			if m, ok := c.(map[string]any); !ok || m["name"] == nil {
				named = false
			}
		}
		if named {
			sort.SliceStable(v, func(i, j int) bool {
				return fmt.Sprint(v[i].(map[string]any)["name"]) < fmt.Sprint(v[j].(map[string]any)["name"])
			})
		}
	}
}

func keep(md map[string]any, field string, ok func(string) bool) {
	m, _ := md[field].(map[string]any)
	for k := range m {
		if !ok(k) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		delete(md, field)
	}
}

func dropInstance(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "app.kubernetes.io/instance")
		for _, c := range v {
			dropInstance(c)
		}
	case []any:
		for _, c := range v {
			dropInstance(c)
		}
	}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, c := range v {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, c := range v {
			l[i] = deepCopy(c)
		}
		return l
	}
	return v
}

func kustomizeBin(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "hack", "tool.sh"), "kustomize")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building kustomize: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// kustomize builds config/<overlay> with the components of config/ given.
func kustomize(t *testing.T, overlay string, components []string) []byte {
	t.Helper()
	if len(components) == 0 {
		return kustomizeDir(t, filepath.Join(root, "config", overlay))
	}
	dir := t.TempDir()
	rel := func(p string) string {
		r, err := filepath.Rel(dir, filepath.Join(root, "config", p))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	kust := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n", rel(overlay))
	for _, c := range components {
		kust += "  - " + rel(c) + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	return kustomizeDir(t, dir)
}

func kustomizeDir(t *testing.T, dir string) []byte {
	t.Helper()
	cmd := exec.Command(kustomizeBin(t), "build", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v: %s", dir, err, stderr.String())
	}
	return out
}

package kubeapi

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestTheChartKeepsTheDefaults: the helm chart states the limits twice, as its values' defaults
// and in the Deployment template, which passes a flag only for a value other than the
// manager's default (so that the default install renders as kustomize's does). Both must be
// DefaultQPS and DefaultBurst, or a helm install runs with other limits than documented.
func TestTheChartKeepsTheDefaults(t *testing.T) {
	chart := filepath.Join("..", "..", "charts", "soc2-operator")
	data, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		KubeAPI struct {
			QPS   float64 `json:"qps"`
			Burst int     `json:"burst"`
		} `json:"kubeAPI"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	if values.KubeAPI.QPS != DefaultQPS || values.KubeAPI.Burst != DefaultBurst {
		t.Errorf("values.yaml kubeAPI: qps %v, burst %d; the manager's defaults are %d and %d", values.KubeAPI.QPS, values.KubeAPI.Burst, DefaultQPS, DefaultBurst)
	}
	tmpl, err := os.ReadFile(filepath.Join(chart, "templates", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`{{- if ne (toString .Values.kubeAPI.qps) "%d" }}`, DefaultQPS),
		fmt.Sprintf(`{{- if ne (toString .Values.kubeAPI.burst) "%d" }}`, DefaultBurst),
	} {
		if !strings.Contains(string(tmpl), want) {
			t.Errorf("templates/deployment.yaml does not compare with the manager's default: want %s", want)
		}
	}
}

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestEvaluationsReadAddOnKindsFromTheCache: the optional kinds (Gateway API routes and
// Gateways, Trivy's reports, DRA claims, ...) are read as unstructured objects, which
// controller-runtime's client reads from the API server rather than its cache unless told to.
// Every evaluation then listed each of them from the API server (a LIST per kind per
// evaluation of a namespace, cluster-wide ones for full evaluations, and the route kinds at
// every Gateway event), though the informers the watches started held them already: load on the
// API server that grew with the number of namespaces and add-ons, reads outside the cache's
// transforms (a tenant's large annotations read whole), and about 70 ms per namespace in
// BenchmarkOperatorAtScale once the DRA kinds were watched. The API server's own request
// counter (apiserver_request_total) says how many LISTs of those resources it served while the
// operator evaluated a namespace three times in full, once on a change, and mapped a Gateway's
// change: none now; before, at least one per kind per evaluation.
func TestEvaluationsReadAddOnKindsFromTheCache(t *testing.T) {
	const ns, profile = "addon-reads", "addon-reads"
	createNamespace(t, ns, map[string]string{profile: "true", "resource.kubernetes.io/admin-access": "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-device-admin-access") })
	eventually(t, 30*time.Second, "the first report", func() error {
		_, err := getReport(ns, profile)
		return err
	})
	resources := []string{"resourceclaims", "resourceclaimtemplates", "httproutes", "gateways", "vulnerabilityreports"}
	before := apiServerLists(t, resources)
	for range 3 {
		resyncAndWait(t, time.Second, profile)
	}
	// A change: a claim template asking for admin access, judged by an evaluation of the
	// namespace alone, which must find it in the cache.
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu-admin
  namespace: addon-reads
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly:
          deviceClassName: gpu.example.com
          adminAccess: true
`)
	eventually(t, 30*time.Second, "the template's finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "wl-device-admin-access", "gpu-admin", ""); f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("gpu-admin: %s", describeFinding(rep, "wl-device-admin-access", "gpu-admin"))
		}
		return nil
	})
	// A Gateway's change, which the watches map to the namespaces of the routes attached to it.
	gw := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: addon-reads
spec:
  gatewayClassName: example
  listeners:
  - name: http
    protocol: HTTP
    port: 80
`), &gw.Object); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	watched.judged(t, "the Gateway", gw.GetResourceVersion())
	after := apiServerLists(t, resources)
	for _, r := range resources {
		if n := after[r] - before[r]; n != 0 {
			t.Errorf("the API server served %v LISTs of %s while the operator evaluated; want 0 (the informers hold them)", n, r)
		}
	}
}

// apiServerLists reads from the API server's /metrics how many LIST requests it has served of
// each resource, whatever the group, version, scope or response code.
func apiServerLists(t *testing.T, resources []string) map[string]float64 {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range resources {
		want[r] = true
	}
	out := map[string]float64{}
	fam := families["apiserver_request_total"]
	if fam == nil {
		t.Fatal("the API server's /metrics has no apiserver_request_total")
	}
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["verb"] == "LIST" && want[labels["resource"]] {
			out[labels["resource"]] += m.GetCounter().GetValue()
		}
	}
	return out
}

package scan

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A namespace written on a cluster-scoped object's manifest is dropped by the API server, so a
// namespace's exception cannot cover its finding (only the admin namespace's may select
// cluster-scoped objects); and a namespaced object whose manifest names no namespace goes where
// --namespace says, so that namespace's exception covers it. Both hold for the kinds scan reads
// only as unstructured (ServiceCIDR, ResourceClaimTemplate), not only for the typed ones.
func TestExceptionsCoverUnstructuredKindsByTheirScope(t *testing.T) {
	dir := t.TempDir()
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, `apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata: {name: api-migration, namespace: shop}
spec:
  checks: [chg-deprecated-apis]
  reason: migrating with the next driver upgrade
  owner: shop-team@example.com
  expires: "2027-01-15T00:00:00Z"
`)
	manifests := `apiVersion: networking.k8s.io/v1beta1
kind: ServiceCIDR
metadata: {name: extra, namespace: shop}
spec: {cidrs: ["10.100.0.0/16"]}
---
apiVersion: resource.k8s.io/v1beta1
kind: ResourceClaimTemplate
metadata: {name: gpu}
spec:
  spec:
    devices:
      requests: [{name: gpu, deviceClassName: gpu.example.com}]
`
	stdout, stderr, _ := runScan(t, manifests, "-", "--namespace", "shop", "--exceptions", exceptions,
		"-o", "json", "--show", "all", "--fail-on", "none")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr)
	}
	want := map[string]struct {
		namespace string
		result    v1alpha1.CheckResult
	}{
		"ServiceCIDR":           {"", v1alpha1.ResultFail},
		"ResourceClaimTemplate": {"shop", v1alpha1.ResultExcepted},
	}
	seen := 0
	for _, f := range rep.Results {
		if f.Check != "chg-deprecated-apis" {
			continue
		}
		w, ok := want[f.Resource.Kind]
		if !ok {
			continue
		}
		seen++
		if f.Resource.Namespace != w.namespace || f.Result != w.result {
			t.Errorf("%s: namespace %q, %s (exception %q); want namespace %q, %s", f.Resource.Kind, f.Resource.Namespace, f.Result, f.Exception, w.namespace, w.result)
		}
	}
	if seen != len(want) {
		t.Errorf("want a chg-deprecated-apis result for each of %d objects, got %d\n%s", len(want), seen, stdout)
	}
}

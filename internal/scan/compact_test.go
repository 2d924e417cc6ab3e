package scan

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

const crdYAML = `apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, labels: {team: a}}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`

// TestCRDsAreCompacted: with the built-in checks a CRD keeps only what they read (apiVersion,
// kind, metadata), and is still judged (its removed apiVersion fails chg-deprecated-apis); with
// a custom check in the profile, which may read any field, it is kept whole.
func TestCRDsAreCompacted(t *testing.T) {
	decode := func() *engine.Object {
		objs, errs := manifest.Decode("crd.yaml", []byte(crdYAML))
		if len(errs) > 0 || len(objs) != 1 {
			t.Fatalf("decoding: %v", errs)
		}
		return objs[0]
	}
	o := decode()
	compactor(engine.Compile(checks.Catalogue(), nil))(o)
	u := o.Obj.(*unstructured.Unstructured)
	if len(u.Object) != 3 || u.GetLabels()["team"] != "a" || u.GetName() != "widgets.example.com" {
		t.Errorf("compacted CRD: %v; want apiVersion, kind and metadata", u.Object)
	}

	custom := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{{
		ID: "crd-group", Title: "CRDs are in our group", Kinds: []string{"CustomResourceDefinition"}, Criteria: []v1alpha1.Criterion{"CC8.1"},
		Message: "wrong group", Expression: `object.spec.group == "example.com"`}}}}
	o = decode()
	compactor(engine.Compile(checks.Catalogue(), custom))(o)
	if _, ok := o.Obj.(*unstructured.Unstructured).Object["spec"]; !ok {
		t.Error("with a custom check in the profile the CRD lost its spec")
	}

	stdout, stderr, code := runScan(t, crdYAML, "-f", "-", "-o", "json")
	if code != ExitFindings || !contains(stdout, `"check": "chg-deprecated-apis"`) {
		t.Errorf("the compacted CRD is not judged by its apiVersion: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

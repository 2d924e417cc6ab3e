package scan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

const crdYAML = `apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, labels: {team: a}}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`

// TestUnreadKindsKeepOnlyMetadata: with the built-in checks a CRD, or a custom resource, keeps
// only what they read (apiVersion, kind, metadata), and is still judged (the CRD's removed
// apiVersion fails chg-deprecated-apis); a kind a check reads is kept whole; with a custom check
// in the profile, which may read any field, every object is kept whole.
func TestUnreadKindsKeepOnlyMetadata(t *testing.T) {
	decode := func(opts manifest.Options, doc string) *unstructured.Unstructured {
		objs, errs := manifest.DecodeWith("in.yaml", []byte(doc), opts)
		if len(errs) > 0 || len(objs) != 1 {
			t.Fatalf("decoding: %v", errs)
		}
		return objs[0].Obj.(*unstructured.Unstructured)
	}
	builtin := readOptions(engine.Compile(checks.Catalogue(), nil))
	u := decode(builtin, crdYAML)
	if len(u.Object) != 3 || u.GetLabels()["team"] != "a" || u.GetName() != "widgets.example.com" || u.GetAPIVersion() != "apiextensions.k8s.io/v1beta1" {
		t.Errorf("CRD read with the built-in checks: %v; want apiVersion, kind and metadata", u.Object)
	}
	if u := decode(builtin, widgetYAML); len(u.Object) != 3 || u.GetAnnotations()["owner"] != "team-a" {
		t.Errorf("custom resource read with the built-in checks: %v; want apiVersion, kind and metadata", u.Object)
	}
	if u := decode(builtin, trivyReportYAML); u.Object["report"] == nil {
		t.Errorf("a VulnerabilityReport, which img-critical-cves reads, lost its report: %v", u.Object)
	}

	custom := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{{
		ID: "crd-group", Title: "CRDs are in our group", Kinds: []string{"CustomResourceDefinition"}, Criteria: []v1alpha1.Criterion{"CC8.1"},
		Message: "wrong group", Expression: `object.spec.group == "example.com"`}}}}
	withCustom := readOptions(engine.Compile(checks.Catalogue(), custom))
	if _, ok := decode(withCustom, crdYAML).Object["spec"]; !ok {
		t.Error("with a custom check in the profile the CRD lost its spec")
	}
	if _, ok := decode(withCustom, widgetYAML).Object["spec"]; !ok {
		t.Error("with a custom check in the profile the custom resource lost its spec")
	}

	stdout, stderr, code := runScan(t, crdYAML, "-f", "-", "-o", "json")
	if code != ExitFindings || !contains(stdout, `"check": "chg-deprecated-apis"`) {
		t.Errorf("the compacted CRD is not judged by its apiVersion: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

const widgetYAML = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: a, annotations: {owner: team-a}}
spec: {size: 3, parts: [{name: x}]}
`

const trivyReportYAML = `apiVersion: aquasecurity.github.io/v1alpha1
kind: VulnerabilityReport
metadata: {name: r, namespace: a}
report: {summary: {criticalCount: 1}}
`

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestReleaseObjects: after the evaluation of a scan that read every object first, results keep
// only what the outputs print of their objects (one copy per object), and the report and the
// PolicyReports are the same as from the objects themselves.
func TestReleaseObjects(t *testing.T) {
	objs, errs := manifest.Decode("app.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: u-1}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	evaluate := func() *engine.Evaluation {
		return engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory(objs, false), nil, engine.Options{KeepPassing: true})
	}
	whole := evaluate()
	want := buildReport(whole, 1, false)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	wantPR := policyreport.Build(whole, policyreport.Options{Now: at})
	ev := evaluate()
	ev.Release(objs, outputStub)
	got := buildReport(ev, 1, false)
	if len(ev.Results) < 2 {
		t.Fatalf("%d results: the test needs several of one object", len(ev.Results))
	}
	stubs := map[*engine.Object]bool{}
	for _, r := range ev.Results {
		if r.Object != nil && (r.Object == objs[0] || r.Object.Workload != nil) {
			t.Fatalf("result %s still holds the object", r.Check.ID)
		}
		if r.Object != nil {
			stubs[r.Object] = true
		}
	}
	if len(stubs) != 1 {
		t.Errorf("the results of one object point to %d copies of it, want 1", len(stubs))
	}
	if len(want.found) == 0 {
		t.Fatal("no findings")
	}
	if g, w := findings(got.found), findings(want.found); !reflect.DeepEqual(g, w) {
		t.Errorf("findings differ after releasing the objects:\n%+v\n%+v", g, w)
	}
	if g := policyreport.Build(ev, policyreport.Options{Now: at}); len(wantPR) == 0 || !reflect.DeepEqual(g, wantPR) {
		t.Errorf("PolicyReports differ after releasing the objects (%d reports from the objects themselves)", len(wantPR))
	}
}

package report

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// TestReportSizeDoesNotGrowWithTheNamespace evaluates a namespace of 2,000 workloads that all
// fail many checks: the report lists at most maxFindings findings and stays far below etcd's
// 1.5 MiB object limit, at the default limit and at the largest one the API allows.
func TestReportSizeDoesNotGrowWithTheNamespace(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2000, FailingEvery: 1}))
	for _, tc := range []struct {
		maxFindings int32
		limit       int
	}{{50, 64 << 10}, {500, 256 << 10}} {
		profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{MaxFindings: tc.maxFindings}}
		ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
		st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, CatalogVersion: checks.Version})
		rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-000"}, Status: st}
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Findings) != int(tc.maxFindings) || !st.FindingsTruncated || int(st.TotalFindings) <= len(st.Findings) {
			t.Errorf("maxFindings %d: %d findings listed of %d, truncated %v", tc.maxFindings, len(st.Findings), st.TotalFindings, st.FindingsTruncated)
		}
		if len(data) > tc.limit {
			t.Errorf("maxFindings %d: the report is %d KiB, over %d KiB", tc.maxFindings, len(data)>>10, tc.limit>>10)
		}
		t.Logf("maxFindings %d: %d of %d findings listed, report %.1f KiB", tc.maxFindings, len(st.Findings), st.TotalFindings, float64(len(data))/1024)
	}
}

// TestFirstSeenIsKept shows that a finding keeps the time it was first seen while it persists,
// and that a new finding is first seen now.
func TestFirstSeenIsKept(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 2}))
	plan := engine.Compile(checks.Catalogue(), nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	first := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	later := now.Add(time.Hour)
	second := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: later, Previous: &first})
	if len(second.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range second.Findings {
		if !f.FirstSeen.Time.Equal(now) {
			t.Errorf("%s on %s: first seen %s, want %s (kept from the previous status)", f.Check, f.Resource.Name, f.FirstSeen, now)
		}
	}
	if !SameContent(&first, &second) || !second.LastEvaluated.Time.Equal(now) {
		t.Errorf("an unchanged evaluation must keep the content and lastEvaluated (%s)", second.LastEvaluated)
	}
	third := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: later, Previous: &v1alpha1.ComplianceReportStatus{}})
	if !third.Findings[0].FirstSeen.Time.Equal(later.Truncate(time.Second)) {
		t.Errorf("a new finding is first seen now, got %s", third.Findings[0].FirstSeen)
	}
}

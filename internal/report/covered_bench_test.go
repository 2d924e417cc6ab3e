package report

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// BenchmarkCoveredOfANamespace measures what the operator does with what exceptions cover after
// each evaluation of a namespace: the digests for the exceptions' status and the report's
// status, which lists them, from one CoverageOf. The worst case: one exception that covers
// every finding (47,502) of a namespace of 2,000 failing workloads.
func BenchmarkCoveredOfANamespace(b *testing.B) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2000, FailingEvery: 1}))
	var ids []string
	for _, c := range checks.Catalogue() {
		ids = append(ids, c.ID)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "everything", Namespace: "team-000"},
		Spec:       v1alpha1.ControlExceptionSpec{Checks: ids, Reason: "r", Owner: "o", Expires: metav1.NewTime(now.Add(time.Hour))},
	}
	no := false
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{RequireApproval: &no, MaxSeverity: v1alpha1.SeverityCritical}}}
	ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex}, engine.Options{Now: now})
	if st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now}); st.Exceptions[0].Findings < 47000 {
		b.Fatalf("the exception covers %d findings", st.Exceptions[0].Findings)
	}
	for b.Loop() {
		covered := CoverageOf(ev, "team-000")
		_ = covered.Digests()
		_ = NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, Coverage: covered})
	}
}

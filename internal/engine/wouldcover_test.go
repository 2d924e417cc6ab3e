package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// A PendingApproval exception waives nothing, but its outcome lists what it would cover were
// it approved now (WouldCover): exactly what the same exception, approved, covers in the next
// evaluation of the same objects, so that an approver sees what they approve. Another Active
// exception that comes before it keeps its findings; one that comes after gives them up.
func TestAPendingExceptionListsWhatItsApprovalWouldCover(t *testing.T) {
	objs := []*engine.Object{
		deployment("shop", "web", map[string]string{"waiver": "yes"}, "init"),
		deployment("shop", "api", map[string]string{"waiver": "yes"}, "setup", "migrate"),
		deployment("shop", "db", map[string]string{"waiver": "no"}, "init"),
		deployment("billing", "web", map[string]string{"waiver": "yes"}, "init"),
	}
	bySelector := func(s *v1alpha1.ControlExceptionSpec) {
		s.Match.LabelSelector = &v1.LabelSelector{MatchLabels: map[string]string{"waiver": "yes"}}
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: v1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	for name, tc := range map[string]struct {
		others []*v1alpha1.ControlException
	}{
		"alone": {},
		"an Active exception before it keeps web": {others: []*v1alpha1.ControlException{
			exception("shop", "a-first", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Names = []string{"web"} })}},
		"an Active exception after it gives web up": {others: []*v1alpha1.ControlException{
			exception("shop", "z-last", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Names = []string{"web"} })}},
		"an Active exception of the operator's namespace for every namespace gives web up": {others: []*v1alpha1.ControlException{
			exception(engine.DefaultAdminNamespace, "a-everywhere", func(s *v1alpha1.ControlExceptionSpec) {
				s.Match.Namespaces, s.Match.Names = []string{"*"}, []string{"web"}
			})}},
	} {
		t.Run(name, func(t *testing.T) {
			pending := exception("shop", "m-pending", bySelector)
			pending.Approval = nil
			ev := evaluate(t, profile, objs, append(slices.Clone(tc.others), pending)...)
			var would []engine.CoveredItem
			for _, o := range ev.Exceptions {
				if o.Key == "shop/m-pending" {
					if o.State != v1alpha1.ExceptionPendingApproval {
						t.Fatalf("the exception is %s: %s", o.State, o.Message)
					}
					for _, ns := range o.WouldCoverNamespaces() {
						if ns != "shop" {
							t.Errorf("it would cover findings in namespace %q", ns)
						}
						would = append(would, o.WouldCover(ns)...)
					}
				}
			}
			for _, r := range ev.Results {
				if r.Exception != nil && r.Exception.Key == "shop/m-pending" {
					t.Fatalf("the pending exception covers %s/%s", r.Object.Name, r.Container)
				}
			}

			approved := exception("shop", "m-pending", bySelector)
			ev = evaluate(t, profile, objs, append(slices.Clone(tc.others), approved)...)
			var covered []engine.CoveredItem
			for _, r := range ev.Results {
				if r.Exception != nil && r.Exception.Key == "shop/m-pending" && (r.Status == engine.StatusExcepted || r.FailedOnObject()) {
					o := r.Object
					covered = append(covered, engine.CoveredItem{Check: r.Check.ID, Kind: engine.IdentityKind(o.APIVersion, o.Kind),
						Namespace: o.Namespace, Name: o.Name, Container: r.Container})
				}
			}
			order := func(a, b engine.CoveredItem) int {
				return strings.Compare(a.Name+"/"+a.Container+"/"+a.Check, b.Name+"/"+b.Container+"/"+b.Check)
			}
			slices.SortFunc(would, order)
			slices.SortFunc(covered, order)
			if len(covered) == 0 || !slices.Equal(would, covered) {
				t.Fatalf("pending, it would cover %+v; approved, it covers %+v", would, covered)
			}
		})
	}
}

// BenchmarkManyPendingExceptionsMatchingEverything: a tenant requests many exceptions that each
// match every finding of the namespace; what each would cover is four bytes a finding, the
// findings themselves kept once (compare B/op with pending=0).
func BenchmarkManyPendingExceptionsMatchingEverything(b *testing.B) {
	var objs []*engine.Object
	for i := range 2000 {
		objs = append(objs, deployment("shop", fmt.Sprintf("web-%d", i), nil, "init"))
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: v1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	plan := engine.Compile(catalogue, profile)
	inv := engine.NewInventory(objs, true)
	for _, n := range []int{0, 200} {
		var exs []*v1alpha1.ControlException
		for i := range n {
			ex := exception("shop", fmt.Sprintf("pending-%03d", i), nil)
			ex.Approval = nil
			exs = append(exs, ex)
		}
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				plan.Evaluate(inv, exs, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
			}
		})
	}
}

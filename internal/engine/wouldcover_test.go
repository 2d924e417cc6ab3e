package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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

// BenchmarkThousandPendingExceptionsTenThousandFindings: a namespace admin requests 1,000
// exceptions (PendingApproval: no approver needed to create them) whose labelSelector matches
// all 10,000 failing Deployments of their namespace. What each would cover is computed for the
// oldest MaxPendingJudged of them only: the cost of the evaluation, which every tenant's report
// waits on, does not grow with what one tenant requests.
func BenchmarkThousandPendingExceptionsTenThousandFindings(b *testing.B) {
	var objs []*engine.Object
	for i := range 10000 {
		objs = append(objs, deployment("shop", fmt.Sprintf("web-%05d", i), map[string]string{"app": "web"}, "init"))
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: v1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	plan := engine.Compile(catalogue, profile)
	inv := engine.NewInventory(objs, true)
	var exs []*v1alpha1.ControlException
	for i := range 1000 {
		ex := exception("shop", fmt.Sprintf("pending-%04d", i), func(s *v1alpha1.ControlExceptionSpec) {
			s.Match.LabelSelector = &v1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		})
		ex.CreationTimestamp = v1.NewTime(now.Add(-time.Hour + time.Duration(i)*time.Second))
		ex.Approval = nil
		exs = append(exs, ex)
	}
	b.ReportAllocs()
	for b.Loop() {
		plan.Evaluate(inv, exs, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
}

// A namespace admin may request any number of exceptions without an approver: what each would
// cover is computed for the MaxPendingJudged oldest of each namespace (by creation time, then
// name), and each of the others says that it was not computed, never an empty WouldCover alone,
// which reads as "would cover nothing". Another namespace's are computed however many one
// tenant requests.
func TestOnlyTheOldestPendingExceptionsOfANamespaceAreComputed(t *testing.T) {
	objs := []*engine.Object{
		deployment("shop", "web", map[string]string{"app": "web"}, "init"),
		deployment("billing", "web", map[string]string{"app": "web"}, "init"),
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: v1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	pending := func(ns, name string, created time.Time) *v1alpha1.ControlException {
		ex := exception(ns, name, nil)
		ex.CreationTimestamp, ex.Approval = v1.NewTime(created), nil
		return ex
	}
	var exs []*v1alpha1.ControlException
	// Named in the reverse of their creation: the newest, shop/a-000, is first by name.
	for i := range engine.MaxPendingJudged + 1 {
		exs = append(exs, pending("shop", fmt.Sprintf("a-%03d", i), now.Add(-time.Duration(i)*time.Minute)))
	}
	// Created in the same second as a-001, the last of the oldest: the later name is left out.
	exs = append(exs, pending("shop", "z-tied", now.Add(-time.Minute)), pending("billing", "late", now.Add(-time.Second)))
	ev := evaluate(t, profile, objs, exs...)
	notComputed := map[string]bool{"shop/a-000": true, "shop/z-tied": true}
	for _, o := range ev.Exceptions {
		if o.State != v1alpha1.ExceptionPendingApproval {
			t.Fatalf("%s is %s: %s", o.Key, o.State, o.Message)
		}
		var would []engine.CoveredItem
		for _, ns := range o.WouldCoverNamespaces() {
			would = append(would, o.WouldCover(ns)...)
		}
		switch {
		case notComputed[o.Key]:
			want := fmt.Sprintf("namespace shop has more than %d PendingApproval exceptions, and each evaluation computes it for the %d oldest only",
				engine.MaxPendingJudged, engine.MaxPendingJudged)
			if len(would) != 0 || !strings.Contains(o.WouldCoverNotComputed, want) {
				t.Errorf("%s, among the newest, would cover %v and says %q; want nothing computed and a note with %q", o.Key, would, o.WouldCoverNotComputed, want)
			}
		case len(would) != 1 || o.WouldCoverNotComputed != "":
			t.Errorf("%s would cover %v and says %q; want its namespace's web Deployment", o.Key, would, o.WouldCoverNotComputed)
		}
	}
}

package engine_test

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// activeExceptions returns n exceptions of namespace ns that are Active as soon as they exist
// at now (the profile does not require approval), each with a name pattern that matches no
// object, made by spec for the i-th.
func activeExceptions(now time.Time, ns string, n int, spec func(i int, s *v1alpha1.ControlExceptionSpec)) []*v1alpha1.ControlException {
	out := make([]*v1alpha1.ControlException, n)
	for i := range out {
		out[i] = &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ex-%04d", i), Namespace: ns, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
			Spec: v1alpha1.ControlExceptionSpec{Reason: "benchmark exception", Owner: "bench", Expires: metav1.NewTime(now.Add(24 * time.Hour)),
				Match: v1alpha1.ResourceMatch{Names: []string{fmt.Sprintf("no-such-object-%04d-*", i)}}},
		}
		spec(i, &out[i].Spec)
	}
	return out
}

// noApproval is a profile whose exceptions are Active without an approver
// (exceptionPolicy.requireApproval: false), so that a namespace admin's exceptions apply at once,
// and may waive findings of any severity, so that none is passed over for its severity alone.
func noApproval() *v1alpha1.ComplianceProfile {
	no := false
	return &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "no-approval"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{RequireApproval: &no, MaxSeverity: v1alpha1.SeverityCritical}}}
}

// BenchmarkThousandActiveExceptionsTenThousandFindings: under a profile that does not require
// approval, a namespace admin writes 1,000 exceptions, Active at once, each with a name pattern
// that matches nothing, over about 10,000 failing results of every built-in check in their
// namespace. "checks" names one check each (round the catalogue), "criteria" one criterion each,
// and "none" is the evaluation without them. Every evaluation of the namespace (and a
// whole-cluster one) pays for the matching.
func BenchmarkThousandActiveExceptionsTenThousandFindings(b *testing.B) {
	const ns = "team-000"
	gen := testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 421, FailingEvery: 1})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), noApproval())
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced}
	for _, bc := range []struct {
		name       string
		exceptions []*v1alpha1.ControlException
	}{
		{"none", nil},
		{"checks", activeExceptions(now, ns, 1000, func(i int, s *v1alpha1.ControlExceptionSpec) {
			s.Checks = []string{plan.Checks[i%len(plan.Checks)].ID}
		})},
		{"criteria", activeExceptions(now, ns, 1000, func(i int, s *v1alpha1.ControlExceptionSpec) {
			s.Criteria = []v1alpha1.Criterion{engine.Criteria[i%len(engine.Criteria)].ID}
		})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var failing int
			for b.Loop() {
				ev := plan.Evaluate(engine.NewInventory(objs, true), bc.exceptions, opts)
				failing = 0
				for _, s := range ev.Summaries {
					failing += s.Failing
				}
				for _, o := range ev.Exceptions {
					if o.State != v1alpha1.ExceptionActive || o.Matched != 0 {
						b.Fatalf("%s is %s and covers %d findings: %s", o.Key, o.State, o.Matched, o.Message)
					}
				}
			}
			b.ReportMetric(float64(failing), "failing")
		})
	}
}

// BenchmarkThousandActiveExceptionsOfOneCheck is the worst a namespace admin can do with
// exceptions once they are matched only against the results of the checks they name: 1,000
// Active exceptions that all name the check of all 10,000 failing results of their namespace
// (1,000 Deployments of ten privileged containers each), and that match none of them, by a name
// pattern ("names") or a label selector ("selector").
func BenchmarkThousandActiveExceptionsOfOneCheck(b *testing.B) {
	const ns = "shop"
	containers := make([]string, 10)
	for i := range containers {
		containers[i] = fmt.Sprintf("init-%d", i)
	}
	var objs []*engine.Object
	for i := range 1000 {
		objs = append(objs, deployment(ns, fmt.Sprintf("web-%04d", i), map[string]string{"app": "web"}, containers...))
	}
	inv := engine.NewInventory(objs, true)
	plan := engine.Compile(catalogue, noApproval())
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced}
	for _, bc := range []struct {
		name       string
		exceptions []*v1alpha1.ControlException
	}{
		{"none", nil},
		{"names", activeExceptions(now, ns, 1000, func(i int, s *v1alpha1.ControlExceptionSpec) {
			s.Checks = []string{"test-privileged"}
		})},
		{"selector", activeExceptions(now, ns, 1000, func(i int, s *v1alpha1.ControlExceptionSpec) {
			s.Checks, s.Match.Names = []string{"test-privileged"}, nil
			s.Match.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("no-such-app-%04d", i)}}
		})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var failing int
			for b.Loop() {
				ev := plan.Evaluate(inv, bc.exceptions, opts)
				failing = 0
				for _, s := range ev.Summaries {
					failing += s.Failing
				}
				for _, o := range ev.Exceptions {
					if o.Matched != 0 {
						b.Fatalf("%s covers %d findings", o.Key, o.Matched)
					}
				}
			}
			b.ReportMetric(float64(failing), "failing")
		})
	}
}

// BenchmarkWaiverPerFailingResult is the admission webhook's path: it judges one workload
// (Options.Only) and asks Evaluation.Waiver of each result its object left undecided; here of
// every failing result, beside 1,000 Active exceptions of the workload's namespace that match
// none of them.
func BenchmarkWaiverPerFailingResult(b *testing.B) {
	const ns = "team-000"
	gen := testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 1, FailingEvery: 1})
	objs := testgen.EngineObjects(gen)
	var subject *engine.Object
	for _, o := range objs {
		if o.Workload != nil {
			subject = o
		}
	}
	plan := engine.Compile(checks.Catalogue(), noApproval())
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	exs := activeExceptions(now, ns, 1000, func(i int, s *v1alpha1.ControlExceptionSpec) {
		s.Checks = []string{plan.Checks[i%len(plan.Checks)].ID}
	})
	inv := engine.NewInventory(objs, true)
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced,
		SkipClusterScoped: true, Only: subject}
	waivers := func(b *testing.B, ev *engine.Evaluation) int {
		failing := 0
		for i := range ev.Results {
			if r := &ev.Results[i]; r.Status == engine.StatusFail {
				failing++
				if ev.Waiver(r) != nil {
					b.Fatalf("%s on %s is waived", r.Check.ID, r.Object.Name)
				}
			}
		}
		return failing
	}
	// "evaluate" is the request: the evaluation and a Waiver of each failing result; "waiver"
	// the Waivers alone, of one evaluation.
	b.Run("evaluate", func(b *testing.B) {
		b.ReportAllocs()
		var failing int
		for b.Loop() {
			failing = waivers(b, plan.Evaluate(inv, exs, opts))
		}
		b.ReportMetric(float64(failing), "failing")
	})
	b.Run("waiver", func(b *testing.B) {
		ev := plan.Evaluate(inv, exs, opts)
		b.ReportAllocs()
		var failing int
		for b.Loop() {
			failing = waivers(b, ev)
		}
		b.ReportMetric(float64(failing), "failing")
	})
}

// BenchmarkAnExceptionInEachOfAThousandNamespaces: a whole-cluster evaluation of 1,000
// namespaces, each with one Active exception naming a criterion (its checks listed under each of
// them in the namespace's index). The index of each namespace keeps only the checks its
// exceptions name (a map): a list per check of the plan in every namespace made each evaluation
// 39.5 MB against 37.9 MB (2 cores, -benchtime 3x -count 3).
func BenchmarkAnExceptionInEachOfAThousandNamespaces(b *testing.B) {
	gen := testgen.Generate(testgen.Options{Namespaces: 1000, Workloads: 1000, FailingEvery: 1})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), noApproval())
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced}
	var exceptions []*v1alpha1.ControlException
	for i := range 1000 {
		exceptions = append(exceptions, activeExceptions(now, fmt.Sprintf("team-%03d", i), 1, func(_ int, s *v1alpha1.ControlExceptionSpec) {
			s.Criteria = []v1alpha1.Criterion{engine.Criteria[i%len(engine.Criteria)].ID}
		})...)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev := plan.Evaluate(engine.NewInventory(objs, true), exceptions, opts)
		if len(ev.Exceptions) != len(exceptions) {
			b.Fatalf("%d exceptions judged, want %d", len(ev.Exceptions), len(exceptions))
		}
	}
}

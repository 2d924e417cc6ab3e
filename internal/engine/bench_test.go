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

// BenchmarkEvaluate10000Workloads evaluates every built-in check over 10,000 generated
// workloads of mixed kinds in 100 namespaces, half of them failing many checks, with 1,000
// RBAC objects, network policies, disruption budgets, services and 100 exceptions. Run it with
// -cpu 1 for the one-core figure; the target is under one second per evaluation.
// keep-passing=false is the operator's mode (passes are counted, not kept); true is scan's.
func BenchmarkEvaluate10000Workloads(b *testing.B) {
	const workloads = 10000
	gen := testgen.Generate(testgen.Options{Namespaces: 100, Workloads: workloads, FailingEvery: 2, RBACObjects: 1000})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var exceptions []*v1alpha1.ControlException
	for i := 0; i < 100; i++ {
		exceptions = append(exceptions, &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ex-%d", i), Namespace: fmt.Sprintf("team-%03d", i)},
			Spec: v1alpha1.ControlExceptionSpec{
				Checks: []string{"wl-host-network"}, Reason: "benchmark exception", Owner: "bench",
				Expires: metav1.NewTime(now.Add(24 * time.Hour)),
				Match:   v1alpha1.ResourceMatch{Names: []string{"app-0*"}},
			},
		})
	}
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprintf("keep-passing=%v", keep), func(b *testing.B) {
			benchEvaluate(b, plan, objs, exceptions, engine.Options{Now: now, KeepPassing: keep}, workloads)
		})
	}
}

func benchEvaluate(b *testing.B, plan *engine.Plan, objs []*engine.Object, exceptions []*v1alpha1.ControlException, opts engine.Options, workloads int) {
	var results, failing int
	for b.Loop() {
		ev := plan.Evaluate(engine.NewInventory(objs, true), exceptions, opts)
		results = len(ev.Results)
		failing = 0
		for _, s := range ev.Summaries {
			failing += s.Failing
		}
	}
	b.ReportMetric(float64(workloads)*float64(b.N)/b.Elapsed().Seconds(), "workloads/s")
	b.ReportMetric(float64(len(objs)), "objects")
	b.ReportMetric(float64(results), "results")
	b.ReportMetric(float64(failing), "failing")
}

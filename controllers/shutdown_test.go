package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestAnEvaluationTheOperatorStopsIsNoFailure: a rollout, a drain or a lost lease stops the
// operator, cancelling the evaluation in flight, whose reads and writes then fail with "context
// canceled". That is not an evaluation that failed: the namespace was not found unassessable,
// the operator stopped looking, and the journal's operator.stopped and the next process's
// observation gap already say so. Before, the stop journaled the namespaces the evaluation had
// not reached as Unknown (criterion.changed -> Unknown, report.result Unknown), counted an
// evaluation error and logged a reconciler error, at every upgrade.
func TestAnEvaluationTheOperatorStopsIsNoFailure(t *testing.T) {
	metrics.Register()
	jctx, jcancel := context.WithCancel(context.Background())
	createNamespace(t, "jstop-a", map[string]string{"jstop": "true"})
	if err := k8s.Create(jctx, deployment("jstop-a", "web", false)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "jstop", "jstop", nil)
	waitWritten(t, "jstop-a", "jstop")

	// A reconciler of its own, journaling to a store of its own (which outlives the stop, so
	// that it shows whatever the stopped evaluation journaled). Once stopping is set, listing
	// Deployments is where the stop finds the evaluation: its context is cancelled there.
	var stopping atomic.Pointer[context.CancelFunc]
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if stop := stopping.Load(); stop != nil {
				if _, ok := list.(*appsv1.DeploymentList); ok {
					(*stop)()
				}
			}
			return cl.List(ctx, list, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	store, q, h, stopJournal := ownJournal(t, jctx, jcancel)
	r.journal = h
	defer stopJournal()
	req := ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatalf("the first evaluation: %v", err)
	}
	errorsBefore := evaluationsCounted(t, profile.Name, "error")

	for _, scope := range []string{"full", "namespace"} {
		rctx, rcancel := context.WithCancel(context.Background())
		stopping.Store(&rcancel)
		req := req
		if scope == "namespace" {
			req.Namespace = "jstop-a"
		}
		if _, err := r.Reconcile(rctx, req); err != nil {
			t.Errorf("%s evaluation stopped by the operator's stop: Reconcile returned %v (a reconciler error logged at every stop), want nil", scope, err)
		}
		stopping.Store(nil)
		rcancel()
	}
	if got := evaluationsCounted(t, profile.Name, "error") - errorsBefore; got != 0 {
		t.Errorf("soc2_operator_evaluations_total{outcome=error} rose by %v for evaluations the stop interrupted, want 0", got)
	}
	if !q.AddAndWait(jctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	for _, rec := range namespaceRecords(t, store, "jstop", "jstop-a") {
		switch {
		case rec.Type == journal.CriterionChanged && rec.Criterion.To == "Unknown":
			t.Errorf("the stop journaled %s %s -> Unknown", rec.Criterion.Criterion, rec.Criterion.From)
		case rec.Type == journal.ReportResult && rec.Report.Result == "Unknown":
			t.Errorf("the stop journaled the namespace's result Unknown")
		}
	}
}

// evaluationsCounted is soc2_operator_evaluations_total of the profile's full and namespace
// evaluations with that outcome.
func evaluationsCounted(t *testing.T, profile, outcome string) float64 {
	t.Helper()
	var sum float64
	for _, scope := range []string{"cluster", "namespace"} {
		m := &dto.Metric{}
		if err := metrics.Evaluations.WithLabelValues(profile, scope, outcome).Write(m); err != nil {
			t.Fatal(err)
		}
		sum += m.GetCounter().GetValue()
	}
	return sum
}

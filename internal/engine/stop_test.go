package engine_test

import (
	"context"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAnEvaluationWhoseCallerHasGoneStops: the admission webhook answers at the API server's
// deadline and leaves its judgement behind; an evaluation that ran on regardless let anyone who
// may dry-run a Pod pile up judgements that had nobody to answer to. Once Options.Context is
// done, no further check runs, and the evaluation says it stopped, so that nobody reads its
// results as complete.
func TestAnEvaluationWhoseCallerHasGoneStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := map[string]int{}
	check := func(id string, then func()) *engine.Check {
		return &engine.Check{ID: id, Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Targets: []string{"Deployment"}, Evaluate: func(c *engine.Context, _ *engine.Object) {
				ran[id]++
				c.Pass("")
				then()
			}}
	}
	// The caller gives up while the first check runs.
	plan := engine.Compile([]*engine.Check{check("test-first", cancel), check("test-second", func() {}), check("test-third", func() {})}, nil)
	web := deployment("shop", "web", nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{web}, true), nil, engine.Options{Now: now, KeepPassing: true, Context: ctx, Only: web})
	if ran["test-first"] != 1 || ran["test-second"]+ran["test-third"] != 0 {
		t.Errorf("checks run after the caller gave up: %v, want test-first alone", ran)
	}
	if !ev.Stopped {
		t.Errorf("an evaluation cut short reads as complete (Stopped false), with %d results", len(ev.Results))
	}

	// Without a context, or with one still live, every check runs and nothing says stopped.
	clear(ran)
	ev = plan.Evaluate(engine.NewInventory([]*engine.Object{web}, true), nil, engine.Options{Now: now, KeepPassing: true, Context: context.Background()})
	if len(ran) != 3 || ev.Stopped {
		t.Errorf("a live context: ran %v, stopped %v; want all three run, not stopped", ran, ev.Stopped)
	}
}

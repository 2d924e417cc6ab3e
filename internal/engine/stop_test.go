package engine_test

import (
	"context"
	"strings"
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

// TestACheckThatFindsItsCallerGoneIsCutShort: a check whose work grows with what the object
// holds asks Context.Stopped between its steps. Told true, what it reported is dropped for one
// NotAssessed result (engine.CutShort), the evaluation is Stopped and no later check runs;
// without Options.Context (the reports, scan) or with one still live it is never told true.
func TestACheckThatFindsItsCallerGoneIsCutShort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps, later := 0, 0
	costly := &engine.Check{ID: "test-costly", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
		Targets: []string{"Deployment"}, Evaluate: func(c *engine.Context, _ *engine.Object) {
			c.Fail("", "found on the way")
			for steps = 0; steps < 1000 && !c.Stopped(); steps++ {
				if steps == 10 {
					cancel() // the caller gives up while the check runs
				}
			}
			c.Pass("")
		}}
	after := &engine.Check{ID: "test-after", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
		Targets: []string{"Deployment"}, Evaluate: func(c *engine.Context, _ *engine.Object) { later++; c.Pass("") }}
	plan := engine.Compile([]*engine.Check{costly, after}, nil)
	web := deployment("shop", "web", nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{web}, true), nil, engine.Options{Now: now, KeepPassing: true, Context: ctx, Only: web})
	if steps != 11 || later != 0 {
		t.Errorf("the check took %d steps (want 11: it stops at the first question after the caller gave up), the next check ran %d times (want 0)", steps, later)
	}
	if !ev.Stopped || len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !strings.HasPrefix(ev.Results[0].Message, engine.CutShort) {
		t.Errorf("cut short: want Stopped and one NotAssessed result saying %q, got stopped=%v %+v", engine.CutShort, ev.Stopped, ev.Results)
	}

	for name, opts := range map[string]engine.Options{
		"without a caller":         {Now: now, KeepPassing: true},
		"with a caller that waits": {Now: now, KeepPassing: true, Context: context.Background()},
	} {
		costly.Evaluate = func(c *engine.Context, _ *engine.Object) {
			for steps = 0; steps < 1000 && !c.Stopped(); steps++ {
			}
			c.Pass("")
		}
		ev = engine.Compile([]*engine.Check{costly}, nil).Evaluate(engine.NewInventory([]*engine.Object{web}, true), nil, opts)
		if steps != 1000 || ev.Stopped || len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusPass {
			t.Errorf("%s: took %d steps of 1000, stopped=%v, results %+v; want every step and a pass", name, steps, ev.Stopped, ev.Results)
		}
	}
}

// TestAMemoComputedAfterItsCallerHasGoneIsKeptNowhere: a check's memo (Inventory.Memo) whose
// work grows with what a tenant wrote asks Inventory.Stopped between its steps and, told true,
// returns what it has read so far. That part must never be the memo's value: the check that
// asked is cut short, and a later evaluation of the same inventory, with or without a caller,
// computes the memo whole. Without a caller the memo is computed once and kept.
func TestAMemoComputedAfterItsCallerHasGoneIsKeptNowhere(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	computed := 0
	var got []int
	memoed := &engine.Check{ID: "test-memoed", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
		Targets: []string{"Deployment"}, Evaluate: func(c *engine.Context, _ *engine.Object) {
			got = c.Inventory.Memo(nil, "test.steps", func() any {
				computed++
				var read []int
				for i := range 1000 {
					if i == 10 {
						cancel() // a no-op once cancelled, or with a caller that waits
					}
					if c.Inventory.Stopped() {
						break
					}
					read = append(read, i)
				}
				return read
			}).([]int)
			c.Pass("")
		}}
	plan := engine.Compile([]*engine.Check{memoed}, nil)
	web := deployment("shop", "web", nil)
	inv := engine.NewInventory([]*engine.Object{web}, true)
	ev := plan.Evaluate(inv, nil, engine.Options{Now: now, KeepPassing: true, Context: ctx, Only: web})
	if len(got) != 10 || !ev.Stopped || len(ev.Results) != 1 || !strings.HasPrefix(ev.Results[0].Message, engine.CutShort) {
		t.Errorf("the memo read %d steps (want 10, then its caller had gone), stopped=%v, results %+v; want Stopped and cut short", len(got), ev.Stopped, ev.Results)
	}
	for _, opts := range []engine.Options{
		{Now: now, KeepPassing: true, Only: web},
		{Now: now, KeepPassing: true, Only: web, Context: context.Background()},
	} {
		got = nil
		ev = plan.Evaluate(inv, nil, opts)
		if len(got) != 1000 || ev.Stopped || ev.Results[0].Status != engine.StatusPass {
			t.Errorf("the same inventory judged again (context %v): the memo holds %d steps of 1000, stopped=%v; the part read for a caller that had gone was kept", opts.Context, len(got), ev.Stopped)
		}
	}
	if computed != 2 {
		t.Errorf("the memo was computed %d times: want 2 (cut short and kept nowhere, then whole and kept)", computed)
	}
}

package engine

import (
	"fmt"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Options are the inputs of an evaluation besides objects, plan and exceptions.
type Options struct {
	// Now is the evaluation time (exception expiry is judged against it). Inject it: the
	// engine never reads the clock.
	Now time.Time
	// AdminNamespace is the operator's namespace: its exceptions may select other namespaces.
	AdminNamespace string
	// SkipClusterScoped evaluates only namespaced objects (and Namespaces); cluster-scoped
	// objects are still used for lookups. The operator sets it when it re-evaluates one
	// namespace.
	SkipClusterScoped bool
}

// Result is the outcome of one check on one object and container.
type Result struct {
	// Check is the check as the profile runs it.
	Check *PlannedCheck
	// Object is the object judged; nil for TargetCluster checks.
	Object *Object
	// Container is the container judged, or "" for the object as a whole.
	Container string
	// Status is Pass, Fail, Excepted, NotApplicable or NotAssessed.
	Status Status
	// Message says what is wrong (Fail), or why the check did not decide.
	Message string
	// Exception is the exception that covers an Excepted result.
	Exception *ExceptionOutcome
}

// Namespace is the namespace a result belongs to: the object's, a Namespace's own name, or ""
// for cluster-scoped objects and cluster checks.
func (r *Result) Namespace() string { return resultNamespace(r.Object) }

func resultNamespace(o *Object) string {
	if o == nil {
		return ""
	}
	if o.Kind == "Namespace" {
		return o.Name
	}
	return o.Namespace
}

// Evaluation is everything one evaluation produced.
type Evaluation struct {
	// Plan is the plan evaluated.
	Plan *Plan
	// Results are every result, in the order of objects and then checks.
	Results []Result
	// Exceptions are the outcomes of every exception given, sorted by namespace/name.
	Exceptions []*ExceptionOutcome
	// Summaries are the roll-ups by namespace; "" holds cluster-scoped objects and cluster
	// checks.
	Summaries map[string]*Summary
}

// Evaluate runs the plan over the inventory and applies the exceptions.
func (p *Plan) Evaluate(inv *Inventory, exceptions []*v1alpha1.ControlException, opts Options) *Evaluation {
	results := make([]Result, 0, len(inv.objects)*16)
	ctx := &Context{Inventory: inv, Params: &p.Params, out: &results}
	resources := map[string]int{}

	for _, o := range inv.objects {
		if o.ownedByController {
			continue
		}
		ns := resultNamespace(o)
		if opts.SkipClusterScoped && ns == "" {
			continue
		}
		byKind := p.byTarget[o.Kind]
		var forWorkload []*PlannedCheck
		if o.Workload != nil {
			forWorkload = p.forWorkload
		}
		if len(byKind) == 0 && len(forWorkload) == 0 {
			continue
		}
		resources[ns]++
		ctx.obj = o
		for _, c := range byKind {
			if c.ManifestOnly && inv.Complete {
				continue
			}
			p.run(ctx, c)
		}
		for _, c := range forWorkload {
			p.run(ctx, c)
		}
	}
	if !opts.SkipClusterScoped {
		ctx.obj = nil
		for _, c := range p.forCluster {
			p.run(ctx, c)
		}
	}

	outcomes := make([]*ExceptionOutcome, 0, len(exceptions))
	for _, ex := range exceptions {
		outcomes = append(outcomes, p.JudgeException(ex, ExceptionOptions{Now: opts.Now, AdminNamespace: opts.AdminNamespace}))
	}
	sortOutcomes(outcomes)
	if idx := newExceptionIndex(outcomes); len(idx.byNamespace)+len(idx.everywhere) > 0 {
		for i := range results {
			r := &results[i]
			if r.Status != StatusFail {
				continue
			}
			if e := idx.find(r); e != nil {
				r.Status, r.Exception = StatusExcepted, e
				e.Matched++
				e.MatchedByNamespace[r.Namespace()]++
			}
		}
	}

	ev := &Evaluation{Plan: p, Results: results, Exceptions: outcomes}
	ev.Summaries = summarize(p, results, resources)
	return ev
}

// run calls one check on ctx's object. A check that panics or reports nothing yields a
// NotAssessed result that says so: one broken check never stops the others.
func (p *Plan) run(ctx *Context, c *PlannedCheck) {
	ctx.check = c
	before := len(*ctx.out)
	defer func() {
		if v := recover(); v != nil {
			*ctx.out = (*ctx.out)[:before]
			ctx.NotAssessed("", fmt.Sprintf("internal error in check %s: %v", c.ID, v))
		}
	}()
	c.Evaluate(ctx, ctx.obj)
	if len(*ctx.out) == before {
		ctx.NotAssessed("", "the check reported no result")
	}
}

package engine

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// DefaultAdminNamespace is the operator's namespace in the default install (config/default):
// the `manager` and `scan` commands take it when told no other.
const DefaultAdminNamespace = "soc2-operator-system"

// Options are the inputs of an evaluation besides objects, plan and exceptions.
type Options struct {
	// Now is the evaluation time (exception expiry is judged against it). Inject it: the
	// engine never reads the clock.
	Now time.Time
	// AdminNamespace is the operator's namespace: its exceptions may select other namespaces.
	AdminNamespace string
	// Approval says whether approvals on exceptions can be trusted (see ApprovalTrust; the zero
	// value trusts none).
	Approval ApprovalTrust
	// ApprovalProblem says why approvals are not trusted, for the exceptions' messages.
	ApprovalProblem string
	// ApprovalsSince is when the admission policies came into force (ExceptionOptions).
	ApprovalsSince time.Time
	// SkipClusterScoped evaluates only namespaced objects (and Namespaces); cluster-scoped
	// objects are still used for lookups. The operator sets it when it re-evaluates one
	// namespace.
	SkipClusterScoped bool
	// OnlyNamespace, when set, judges the objects of that namespace alone (its Namespace
	// object included) besides the cluster-scoped ones: objects of other namespaces are there
	// for lookups (the Gateway of another namespace a route attaches to). The operator sets it
	// when it evaluates one namespace. Only the exceptions that can cover an object of that
	// namespace are judged then (Evaluation.Exceptions): those in it and those in
	// AdminNamespace, the only one whose exceptions may select other namespaces. The others
	// waive nothing there, and judging each again at every namespace's evaluation made
	// one tenant's thousands of exceptions cost every other namespace's evaluation.
	OnlyNamespace string
	// KeepPassing keeps Pass and NotApplicable results in Evaluation.Results. Without it they
	// are only counted, which keeps a large cluster's evaluation small; failing, excepted and
	// undecided results are always kept.
	KeepPassing bool
	// FindingsOnly keeps only Fail and Excepted results in Evaluation.Results: undecided
	// (NotAssessed) ones are then counted in the summaries and not kept either, for a caller
	// that lists only findings (scan without --show all), but for custom checks' results that
	// the object decided (Result.FailedOnObject), which such a caller counts as failing. It
	// overrides KeepPassing.
	FindingsOnly bool
	// CustomCheckTimeout bounds one evaluation of a custom check; 0 means
	// DefaultCustomCheckTimeout.
	CustomCheckTimeout time.Duration
	// Withheld are the fields the objects given lack though the API server holds them (the
	// operator's informer cache drops some: controllers.CacheOptions). A custom check may read
	// any field; one whose result depends on a withheld field is NotAssessed, naming the field,
	// rather than judged on an object without it.
	Withheld []WithheldField
	// KubernetesKind reports whether Kubernetes itself serves kind (scan and the operator set
	// it: the operator reads Calico's NetworkPolicies). A custom check's kinds are bare names,
	// and one of such a kind names Kubernetes' own: it does not judge a custom resource of
	// another group that reuses the name (example.com/v1 Deployment, serving.knative.dev/v1
	// Service, projectcalico.org/v3 NetworkPolicy).
	KubernetesKind func(kind string) bool
	// NoSummaryFindings leaves every Summary's Findings empty, for a caller that lists and
	// orders the evaluation's findings itself (scan): at 20,000 objects listing and sorting
	// them per namespace took about 40 ms that nothing read.
	NoSummaryFindings bool
	// Only, when set, judges that object alone; the others in the inventory are still read by
	// the checks that look across objects. The admission webhook judges one workload this way:
	// judging every object in its namespace made each request cost as much as the namespace's
	// largest objects (ConfigMaps scanned for credentials), and a request that outlasts the
	// webhook's timeout is left to its failurePolicy.
	Only *Object
	// Context, when set, stops Plan.Evaluate once it is done: no check starts after that, a
	// custom check's expression running then is cut short, and the evaluation is marked
	// Stopped. The admission webhook passes its request's: it answers at the API server's
	// deadline, and a judgement that ran on after it had nobody to answer to. A Stream does not
	// read it.
	Context context.Context
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
	// Exception is the exception that covers an Excepted result, or, for a NotAssessed result
	// its object decided (FailedOnObject), the one that would waive it were it a failure
	// (Evaluation.Waived).
	Exception *ExceptionOutcome
	// Unread marks a NotAssessed result that is NotAssessed because the object holds more than
	// the operator reads of it (a bound on what the object's author writes: a workload's long
	// env values or command lines past what gitleaks' rules read in the operator, a digested
	// ConfigMap's keys past the cache's bound, a field the cache trimmed that a custom check
	// reads), never for data the operator lacks (no Trivy report, no registry access, a kind it
	// cannot read). Its object decided it (FailedOnObject): the reports list it among the
	// findings, its criterion fails closed on it (CriterionStatus.Unread) unless an exception
	// waives it, and the score does not count its check as held. Context.Unread sets it.
	Unread bool
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

// Reaches reports whether an exception in namespace ns can cover what an evaluation with these
// options judges: any can, unless OnlyNamespace is set; then only one in that namespace or in
// AdminNamespace.
func (o *Options) Reaches(ns string) bool {
	return o.OnlyNamespace == "" || ns == o.OnlyNamespace || ns == o.AdminNamespace
}

// Evaluation is everything one evaluation produced.
type Evaluation struct {
	// Plan is the plan evaluated.
	Plan *Plan
	// Results are the results in the order of objects and then checks: every one with
	// Options.KeepPassing, only failing and excepted ones with Options.FindingsOnly, else all
	// but passes and NotApplicable ones (the others are counted in the summaries).
	Results []Result
	// Exceptions are the outcomes of every exception given, sorted by namespace/name; with
	// Options.OnlyNamespace, of those that can cover its objects (Options.Reaches).
	Exceptions []*ExceptionOutcome
	// Summaries are the roll-ups by namespace; "" holds cluster-scoped objects and cluster
	// checks.
	Summaries map[string]*Summary
	// Options are the options the evaluation was made with (its time, whether passes were kept).
	Options Options
	// Unseen are the kinds the evaluation could not read (Inventory.Unseen) that a check of the
	// plan judges or reads (Plan.Unseen): the others take nothing from it.
	Unseen map[string]Unseen
	// Stopped is true when Options.Context was done before every check had run: the results
	// and summaries are incomplete, and nothing may be read from them as a verdict.
	Stopped bool

	// waivers indexes the Active exceptions, as the evaluation matched failures with them, for
	// Waiver. Built before the evaluation, and only read after it: an Evaluation read by several
	// goroutines shares it safely.
	waivers *exceptionIndex
}

// Evaluate runs the plan over the inventory and applies the exceptions.
func (p *Plan) Evaluate(inv *Inventory, exceptions []*v1alpha1.ControlException, opts Options) *Evaluation {
	judged := len(inv.objects)
	if opts.Only != nil {
		judged = 1
	}
	b := p.newBuilder(exceptions, opts, judged*4)
	ctx := &Context{Inventory: inv, Params: &p.Params, customTimeout: opts.CustomCheckTimeout, withheld: opts.Withheld, now: opts.Now}
	if opts.Context != nil {
		ctx.caller = opts.Context
		ctx.gone = opts.Context.Done()
		// The checks' memos stop with the caller too, and keep nothing computed once it has
		// gone (Inventory.Memo).
		ctx.Inventory = inv.viewedBy(ctx.Stopped)
	}
	for _, o := range inv.objects {
		if opts.Only == nil || o == opts.Only {
			b.judge(ctx, o, true)
		}
	}
	b.ev.Unseen = p.Unseen(inv.Unseen)
	if opts.Only == nil && len(b.ev.Unseen) > 0 {
		b.judgeUnseen(ctx)
	}
	b.finish(ctx)
	// cut: a memo computed outside a check found the caller gone (Inventory.Memo).
	b.ev.Stopped = ctx.halted || ctx.cut
	return b.ev
}

// newBuilder starts an evaluation: the exceptions judged, and room for about results results.
func (p *Plan) newBuilder(exceptions []*v1alpha1.ControlException, opts Options, results int) *builder {
	outcomes := make([]*ExceptionOutcome, 0, len(exceptions))
	for _, ex := range exceptions {
		if !opts.Reaches(ex.Namespace) {
			continue
		}
		outcomes = append(outcomes, p.JudgeException(ex, ExceptionOptions{Now: opts.Now, AdminNamespace: opts.AdminNamespace,
			Approval: opts.Approval, ApprovalProblem: opts.ApprovalProblem, ApprovalsSince: opts.ApprovalsSince}))
	}
	sortOutcomes(outcomes)
	ev := &Evaluation{Plan: p, Exceptions: outcomes, Summaries: map[string]*Summary{}, Options: opts}
	b := &builder{ev: ev, keepPassing: opts.KeepPassing, findingsOnly: opts.FindingsOnly, results: make([]Result, 0, results),
		internMessages: true}
	ev.waivers = newExceptionIndex(p, outcomes)
	if !ev.waivers.empty() {
		b.exceptions = ev.waivers
	}
	if idx := indexExceptions(p, judgedPending(outcomes), v1alpha1.ExceptionPendingApproval); !idx.empty() {
		b.pending = idx
	}
	return b
}

// finish runs the cluster checks and settles the summaries: the end of every evaluation.
func (b *builder) finish(ctx *Context) {
	b.judgeCluster(ctx)
	b.settle()
}

// judgeCluster runs the cluster checks (unless Options.SkipClusterScoped).
func (b *builder) judgeCluster(ctx *Context) {
	if b.ev.Options.SkipClusterScoped {
		return
	}
	ctx.obj, ctx.note = nil, ""
	sum := b.summary("")
	for _, c := range b.ev.Plan.forCluster {
		b.scratch = run(ctx, c, b.scratch[:0])
		for i := range b.scratch {
			b.commit(&b.scratch[i], sum)
		}
	}
}

// settle makes the results kept the evaluation's and settles the summaries.
func (b *builder) settle() {
	ev, p := b.ev, b.ev.Plan
	ev.Results = b.results
	if !ev.Options.NoSummaryFindings {
		for i := range ev.Results {
			r := &ev.Results[i]
			if r.Status == StatusFail || r.Status == StatusExcepted || r.FailedOnObject() {
				s := ev.Summaries[r.Namespace()]
				s.Findings = append(s.Findings, r)
			}
		}
	}
	b.messages = nil // the results keep the messages
	finishSummaries(ev.Summaries, p)
}

// finishSummaries settles every summary, on up to GOMAXPROCS goroutines: each sorts its own
// findings (at 20,000 objects, 86,000 of them in a few hundred namespaces), reading only the
// plan.
func finishSummaries(summaries map[string]*Summary, p *Plan) {
	workers := min(runtime.GOMAXPROCS(0), len(summaries))
	if workers <= 1 {
		// The operator's re-evaluation of one namespace: no goroutine for one summary.
		for _, s := range summaries {
			s.finish(p)
		}
		return
	}
	work := make(chan *Summary, len(summaries))
	for _, s := range summaries {
		work <- s
	}
	close(work)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for s := range work {
				s.finish(p)
			}
		})
	}
	wg.Wait()
}

// judge runs every check that targets o, unless o is judged through its controller, and
// commits the results. With listed, o is appended to its summary's Objects (a Stream lists them
// itself, in input order). It reports whether o was judged.
func (b *builder) judge(ctx *Context, o *Object, listed bool) (*Summary, bool) {
	var judged bool
	b.scratch, judged = b.evaluate(ctx, o, allChecks, b.scratch[:0])
	if !judged {
		return nil, false
	}
	return b.commitObject(o, b.scratch, listed), true
}

// checkSet is which of the checks that target an object evaluate runs: a Stream judges a
// workload's local checks as it is added and the others at the end (Stream.Compact).
type checkSet uint8

const (
	allChecks checkSet = iota
	localChecks
	crossObjectChecks
)

func (set checkSet) runs(c *PlannedCheck) bool {
	switch set {
	case localChecks:
		return c.Local()
	case crossObjectChecks:
		return !c.Local()
	}
	return true
}

// checksFor returns the checks that target o, in the order evaluate runs them: those of its
// kind, then (for a workload) those of every workload and those that judge its pod template.
func (p *Plan) checksFor(o *Object) (byKind, forWorkload []*PlannedCheck) {
	if o.Workload != nil {
		forWorkload = p.forWorkload
		if t, ok := p.forTemplates[o.Kind]; ok {
			forWorkload = t
		}
	}
	return p.byTarget[o.Kind], forWorkload
}

// evaluate runs the checks of set that target o, unless o is judged through its controller,
// and appends their results to out as the checks gave them: before exceptions, tallies and the
// choice of what to keep (commitObject). It reads the plan and options only, so that several
// goroutines may evaluate different objects at once, each with its own Context (the Inventory
// they share is safe for that). It reports whether o is judged: whether any check targets it,
// whichever set runs.
func (b *builder) evaluate(ctx *Context, o *Object, set checkSet, out []Result) ([]Result, bool) {
	p, inv := b.ev.Plan, ctx.Inventory
	ctx.note = ""
	if o.controllerRef != nil {
		pv := inv.Provenance(o)
		switch {
		case pv.Idle:
			return out, false
		case pv.Explained:
			return b.evaluateExplained(ctx, o, set, out)
		}
		ctx.note = " (judged on its own: " + pv.Reason + ")"
	}
	if ns := resultNamespace(o); b.ev.Options.SkipClusterScoped && ns == "" ||
		b.ev.Options.OnlyNamespace != "" && ns != "" && ns != b.ev.Options.OnlyNamespace {
		return out, false
	}
	byKind, forWorkload := p.checksFor(o)
	if len(byKind) == 0 && len(forWorkload) == 0 {
		return out, false
	}
	ctx.obj = o
	foreign := b.ev.Options.KubernetesKind != nil && !kubernetesGroup(o.APIVersion) && b.ev.Options.KubernetesKind(o.Kind)
	for _, c := range byKind {
		if (c.ManifestOnly && inv.Complete) || !set.runs(c) || (foreign && c.Custom) {
			continue
		}
		out = run(ctx, c, out)
	}
	for _, c := range forWorkload {
		if set.runs(c) {
			out = run(ctx, c, out)
		}
	}
	return out, true
}

// evaluateExplained runs on o, which its controller's template explains, the custom checks that
// target it: those of its kind, of every workload, and those that judge its pod template as the
// Pods it makes. A custom check reads any field, and the template explains only what the built-in
// checks read:
//
//   - a check that does not target the kind of the object o is judged as (Inventory.JudgedAs),
//     nor every workload, judges o itself (a check the profile writes for Pods judges the Pods
//     of every controller, not bare Pods alone);
//   - a check that does is answered by that controller's verdict, but not for what the template
//     does not decide (a Pod's hostAliases or nodeName, a Job's activeDeadlineSeconds, a
//     ReplicaSet's minReadySeconds, the object's own annotations), which anyone who can create
//     o may write naming the controller: where o fails it (or the check fails on o,
//     FailedOnObject) and what its controller makes of its template does not (madeFails), o is
//     judged itself by it. The objects a controller makes, and those that fail as their
//     template does, are not listed again with their controller.
func (b *builder) evaluateExplained(ctx *Context, o *Object, set checkSet, out []Result) ([]Result, bool) {
	byKind, forWorkload := b.ev.Plan.checksFor(o)
	custom := func(c *PlannedCheck) bool { return c.Custom }
	if !slices.ContainsFunc(byKind, custom) && !slices.ContainsFunc(forWorkload, custom) {
		return out, false
	}
	as := ctx.Inventory.JudgedAs(o).Kind
	owner := ctx.Inventory.Provenance(o).Owner
	judged := false
	ctx.obj = o
	for i, list := range [...][]*PlannedCheck{byKind, forWorkload} {
		for _, c := range list {
			if !c.Custom {
				continue
			}
			answered := i == 1 || slices.Contains(c.Targets, as) || (IsWorkloadKind(as) && slices.Contains(c.Targets, KindWorkload))
			if !answered {
				judged = true
				if set.runs(c) {
					out = run(ctx, c, out)
				}
				continue
			}
			if !set.runs(c) {
				continue
			}
			if b.passesAsMade(ctx, c, o, owner) {
				// It holds what its controller makes wherever the check reads, and that passes.
				continue
			}
			start := len(out)
			out = run(ctx, c, out)
			if !anyFailure(out[start:]) {
				out = out[:start]
				continue
			}
			note := " (judged on its own: it fails the check where what " + owner.Kind + " " + owner.Name + "'s template makes passes it)"
			if !stoppedOn(out[start:]) && b.madeFails(ctx, c, o, owner) {
				if !namesKindOf(c, o) || b.ownerFails(ctx, c, owner) {
					out = out[:start]
					continue
				}
				note = " (judged on its own: it fails the check as what " + owner.Kind + " " + owner.Name + "'s template makes does, and " +
					owner.Kind + " " + owner.Name + " passes it)"
			}
			for i := start; i < len(out); i++ {
				if out[i].Status == StatusFail {
					out[i].Message += note
				}
			}
			judged = true
		}
	}
	return out, judged
}

// anyFailure reports whether one of results fails its object: a Fail, or a check that failed on
// the object (FailedOnObject).
func anyFailure(results []Result) bool {
	for i := range results {
		if results[i].Status == StatusFail || results[i].FailedOnObject() {
			return true
		}
	}
	return false
}

// stoppedOn reports whether a custom check ran out of time on the object, or was not run on it
// because it ran out of time earlier in the evaluation (ExpressionStopped, but for the cost
// limit): the check is then not run on what the object's controller makes either, which cannot
// vouch for the object. An expression stopped at the cost limit on both is stopped by what the
// template holds, and is answered for by the controller like any other failure of both.
func stoppedOn(results []Result) bool {
	for i := range results {
		if r := &results[i]; r.Status == StatusNotAssessed && strings.HasPrefix(r.Message, ExpressionStopped) &&
			!strings.HasPrefix(r.Message, ExpressionStopped+costLimitExceeded) {
			return true
		}
	}
	return false
}

// namesKindOf reports whether custom check c names o's kind itself, or judges o as the Pods it
// makes (asPod): of kinds [Pod, Deployment], a Pod and a ReplicaSet, not the Pods of [Workload].
// A check that does not leaves the objects a controller makes to the controller's verdict, as
// every check does (the owning controller is judged, not each revision or Pod it made), but for
// what they fail that what the controller makes does not (evaluateExplained).
func namesKindOf(c *PlannedCheck, o *Object) bool {
	return slices.Contains(c.Targets, o.Kind) || asPod(c.Targets, o)
}

// ownerFails reports whether custom check c fails owner, the controller that explains an
// object, as the evaluation judges owner (its own kind's branch, or the Pods its template makes),
// once per owner and check in an evaluation. An explained object's failure that what owner makes
// shares is answered for by owner, where the check names the object's kind (namesKindOf), only
// when owner fails the check too: a check of kinds [Pod, Deployment] may judge each kind by a
// branch of its own (object.kind == 'Pod' ? ... : ...), and a Deployment that passes its branch
// answers for no Pod that fails the Pod branch. A failing
// owner is listed, or, explained itself, answered for in turn by its own controller (which then
// fails): the failure is shown once, where the chain first fails. A check that does not judge
// owner (it is not among the checks that target it) answers for nothing.
func (b *builder) ownerFails(ctx *Context, c *PlannedCheck, owner *Object) bool {
	key := madeKey{owner, c}
	if v, ok := ctx.ownerFail[key]; ok {
		return v
	}
	fails := false
	if byKind, forWorkload := b.ev.Plan.checksFor(owner); slices.Contains(byKind, c) || slices.Contains(forWorkload, c) {
		savedObj, savedNote := ctx.obj, ctx.note
		ctx.obj, ctx.note = owner, ""
		fails = anyFailure(run(ctx, c, nil))
		ctx.obj, ctx.note = savedObj, savedNote
	}
	if ctx.ownerFail == nil {
		ctx.ownerFail = map[madeKey]bool{}
	}
	ctx.ownerFail[key] = fails
	return fails
}

// madeKey names a custom check's verdict on what a controller makes.
type madeKey struct {
	owner *Object
	check *PlannedCheck
}

// madeFails reports whether custom check c fails what owner makes of its template as an object
// of o's kind (madeBy), once per owner and check in an evaluation. What cannot be made fails
// nothing: o is then judged itself.
func (b *builder) madeFails(ctx *Context, c *PlannedCheck, o, owner *Object) bool {
	return b.madeVerdict(ctx, c, o, owner).fails
}

// madeVerdict is custom check c's verdict on what owner makes of its template as an object of
// o's kind (madeBy), once per owner and check in an evaluation.
func (b *builder) madeVerdict(ctx *Context, c *PlannedCheck, o, owner *Object) madeResult {
	key := madeKey{owner, c}
	if v, ok := ctx.made[key]; ok {
		return v
	}
	var v madeResult
	if made := madeBy(owner, o); made != nil {
		saved := ctx.obj
		ctx.obj = made
		results := run(ctx, c, nil)
		ctx.obj = saved
		v.fails = anyFailure(results)
		v.passes = len(results) > 0 && !slices.ContainsFunc(results, func(r Result) bool { return r.Status != StatusPass })
	}
	if ctx.made == nil {
		ctx.made = map[madeKey]madeResult{}
	}
	ctx.made[key] = v
	return v
}

// madeResult is a custom check's verdict on what a controller makes: it fails it (Fail, or
// FailedOnObject), or it passes it (every result Pass), or neither (undecided, or not made).
type madeResult struct{ fails, passes bool }

// passesAsMade reports whether custom check c passes Pod o without converting it for CEL: o
// holds what owner's template makes of it (podOfTemplate) at every path the expression reads
// under `object` and `podSpec` (samePodAtReads, on the typed objects), and that passes the
// check. The expression then sees the same values in both and gives the same verdict: at 1,000
// Pods of a ReplicaSet under a check of every workload, converting each Pod (ToUnstructured) was
// 70% of the evaluation. Where anything could make the two differ (a withheld field, an
// expression that ran out of time, an object read whole, a field the template does not decide,
// objects not typed) o is judged itself, as before.
func (b *builder) passesAsMade(ctx *Context, c *PlannedCheck, o, owner *Object) bool {
	pod, ok := o.Obj.(*corev1.Pod)
	if !ok || o.Kind != "Pod" || o.APIVersion != "v1" || c.custom == nil || len(o.Withheld) > 0 || len(owner.Withheld) > 0 {
		return false
	}
	tpl := typedTemplate(owner.Obj)
	if tpl == nil {
		return false
	}
	if _, stopped := ctx.stopped[c]; stopped || len(withheldOf(ctx.withheld, o.Kind, c.custom.reads)) > 0 {
		return false
	}
	if !samePodAtReads(pod, owner, tpl, c.custom) {
		return false
	}
	return b.madeVerdict(ctx, c, o, owner).passes
}

// commitSplit commits the results of an object whose local checks were judged when it was
// added (local: their results, committed then and kept) and whose other checks were judged at
// the end (crossObject: their results as evaluate gave them), in the order evaluate gives every
// check of the object: each check's results where a single evaluation would have put them.
func (b *builder) commitSplit(o *Object, local, crossObject []Result, sum *Summary) {
	i, j := 0, 0
	next := func(c *PlannedCheck) {
		if c.Local() {
			for ; i < len(local) && local[i].Check == c; i++ {
				b.results = append(b.results, local[i])
			}
			return
		}
		for ; j < len(crossObject) && crossObject[j].Check == c; j++ {
			b.commit(&crossObject[j], sum)
		}
	}
	byKind, forWorkload := b.ev.Plan.checksFor(o)
	for _, c := range byKind {
		next(c)
	}
	for _, c := range forWorkload {
		next(c)
	}
	if i != len(local) || j != len(crossObject) {
		// A check listed twice for the kind (Stream.Compact splits no such kind) or a result
		// of a check that does not target the object: nothing a plan makes.
		panic(fmt.Sprintf("engine: the results of %s do not follow its checks (%d of %d local, %d of %d others placed)",
			o.Ref(), i, len(local), j, len(crossObject)))
	}
}

// commitObject counts o in its namespace's summary (listed: in its Objects too) and commits
// the results evaluate gave for it, in order.
func (b *builder) commitObject(o *Object, results []Result, listed bool) *Summary {
	sum := b.summary(resultNamespace(o))
	sum.Resources++
	if listed {
		sum.Objects = append(sum.Objects, objectID(o))
	}
	for i := range results {
		b.commit(&results[i], sum)
	}
	return sum
}

func objectID(o *Object) ObjectID {
	return ObjectID{Kind: o.Kind, Name: o.Name, Group: IdentityGroup(o.APIVersion), Workload: o.Workload != nil}
}

// builder accumulates an evaluation: it applies exceptions as results come in, tallies them
// per namespace, and keeps the results worth keeping.
type builder struct {
	ev         *Evaluation
	exceptions *exceptionIndex
	// pending indexes the PendingApproval exceptions, for what each would cover were it
	// approved (ExceptionOutcome.WouldCover); nil when there is none.
	pending *exceptionIndex
	// wouldTable holds the findings the pending exceptions would cover, once each.
	wouldTable  *[]CoveredItem
	keepPassing bool
	// findingsOnly is Options.FindingsOnly: only Fail and Excepted results are kept (and those
	// Result.FailedOnObject).
	findingsOnly bool
	results      []Result
	scratch      []Result
	// messages holds one copy of each message of the results kept (intern), when
	// internMessages: a Stream's builder does not intern, because the stream keeps one copy of
	// each message anyway when it packs its results (resultTable).
	messages       map[string]string
	internMessages bool
}

// intern returns the copy of msg the evaluation already keeps, if any, so that the results kept
// share it. Checks format a fresh message for every object, and most are the same words for
// many objects ("no PodDisruptionBudget selects its pods"): in the corpus, 1,875 different
// messages among 12,837 results kept; at 99,954 objects the messages were 32 MB of the 242 MB
// live once the end of a scan had judged every object.
func (b *builder) intern(msg string) string {
	if msg == "" {
		return msg
	}
	if kept, ok := b.messages[msg]; ok {
		return kept
	}
	if b.messages == nil {
		b.messages = map[string]string{}
	}
	b.messages[msg] = msg
	return msg
}

func (b *builder) summary(ns string) *Summary {
	s := b.ev.Summaries[ns]
	if s == nil {
		s = newSummary(b.ev.Plan, ns)
		b.ev.Summaries[ns] = s
	}
	return s
}

// run calls one check on ctx's object and appends its results to out. A check that panics or
// reports nothing yields a NotAssessed result that says so: one broken check never stops the
// others.
func run(ctx *Context, c *PlannedCheck, out []Result) []Result {
	if ctx.gone != nil {
		select {
		case <-ctx.gone:
			// The caller has gone (Options.Context): the check does not run, and the
			// evaluation is marked Stopped.
			ctx.halted = true
			return out
		default:
		}
	}
	ctx.check, ctx.out, ctx.cut, ctx.looked = c, out, false, ctx.looked[:0]
	start := len(out)
	func() {
		defer func() {
			if v := recover(); v != nil {
				ctx.out = ctx.out[:start]
				ctx.NotAssessed("", fmt.Sprintf("%s%s: %v", InternalError, c.ID, v))
			}
		}()
		c.Evaluate(ctx, ctx.obj)
	}()
	if ctx.cut {
		// The check found its caller gone (Context.Stopped) and returned with what it had
		// read so far, which is no verdict: one NotAssessed result, and the evaluation is
		// Stopped.
		ctx.halted, ctx.cut = true, false
		ctx.out = ctx.out[:start]
		ctx.NotAssessed("", CutShort+"the caller stopped waiting for the evaluation (the admission webhook's request was answered at its deadline)")
		out, ctx.out = ctx.out, nil
		return out
	}
	if len(ctx.out) == start {
		ctx.NotAssessed("", "the check reported no result")
	}
	out, ctx.out = ctx.out, nil
	why, keepFail := "", false
	switch {
	case !c.ReadsLooked:
		why = ctx.Inventory.unseenReads(c)
	case len(ctx.looked) > 0 && len(ctx.Inventory.Unseen) > 0:
		slices.Sort(ctx.looked)
		why = unseenAmong(ctx.Inventory.Unseen, slices.Compact(ctx.looked), anyUnseen)
		// A check that looks objects up by name fails on what it read, never on an object it
		// did not find (Check.ReadsLooked): its failures stand without the unseen kind. Made
		// NotAssessed, a namespace admin who added a ConfigMap reference to a failing Ingress
		// (net-ingress-snippets' auth-proxy-set-headers) hid its snippet's failure.
		keepFail = true
	}
	if why != "" {
		for i := start; i < len(out); i++ {
			if out[i].Status == StatusPass || out[i].Status == StatusFail && !keepFail {
				out[i].Status, out[i].Message = StatusNotAssessed, Truncate(Printable(why))
			}
		}
	}
	if ctx.note != "" {
		for i := start; i < len(out); i++ {
			if out[i].Status == StatusFail {
				out[i].Message += ctx.note
			}
		}
	}
	return out
}

// commit applies exceptions to a result, tallies it and keeps it unless it is a pass (or not
// applicable) that nobody asked to keep.
func (b *builder) commit(r *Result, sum *Summary) {
	if r.Status == StatusFail && b.exceptions != nil {
		if e := b.exceptions.find(r); e != nil {
			r.Status, r.Exception = StatusExcepted, e
			e.Matched++
			e.MatchedByNamespace[sum.Namespace]++
		}
	}
	if b.exceptions != nil && r.FailedOnObject() {
		// The exception that would waive it were it a failure (Evaluation.Waived), found now,
		// while the object is whole: a scan lets objects go before it writes its outputs, and
		// what it keeps of them has no labels for an exception's labelSelector to match. It
		// covers the finding, as it covers a failure it waives: counted in neither, the
		// report's exceptions said it covered none (unused) beside the excepted finding that
		// names it.
		e := b.exceptions.find(r)
		r.Exception = e
		if e != nil {
			e.Matched++
			e.MatchedByNamespace[sum.Namespace]++
			e.UndecidedByNamespace[sum.Namespace]++
		}
	}
	if b.pending != nil && r.Object != nil && (r.Status == StatusFail || r.Status == StatusExcepted || r.FailedOnObject()) {
		// Found now too, while the object is whole (its labels).
		if b.wouldTable == nil {
			b.wouldTable = &[]CoveredItem{}
		}
		b.pending.wouldCover(r, b.wouldTable)
	}
	t := &sum.tallies[r.Check.index]
	switch {
	case r.Unread && r.Status == StatusNotAssessed && r.Exception == nil:
		// Undecided because the object holds more than the operator reads of it (a bound its
		// author can reach on purpose, padding a literal credential out of what is read): its
		// result stays NotAssessed, naming what was not read, and its criterion fails closed on
		// it (CriterionStatus.Unread), apart from the failures it counts. Counted as undecided,
		// the padded workload left CC6.1 Pass and its namespace Compliant.
		t.unread++
		sum.Unread++
		sum.UnreadBySeverity[r.Check.Severity]++
		sum.NotAssessed++
	case r.FailedOnObject() && r.Exception != nil:
		// Undecided by its object, and waived as its failure would be: excepted, as the
		// admission webhook admits it and scan's gate passes it.
		t.excepted++
		sum.Excepted++
	case r.FailedOnObject():
		// Undecided by its object (a custom check's expression it stopped or broke, a check
		// that crashed on it): its result stays NotAssessed, with the reason, but it counts as
		// failing, as the admission webhook refuses it and scan's gate fails it. Counted as
		// undecided, an object that left out the field an expression compares made its
		// criterion Pass and its namespace Compliant, where the same object with a wrong value
		// made them Fail and NonCompliant.
		t.fail++
		sum.Failing++
		sum.FailingBySeverity[r.Check.Severity]++
	case r.Status == StatusPass:
		t.pass++
		sum.Passed++
	case r.Status == StatusFail:
		t.fail++
		sum.Failing++
		sum.FailingBySeverity[r.Check.Severity]++
	case r.Status == StatusExcepted:
		t.excepted++
		sum.Excepted++
	case r.Status == StatusNotAssessed:
		t.notAssessed++
		sum.NotAssessed++
	case r.Status == StatusNotApplicable:
		sum.NotApplicable++
	}
	switch {
	case b.findingsOnly && r.Status != StatusFail && r.Status != StatusExcepted && !r.FailedOnObject():
		return
	case !b.keepPassing && (r.Status == StatusPass || r.Status == StatusNotApplicable):
		return
	}
	if b.internMessages {
		r.Message = b.intern(r.Message)
	}
	if len(b.results) == cap(b.results) {
		// Double the room: append grows a slice this large by a quarter at a time, copying
		// every result each time (117,000 results five times over at 20,000 objects).
		b.results = slices.Grow(b.results, max(len(b.results), 64))
	}
	b.results = append(b.results, *r)
}

// IdentityKind is the kind by which a finding's identity (journal keys, first-seen times, alert
// keys, PolicyReports, population lists) names an object of kind in apiVersion: the kind alone
// in a group of Kubernetes' own (see kubernetesGroup), which is what the bare kind has always
// meant there, and kind.group (kubectl's resource.group form) in any other group, so that
// networking.istio.io's Gateway web and gateway.networking.k8s.io's Gateway web in one
// namespace are two findings, not one. Kubernetes' own groups serve no kind name twice but as
// one object under two groups (extensions and apps Deployments), which stays one.
func IdentityKind(apiVersion, kind string) string {
	if group := IdentityGroup(apiVersion); group != "" {
		return kind + "." + group
	}
	return kind
}

// IdentityGroup is the group IdentityKind names: apiVersion's group where that is not one of
// Kubernetes' own, "" otherwise.
func IdentityGroup(apiVersion string) string {
	if kubernetesGroup(apiVersion) {
		return ""
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	return group
}

// kubernetesGroup reports whether the group of apiVersion is Kubernetes' own: the core group, a
// group without a dot (apps, batch, policy, ...) or a *.k8s.io group, which the API server
// reserves, or this operator's. Custom resources live in other groups and may reuse a built-in
// kind's name.
func kubernetesGroup(apiVersion string) bool {
	group, _, found := strings.Cut(apiVersion, "/")
	return !found || !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io") || group == v1alpha1.GroupVersion.Group
}

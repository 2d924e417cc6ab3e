package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// pass is what the phases of one evaluation share.
type pass struct {
	profile *v1alpha1.ComplianceProfile
	ps      *profileState
	// namespace is the namespace a change touched; "" for a full evaluation of the profile.
	namespace string
	// start is the wall-clock start (for the duration metric); now is the evaluation's time.
	start, now time.Time
	// seq numbers the evaluation among those of the operator, in the order they started.
	seq uint64

	// selected are the namespaces to evaluate; problems are the selection's (a selector that
	// does not parse), for the profile's Ready condition.
	selected map[string]bool
	problems []engine.Problem
	// badSelector is the problem of a namespace selector that does not parse: the profile's
	// reports are then kept, marked stale, not deleted.
	badSelector *engine.Problem
	// sel is the profile's parsed namespace selector (a full evaluation whose selector parses):
	// stillSelected asks it again of each namespace.
	sel labels.Selector
	// exceptions and opts are what the engine is given.
	exceptions []*v1alpha1.ControlException
	opts       engine.Options
	// cluster are the cluster-scoped objects: every namespace's lookups use them.
	cluster []*engine.Object
	// outcomes are the exceptions as the evaluation judged them: of the cluster-scoped
	// objects in a full evaluation (every exception), of the namespace otherwise.
	outcomes []*engine.ExceptionOutcome
	// policyReports are the keys of the PolicyReports the evaluation produced.
	policyReports map[string]bool
	// objects counts the objects evaluated.
	objects int
	// written are the namespaces whose report this pass wrote, or found already current: a
	// failure later in the pass leaves them current.
	written map[string]bool
	// clusterJudged says the pass judged the cluster-scoped objects (a full evaluation), and
	// clusterSummary is their summary: the first-seen times of all their findings are kept
	// while they persist, listed or not, and the failing ones new to the profile are
	// identified (freshCluster).
	clusterJudged  bool
	clusterSummary *engine.Summary
	// matchesChanged are the keys of the exceptions whose count of findings the pass changed.
	matchesChanged []string

	// errs are the errors that let the later phases run, joined at the end.
	errs []error
	// done ends the pass without an evaluation (the namespace is no longer selected).
	done bool
}

func (r *ComplianceProfileReconciler) newPass(profile *v1alpha1.ComplianceProfile, namespace string) *pass {
	r.state.observingSince(r.Clock.Now) // before the pass's now: the first pass is observed
	return &pass{
		profile: profile, ps: r.state.plan(profile, r.Catalogue), namespace: namespace,
		start: time.Now(), now: r.Clock.Now(), seq: r.state.nextPass(), policyReports: map[string]bool{}, written: map[string]bool{},
	}
}

// full says whether the pass evaluates the whole profile.
func (p *pass) full() bool { return p.namespace == "" }

// checkReadable asks, at a full evaluation, whether the operator may still list and watch
// every kind it reads (inventory.Gatherer.Recheck): permission revoked while it runs leaves
// its cache as it was, and what those kinds decide is NotAssessed until it is granted again.
// When the API server cannot answer, the last answer stands.
func (r *ComplianceProfileReconciler) checkReadable(ctx context.Context, p *pass) (ctrl.Result, error) {
	if !p.full() {
		return ctrl.Result{}, nil
	}
	if err := r.Gatherer.Recheck(ctx); err != nil {
		logf.FromContext(ctx).Error(err, "Unable to ask whether the operator may still read every kind")
	}
	return ctrl.Result{}, nil
}

// selectNamespaces lists the namespaces the profile selects (a full evaluation).
func (r *ComplianceProfileReconciler) selectNamespaces(ctx context.Context, p *pass) (ctrl.Result, error) {
	sel, problem := selection.NamespaceSelector(p.profile)
	p.selected = map[string]bool{}
	if problem != nil {
		p.problems = append(p.problems, *problem)
		p.badSelector = problem
		return ctrl.Result{}, nil
	}
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing namespaces: %w", err)
	}
	p.sel = sel
	for i := range list.Items {
		if selection.Selects(p.profile, sel, &list.Items[i]) {
			p.selected[list.Items[i].Name] = true
		}
	}
	r.journal.selection(p.profile.Name, p.selected)
	return ctrl.Result{}, nil
}

// selectNamespace checks that the profile still selects the namespace a change touched. When
// it does not (deleted or relabelled), its report and PolicyReports are deleted, the profile's
// roll-up updated, and the pass ends; when the selector no longer parses, its report is kept, marked stale.
func (r *ComplianceProfileReconciler) selectNamespace(ctx context.Context, p *pass) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: p.namespace}, ns)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("reading namespace %s: %w", p.namespace, err)
	}
	sel, problem := selection.NamespaceSelector(p.profile)
	if err == nil && problem == nil && selection.Selects(p.profile, sel, ns) {
		p.selected = map[string]bool{p.namespace: true}
		return ctrl.Result{}, nil
	}
	p.done = true
	if problem != nil {
		p.problems = append(p.problems, *problem)
		key := types.NamespacedName{Namespace: p.namespace, Name: p.profile.Name}
		if err := r.markStale(ctx, p.ps, key, p.now, v1alpha1.ReasonInvalidSelector, badSelectorMessage(problem)); err != nil {
			return ctrl.Result{}, err
		}
		return r.updateStatus(ctx, p)
	}
	if err != nil { // NotFound
		if gone, ok := r.gone.lookup(p.namespace); ok && selection.Selects(p.profile, sel, gone.ns) {
			// Deleted before any evaluation of it ran: in scope all the same, never judged.
			r.journal.unevaluated(p.profile.Name, p.namespace, gone.ns.CreationTimestamp.Time, gone.deleted)
		}
	}
	if err := r.deleteReport(ctx, p.profile, p.ps, p.namespace); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.policyReports.dropNamespace(ctx, p.profile, p.namespace); err != nil {
		return ctrl.Result{}, err
	}
	return r.updateStatus(ctx, p)
}

// listExceptions reads the exceptions and settles the engine's options: the evaluation's time
// and whether approvals can be trusted now. A full evaluation reads every exception (it judges
// them all for the cluster-scoped objects); the evaluation of one namespace reads only those
// that can cover its objects, its own and the operator's namespace's (engine.Options.Reaches),
// not every tenant's, each copied out of the cache at each change in any namespace.
func (r *ComplianceProfileReconciler) listExceptions(ctx context.Context, p *pass) (ctrl.Result, error) {
	var namespaces []string
	if !p.full() {
		namespaces = []string{p.namespace}
		if p.namespace != r.AdminNamespace {
			namespaces = append(namespaces, r.AdminNamespace)
		}
	}
	exceptions, err := inventory.Exceptions(ctx, r, namespaces...)
	if err != nil {
		return ctrl.Result{}, err
	}
	trust, why := r.Approval.Trust()
	p.exceptions = exceptions
	p.opts = engine.Options{Now: p.now, AdminNamespace: r.AdminNamespace, KeepPassing: p.profile.Spec.PolicyReports,
		Approval: trust, ApprovalProblem: why, ApprovalsSince: r.Approval.InForceSince(), Withheld: Withheld,
		// As scan: a custom check's bare kind names Kubernetes' own, not the Calico
		// NetworkPolicies the operator reads for the network checks.
		KubernetesKind: manifest.ServedKind}
	return ctrl.Result{}, nil
}

// evaluateClusterScoped gathers the cluster-scoped objects, which every namespace's lookups
// use. A full evaluation also judges them: their findings go to the profile's status and
// ClusterPolicyReports, and their exception outcomes name every exception.
func (r *ComplianceProfileReconciler) evaluateClusterScoped(ctx context.Context, p *pass) (ctrl.Result, error) {
	objs, err := r.Gatherer.Gather(ctx, inventory.Scope{ClusterScoped: true})
	if err != nil {
		return ctrl.Result{}, r.evaluationFailed(ctx, p, err)
	}
	p.cluster = objs
	if !p.full() {
		return ctrl.Result{}, nil
	}
	p.objects += len(objs)
	ev := p.ps.plan.Evaluate(r.Gatherer.Inventory(objs), p.exceptions, p.opts)
	p.outcomes = ev.Exceptions
	r.journal.observeExceptions(ctx, ev.Exceptions, p.now)
	p.clusterJudged, p.clusterSummary = true, ev.Summary("")
	keep, err := r.policyReports.write(ctx, p.profile, ev)
	p.keepPolicyReports(keep)
	p.errs = append(p.errs, err)
	covered := report.CoverageOf(ev, "") // once, for the exceptions' status and the profile's
	p.matchesChanged = append(p.matchesChanged, r.state.recordNamespace(p.ps, "", p.now, p.seq, ev.Summary(""), ev.Exceptions, covered.Digests(), report.WouldCover(ev, ""))...)
	usage, total := report.ExceptionsFor(ev, "", covered)
	r.state.recordClusterExceptions(p.ps, usage, total)
	sum := ev.Summary("")
	metrics.SetCluster(p.profile.Name, sum.Criteria, sum.FailingBySeverity, sum.UnreadBySeverity, sum.Excepted)
	return ctrl.Result{}, nil
}

// evaluateNamespaces evaluates the selected namespaces one at a time: only one namespace's
// objects and results are in memory at once, however large the cluster.
func (r *ComplianceProfileReconciler) evaluateNamespaces(ctx context.Context, p *pass) (ctrl.Result, error) {
	for _, ns := range sortedKeys(p.selected) {
		if err := r.evaluateNamespace(ctx, p, ns); err != nil {
			return ctrl.Result{}, err
		}
	}
	if p.full() {
		r.state.recordJudgedEverywhere(p.ps, p.outcomes)
	}
	return ctrl.Result{}, nil
}

// evaluateNamespace gathers one namespace's objects, evaluates them with the cluster-scoped
// objects for lookups (their own findings are the full evaluation's), and writes the report
// and PolicyReports. A gathering error is returned (the evaluation failed); write errors go to
// p.errs. The evaluations of a namespace run one after the other from reading its objects to
// writing its report (namespaceLocks): the one that reads later writes later.
func (r *ComplianceProfileReconciler) evaluateNamespace(ctx context.Context, p *pass, ns string) error {
	unlock := r.namespaceLocks.lock(p.profile.Name, ns)
	defer unlock()
	if !r.stillSelected(ctx, p, ns) {
		return nil
	}
	objs, err := r.Gatherer.Gather(ctx, inventory.Scope{Namespaces: map[string]bool{ns: true}})
	if err != nil {
		return r.evaluationFailed(ctx, p, fmt.Errorf("namespace %s: %w", ns, err))
	}
	// The Nodes its bound Pods run on, which decide their OS where their spec does not.
	nodes, err := r.Gatherer.NodesOf(ctx, objs)
	if err != nil {
		return r.evaluationFailed(ctx, p, fmt.Errorf("namespace %s: %w", ns, err))
	}
	objs = append(objs, nodes...)
	for _, o := range objs {
		if o.Namespace == ns || o.Kind == "Namespace" {
			p.objects++ // not another namespace's Gateway, gathered for lookups
		}
	}
	opts := p.opts
	opts.SkipClusterScoped = true
	opts.OnlyNamespace = ns
	ev := p.ps.plan.Evaluate(r.Gatherer.Inventory(append(objs, p.cluster...)), p.exceptions, opts)
	if !p.full() {
		p.outcomes = ev.Exceptions
	}
	// The profile's roll-up counts the evaluation whether or not the report can be written: a
	// namespace whose report the API server refuses is still assessed, and its failures still
	// make the profile NonCompliant (the report's Stale condition says it is behind).
	remembered := r.state.previousResult(p.ps, ns)
	covered := report.CoverageOf(ev, ns) // once, for the exceptions' status and the report's
	p.matchesChanged = append(p.matchesChanged, r.state.recordNamespace(p.ps, ns, p.now, p.seq, ev.Summary(ns), ev.Exceptions, covered.Digests(), report.WouldCover(ev, ns))...)
	writeErr := r.writeReport(ctx, p.profile, p.ps, ev, covered, ns, p.now, remembered)
	if writeErr == nil {
		p.written[ns] = true
	}
	keep, err := r.policyReports.write(ctx, p.profile, ev)
	p.keepPolicyReports(keep)
	p.errs = append(p.errs, err)
	// Left while it was evaluated: the evaluation of the namespace alone that its change
	// queued may have deleted the report before this one wrote it (it ran as soon as the
	// change was seen, so this check, after the write, sees the change too). Its PolicyReports
	// go too: pruneReports keeps those this evaluation wrote. A report found gone when its
	// status was written is then no failure: it went because the namespace left.
	if !r.stillSelected(ctx, p, ns) {
		if apierrors.IsNotFound(writeErr) {
			writeErr = nil
		}
		p.errs = append(p.errs, r.policyReports.dropNamespace(ctx, p.profile, ns))
	}
	p.errs = append(p.errs, writeErr)
	return nil
}

// stillSelected says, in a full evaluation, whether the profile still selects ns, which it
// selected when the evaluation began: a namespace can leave the profile (relabelled, deleted)
// while the evaluation works through the others. One that left is taken out of p.selected, so
// that pruneReports deletes its report and the profile no longer counts it, as the evaluation of
// that namespace alone, which its change queued and which may have run meanwhile, does: else the
// full evaluation would write the report again after that one deleted it, and nothing would
// update it until the next full evaluation. An evaluation of one namespace checked it when it
// began, and is never concurrent with another of the same namespace (the queue holds each
// request once). When the namespace cannot be read, it stays selected.
func (r *ComplianceProfileReconciler) stillSelected(ctx context.Context, p *pass, ns string) bool {
	if !p.full() || p.sel == nil || r.selectedNow(ctx, p.profile, p.sel, ns) {
		return true
	}
	delete(p.selected, ns)
	return false
}

// selectedNow says whether the profile (its namespace selector parsed: sel) selects namespace ns
// as the cache holds it now; true when the namespace cannot be read (not that it is gone: its
// report is kept).
func (r *ComplianceProfileReconciler) selectedNow(ctx context.Context, profile *v1alpha1.ComplianceProfile, sel labels.Selector, ns string) bool {
	namespace := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: ns}, namespace); err != nil {
		return !apierrors.IsNotFound(err)
	}
	return selection.Selects(profile, sel, namespace)
}

func (p *pass) keepPolicyReports(keys map[string]bool) {
	for k := range keys {
		p.policyReports[k] = true
	}
}

// pruneReports deletes what the evaluation no longer produces: the profile's PolicyReports of
// resources not evaluated (in the namespace, or everywhere), and in a full evaluation the
// reports of namespaces the profile does not select. With a selector that does not parse,
// nothing is known to be unselected: the reports are kept and marked stale. A PolicyReport
// someone else changed or deleted since it was written is written again by an evaluation
// shortly after.
func (r *ComplianceProfileReconciler) pruneReports(ctx context.Context, p *pass) (ctrl.Result, error) {
	var res ctrl.Result
	if p.badSelector == nil {
		changed, err := r.policyReports.prune(ctx, p.profile, p.namespace, p.policyReports)
		p.errs = append(p.errs, err)
		if changed {
			logf.FromContext(ctx).Info("PolicyReports were changed or deleted by someone else; writing them again", "namespace", p.namespace)
			res.RequeueAfter = conflictRetry
		}
	}
	switch {
	case !p.full():
	case p.badSelector != nil:
		// No namespace is known to be unselected: keep every report, saying it is not current
		// (deleting them would lose the last evidence over a typo).
		p.errs = append(p.errs, r.markProfileReportsStale(ctx, p.profile, p.ps, p.now, nil, v1alpha1.ReasonInvalidSelector, badSelectorMessage(p.badSelector)))
	default:
		p.errs = append(p.errs, r.deleteUnselectedReports(ctx, p.profile, p.sel, p.ps, p.selected))
	}
	return res, nil
}

// badSelectorMessage is the Stale message of the reports of a profile whose namespace selector
// does not parse.
func badSelectorMessage(problem *engine.Problem) string {
	return "The profile's namespace selector does not parse (" + problem.Message + "): no namespace is evaluated until it is fixed, and the reports are kept as they were"
}

// scheduleNext asks for the next full evaluation at the profile's interval, and for an
// evaluation just after the next expiry of an exception that covers what was evaluated.
func (r *ComplianceProfileReconciler) scheduleNext(_ context.Context, p *pass) (ctrl.Result, error) {
	if p.full() {
		return ctrl.Result{RequeueAfter: minPositive(r.interval(p.profile), untilNextExpiry(p.outcomes, "", p.now, true))}, nil
	}
	return ctrl.Result{RequeueAfter: untilNextExpiry(p.outcomes, p.namespace, p.now, false)}, nil
}

func (r *ComplianceProfileReconciler) interval(profile *v1alpha1.ComplianceProfile) time.Duration {
	if r.Interval != nil {
		return r.Interval(profile)
	}
	return profileInterval(profile)
}

// profileInterval is the profile's evaluationInterval, 10 minutes when unset.
func profileInterval(profile *v1alpha1.ComplianceProfile) time.Duration {
	if d := profile.Spec.EvaluationInterval; d != nil && d.Duration >= time.Minute {
		return d.Duration
	}
	return 10 * time.Minute
}

// untilNextExpiry is how long until the next active exception that can cover ns (any namespace
// when all is set) expires, plus a second; 0 when none will.
func untilNextExpiry(outcomes []*engine.ExceptionOutcome, ns string, now time.Time, all bool) time.Duration {
	var next time.Duration
	for _, o := range outcomes {
		if o.State != v1alpha1.ExceptionActive || !o.AppliesTo || (!all && !o.Selects(ns)) {
			continue
		}
		d := o.Exception.Spec.Expires.Sub(now) + time.Second
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next
}

func minPositive(a, b time.Duration) time.Duration {
	if b > 0 && b < a {
		return b
	}
	return a
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// Event reasons on profiles.
const (
	EventNamespaceNonCompliant = "NamespaceNonCompliant"
	EventNamespaceCompliant    = "NamespaceCompliant"
	EventReportWriteFailed     = "ReportWriteFailed"
	EventProfileInvalid        = "ProfileInvalid"
)

// ComplianceProfileReconciler keeps one ComplianceReport per namespace a profile selects.
//
// A request with an empty namespace evaluates the whole profile (every selected namespace and
// the cluster-scoped objects); a request that names a namespace re-evaluates only that one,
// after a change in it.
type ComplianceProfileReconciler struct {
	client.Client
	// Gatherer reads the objects the checks judge from the cache.
	Gatherer *inventory.Gatherer
	// Catalogue is the built-in checks; CatalogVersion is recorded in reports.
	Catalogue      []*engine.Check
	CatalogVersion string
	// AdminNamespace is the operator's namespace.
	AdminNamespace string
	// Clock is the time evaluations and first-seen times use.
	Clock clock.PassiveClock
	// Recorder records Events on profiles.
	Recorder events.EventRecorder
	// Interval is the period of full evaluations: the profile's evaluationInterval by default.
	Interval func(*v1alpha1.ComplianceProfile) time.Duration
	// Approval says whether approvals on exceptions can be trusted.
	Approval *admissionpolicy.Verifier
	// exceptionChanged is told about the exceptions whose match counts may have changed.
	exceptionChanged func(types.NamespacedName)
	// policyReports writes per-resource PolicyReports for profiles that ask for them.
	policyReports *policyReportWriter
	// alerts delivers alerts on state transitions.
	alerts *alert.Dispatcher
	// journal records transitions in the evidence journal (nil: off).
	journal *journalHook
	// firstSeen remembers when each listed finding was first seen, beyond the reports.
	firstSeen report.FirstSeenStore
	// apiReader reads past the cache, to confirm that a profile is gone before deleting the
	// reports that name it.
	apiReader client.Reader
	// ownWrites remembers the report versions the operator wrote, so that their watch events
	// do not evaluate the namespace again (nil: remember nothing).
	ownWrites *ownWrites

	state *state
}

// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles/finalizers,verbs=update
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=compliancereports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=compliancereports/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces;pods;replicationcontrollers;services;serviceaccounts;configmaps;resourcequotas;limitranges,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=aquasecurity.github.io,resources=vulnerabilityreports;exposedsecretreports,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile gets the profile, gathers the objects, evaluates them and writes what changed.
func (r *ComplianceProfileReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	profile := &v1alpha1.ComplianceProfile{}
	if err := r.Get(ctx, types.NamespacedName{Name: req.Name}, profile); err != nil {
		if apierrors.IsNotFound(err) {
			// The operator's reports go with the profile through their owner references; a
			// report in the namespace asked about that names this profile is not the operator's.
			r.state.forget(req.Name)
			r.journal.profileDeleted(req.Name)
			r.firstSeen.Forget(req.Name, "")
			r.alerts.Configure(req.Name, nil)
			metrics.ForgetProfile(req.Name)
			if req.Namespace != "" {
				return ctrl.Result{}, r.deleteOrphan(ctx, types.NamespacedName{Namespace: req.Namespace, Name: req.Name})
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !profile.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	r.alerts.Configure(profile.Name, profile.Spec.Alerts)
	r.journal.profileSeen(profile)
	ps := r.state.plan(profile, r.Catalogue)
	var res ctrl.Result
	var err error
	if req.Namespace == "" {
		res, err = r.reconcileProfile(ctx, profile, ps)
	} else {
		res, err = r.reconcileNamespace(ctx, profile, ps, req.Namespace)
	}
	if err != nil && isOnlyConflicts(err) {
		// Someone else wrote first (a person editing a report, or a write racing the cache):
		// evaluate again shortly instead of logging an error and backing off.
		logf.FromContext(ctx).V(1).Info("Write conflict, evaluating again", "error", err.Error())
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return res, err
}

// conflictRetry is how soon an evaluation whose write conflicted runs again.
const conflictRetry = 200 * time.Millisecond

// isOnlyConflicts reports whether err is a conflict, or joins only conflicts.
func isOnlyConflicts(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !isOnlyConflicts(e) {
				return false
			}
		}
		return true
	}
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}

// reconcileProfile evaluates every selected namespace and the cluster-scoped objects.
func (r *ComplianceProfileReconciler) reconcileProfile(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	start, now := time.Now(), r.Clock.Now()
	problems := r.watchProblems(ctx, profile, ps.plan)

	selected, selProblem, err := r.selectedNamespaces(ctx, profile)
	if err != nil {
		return ctrl.Result{}, err
	}
	if selProblem != nil {
		problems = append(problems, *selProblem)
	}
	exceptions, err := inventory.Exceptions(ctx, r)
	if err != nil {
		return ctrl.Result{}, err
	}
	trust, why := r.Approval.Trust()
	opts := engine.Options{Now: now, AdminNamespace: r.AdminNamespace, KeepPassing: profile.Spec.PolicyReports,
		Approval: trust, ApprovalProblem: why}
	failed := func(err error) (ctrl.Result, error) {
		metrics.Evaluations.WithLabelValues(profile.Name, "cluster", "error").Inc()
		for _, ns := range r.state.namespaces(ps) {
			r.state.markUnwritten(ps, ns, now)
		}
		r.markProfileReportsStale(ctx, profile, ps, now, v1alpha1.ReasonEvaluationFailed, "The evaluation failed: "+err.Error())
		_ = r.updateProfileStatus(ctx, profile, ps, problems, err)
		return ctrl.Result{}, fmt.Errorf("gathering objects: %w", err)
	}

	// The cluster-scoped objects first, then one namespace at a time: only one namespace's
	// results are in memory at once, however large the cluster.
	clusterObjs, err := r.Gatherer.Gather(ctx, inventory.Scope{ClusterScoped: true})
	if err != nil {
		return failed(err)
	}
	ev := ps.plan.Evaluate(engine.NewInventory(clusterObjs, true), exceptions, opts)
	outcomes := ev.Exceptions
	var errs []error
	keep, err := r.policyReports.write(ctx, profile, ev)
	errs = append(errs, err)
	r.state.recordNamespace(ps, "", ev.Summary(""), ev.Exceptions)
	metrics.SetCluster(profile.Name, ev.Summary("").Criteria)
	objects := len(clusterObjs)

	nsOpts := opts
	nsOpts.SkipClusterScoped = true
	for _, ns := range sortedKeys(selected) {
		// The cluster-scoped objects gathered above serve every namespace's lookups.
		objs, err := r.Gatherer.Gather(ctx, inventory.Scope{Namespaces: map[string]bool{ns: true}})
		if err != nil {
			return failed(err)
		}
		objects += len(objs)
		ev := ps.plan.Evaluate(engine.NewInventory(append(objs, clusterObjs...), true), exceptions, nsOpts)
		errs = append(errs, r.writeReport(ctx, profile, ps, ev, ns, now))
		written, err := r.policyReports.write(ctx, profile, ev)
		errs = append(errs, err)
		for k := range written {
			keep[k] = true
		}
	}
	errs = append(errs,
		r.policyReports.prune(ctx, profile, "", keep),
		r.deleteUnselectedReports(ctx, profile, ps, selected))
	r.state.mu.Lock()
	ps.fullDone = true
	r.state.mu.Unlock()
	errs = append(errs, r.updateProfileStatus(ctx, profile, ps, problems, nil))
	r.notifyExceptions(outcomes, "")

	elapsed := time.Since(start)
	metrics.EvaluationDuration.WithLabelValues(profile.Name, "cluster").Observe(elapsed.Seconds())
	err = errors.Join(errs...)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	} else {
		metrics.LastEvaluation.WithLabelValues(profile.Name).Set(float64(now.Unix()))
	}
	metrics.Evaluations.WithLabelValues(profile.Name, "cluster", outcome).Inc()
	log.V(1).Info("Evaluated profile", "namespaces", len(selected), "objects", objects, "duration", elapsed)
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: minPositive(r.interval(profile), untilNextExpiry(outcomes, "", now, true))}, nil
}

// reconcileNamespace re-evaluates one namespace after a change in it.
func (r *ComplianceProfileReconciler) reconcileNamespace(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, nsName string) (ctrl.Result, error) {
	start, now := time.Now(), r.Clock.Now()
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: nsName}, ns)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	sel, selProblem := inventory.NamespaceSelector(profile)
	if apierrors.IsNotFound(err) || selProblem != nil || !inventory.Selects(profile, sel, ns) {
		if err := r.deleteReport(ctx, profile, ps, nsName); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.updateProfileStatusIfReady(ctx, profile, ps, selProblem)
	}

	objs, err := r.Gatherer.Gather(ctx, inventory.Scope{Namespaces: map[string]bool{nsName: true}, ClusterScoped: true})
	if err != nil {
		metrics.Evaluations.WithLabelValues(profile.Name, "namespace", "error").Inc()
		r.state.markUnwritten(ps, nsName, now)
		r.markStale(ctx, types.NamespacedName{Namespace: nsName, Name: profile.Name}, v1alpha1.ReasonEvaluationFailed, "The evaluation failed: "+err.Error())
		return ctrl.Result{}, fmt.Errorf("gathering objects of namespace %s: %w", nsName, err)
	}
	exceptions, err := inventory.Exceptions(ctx, r)
	if err != nil {
		return ctrl.Result{}, err
	}
	trust, why := r.Approval.Trust()
	ev := ps.plan.Evaluate(engine.NewInventory(objs, true), exceptions,
		engine.Options{Now: now, AdminNamespace: r.AdminNamespace, SkipClusterScoped: true, KeepPassing: profile.Spec.PolicyReports,
			Approval: trust, ApprovalProblem: why})
	writeErr := errors.Join(r.writeReport(ctx, profile, ps, ev, nsName, now), r.policyReports.sync(ctx, profile, ev, nsName))
	statusErr := r.updateProfileStatusIfReady(ctx, profile, ps, nil)
	r.notifyExceptions(ev.Exceptions, nsName)

	metrics.EvaluationDuration.WithLabelValues(profile.Name, "namespace").Observe(time.Since(start).Seconds())
	if err := errors.Join(writeErr, statusErr); err != nil {
		metrics.Evaluations.WithLabelValues(profile.Name, "namespace", "error").Inc()
		return ctrl.Result{}, err
	}
	metrics.Evaluations.WithLabelValues(profile.Name, "namespace", "ok").Inc()
	return ctrl.Result{RequeueAfter: untilNextExpiry(ev.Exceptions, nsName, now, false)}, nil
}

// writeReport creates or updates the namespace's report, writing only when its content changed.
func (r *ComplianceProfileReconciler) writeReport(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, ev *engine.Evaluation, ns string, now time.Time) error {
	log := logf.FromContext(ctx)
	key := types.NamespacedName{Namespace: ns, Name: profile.Name}
	rep := &v1alpha1.ComplianceReport{}
	err := r.Get(ctx, key, rep)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	exists := err == nil
	if exists {
		if why := notProducedBy(profile, rep); why != "" {
			// Someone else made this report: remove it and write the operator's own.
			if err := r.deleteForged(ctx, rep, profile.Name, why); err != nil {
				return err
			}
			exists = false
		}
	}
	if exists {
		// Restore what a person may have edited: labels, owner, spec.
		before := rep.DeepCopy()
		if err := r.setReportMeta(profile, rep); err != nil {
			return err
		}
		if !equalMeta(before, rep) {
			if err := r.ownWrites.write(rep, func() error { return r.Update(ctx, rep) }); err != nil {
				metrics.ReportWrites.WithLabelValues(profile.Name, "update", "error").Inc()
				return fmt.Errorf("restoring report %s: %w", key, err)
			}
			metrics.ReportWrites.WithLabelValues(profile.Name, "update", "ok").Inc()
		}
	} else {
		rep = &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: profile.Name, Namespace: ns}}
		if err := r.setReportMeta(profile, rep); err != nil {
			return err
		}
		if err := r.ownWrites.write(rep, func() error { return r.Create(ctx, rep) }); err != nil {
			r.state.markUnwritten(ps, ns, now)
			metrics.ReportWrites.WithLabelValues(profile.Name, "create", "error").Inc()
			return fmt.Errorf("creating report %s: %w", key, err)
		}
		metrics.ReportWrites.WithLabelValues(profile.Name, "create", "ok").Inc()
		log.Info("Created report", "report", klog.KObj(rep))
	}

	desired := report.NamespaceStatus(report.NamespaceInput{
		Evaluation: ev, Namespace: ns, Previous: &rep.Status, Now: now,
		CatalogVersion: r.CatalogVersion, Generation: rep.Generation,
		FirstSeen: r.journal.firstSeen(profile.Name, ns, report.Lookup(r.firstSeen, profile.Name, ns)),
	})
	r.firstSeen.Record(profile.Name, ns, desired.Findings)
	r.journal.observe(ctx, profile.Name, ns, ev, desired.Findings, now)
	r.state.recordNamespace(ps, ns, ev.Summary(ns), ev.Exceptions)
	metrics.SetNamespace(profile.Name, ns, &desired)
	if report.SameContent(&rep.Status, &desired) {
		r.state.markWritten(ps, ns, now)
		return nil
	}
	previous := rep.Status.Result
	prevFindings := rep.Status.Findings
	rep.Status = desired
	if err := r.ownWrites.write(rep, func() error { return r.Status().Update(ctx, rep) }); err != nil {
		r.state.markUnwritten(ps, ns, now)
		metrics.ReportWrites.WithLabelValues(profile.Name, "update", "error").Inc()
		if !apierrors.IsConflict(err) {
			r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventReportWriteFailed, "WriteReport",
				"Writing the report of namespace %s failed: %v", ns, err)
			r.markStale(ctx, key, v1alpha1.ReasonWriteFailed, "The latest evaluation could not be written: "+err.Error())
		}
		return fmt.Errorf("writing report %s: %w", key, err)
	}
	metrics.ReportWrites.WithLabelValues(profile.Name, "update", "ok").Inc()
	r.state.markWritten(ps, ns, now)
	log.V(1).Info("Updated report", "report", klog.KObj(rep), "result", desired.Result, "failing", desired.Summary.Failing)

	if previous != "" {
		// Alerts describe changes: the first evaluation of a namespace is a baseline, not news.
		r.alertTransitions(profile, ns, previous, prevFindings, &desired)
	}
	switch {
	case desired.Result == v1alpha1.NonCompliant && previous != v1alpha1.NonCompliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventNamespaceNonCompliant, "Evaluate",
			"Namespace %s became NonCompliant: %d failing findings, %d criteria failed", ns, desired.Summary.Failing, desired.Summary.FailedCriteria)
		log.Info("Namespace became non-compliant", "namespace", ns, "profile", profile.Name)
	case previous == v1alpha1.NonCompliant && desired.Result != v1alpha1.NonCompliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeNormal, EventNamespaceCompliant, "Evaluate",
			"Namespace %s is %s again", ns, desired.Result)
		log.Info("Namespace became compliant", "namespace", ns, "profile", profile.Name)
	}
	return nil
}

// alertTransitions sends an alert for every failing finding at or above the profile's alert
// severity that the previous report did not list, and for a namespace that became NonCompliant.
func (r *ComplianceProfileReconciler) alertTransitions(profile *v1alpha1.ComplianceProfile, ns string, previous v1alpha1.ComplianceState, prev []v1alpha1.Finding, st *v1alpha1.ComplianceReportStatus) {
	if profile.Spec.Alerts == nil {
		return
	}
	for _, f := range newFailures(prev, st.Findings) {
		r.alerts.Send(findingAlert(profile.Name, ns, f))
	}
	if st.Result == v1alpha1.NonCompliant && previous != v1alpha1.NonCompliant {
		a := alert.Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: profile.Name, Namespace: ns,
			Message: fmt.Sprintf("%d failing findings, %d criteria failed", st.Summary.Failing, st.Summary.FailedCriteria)}
		if st.LastEvaluated != nil {
			a.Time = st.LastEvaluated.Time
		}
		r.alerts.Send(a)
	}
}

// newFailures are the failing findings of next that prev did not list.
func newFailures(prev, next []v1alpha1.Finding) []v1alpha1.Finding {
	seen := make(map[string]bool, len(prev))
	for i := range prev {
		if prev[i].Result == v1alpha1.ResultFail {
			seen[report.FindingKey(&prev[i])] = true
		}
	}
	var out []v1alpha1.Finding
	for i := range next {
		if next[i].Result == v1alpha1.ResultFail && !seen[report.FindingKey(&next[i])] {
			out = append(out, next[i])
		}
	}
	return out
}

func findingAlert(profile, ns string, f v1alpha1.Finding) alert.Alert {
	a := alert.Alert{Event: v1alpha1.AlertNewFinding, Profile: profile, Namespace: ns, Severity: f.Severity,
		Check: f.Check, Criteria: f.Criteria, Resource: f.Resource, Container: f.Container, Message: f.Message}
	if f.FirstSeen != nil {
		a.Time = f.FirstSeen.Time
	}
	return a
}

// setReportMeta sets the report's label, owner reference and spec.
func (r *ComplianceProfileReconciler) setReportMeta(profile *v1alpha1.ComplianceProfile, rep *v1alpha1.ComplianceReport) error {
	if rep.Labels == nil {
		rep.Labels = map[string]string{}
	}
	rep.Labels[v1alpha1.LabelProfile] = profile.Name
	rep.Spec.Profile = profile.Name
	return controllerutil.SetControllerReference(profile, rep, r.Scheme())
}

func equalMeta(a, b *v1alpha1.ComplianceReport) bool {
	return a.Spec == b.Spec && labels.Equals(a.Labels, b.Labels) && equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences)
}

// markStale sets Stale=True on a report and its result to Unknown, keeping the rest of its
// content, so that no reader (nor `kubectl get`) takes an old verdict for a current one.
func (r *ComplianceProfileReconciler) markStale(ctx context.Context, key types.NamespacedName, reason, message string) {
	rep := &v1alpha1.ComplianceReport{}
	if err := r.Get(ctx, key, rep); err != nil {
		return
	}
	last := rep.Status.Result
	if c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); last == v1alpha1.Unknown &&
		c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason {
		return // already marked, for the same reason: keep the message that names the last result
	}
	if t := rep.Status.LastEvaluated; t != nil {
		// First, so that a long cause cut to the message bound cannot cut it.
		shown := "The findings shown are from the evaluation of " + t.UTC().Format(time.RFC3339)
		if last != "" && last != v1alpha1.Unknown {
			shown += ", whose result was " + string(last)
		}
		message = shown + ". " + message
	}
	rep.Status.Result = v1alpha1.Unknown
	meta.SetStatusCondition(&rep.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue, Reason: reason,
		Message: engine.Truncate(message), ObservedGeneration: rep.Generation,
	})
	if err := r.ownWrites.write(rep, func() error { return r.Status().Update(ctx, rep) }); err != nil {
		logf.FromContext(ctx).Error(err, "Unable to mark the report stale", "report", klog.KObj(rep), "reason", reason)
	}
}

// markProfileReportsStale marks every report of the profile stale.
// Reports written by an evaluation newer than the failed one (made at now) are current and
// left alone.
func (r *ComplianceProfileReconciler) markProfileReportsStale(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, now time.Time, reason, message string) {
	list := &v1alpha1.ComplianceReportList{}
	if err := r.List(ctx, list, client.MatchingLabels{v1alpha1.LabelProfile: profile.Name}); err != nil {
		return
	}
	for _, rep := range list.Items {
		if r.state.writtenAfter(ps, rep.Namespace, now) {
			continue
		}
		r.markStale(ctx, client.ObjectKeyFromObject(&rep), reason, message)
	}
}

// deleteReport removes the report of a namespace the profile no longer selects.
func (r *ComplianceProfileReconciler) deleteReport(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, ns string) error {
	r.state.dropNamespace(ps, ns)
	r.journal.forgetNamespace(profile.Name, ns)
	r.firstSeen.Forget(profile.Name, ns)
	metrics.ForgetNamespace(profile.Name, ns)
	rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: profile.Name, Namespace: ns}}
	if err := r.Delete(ctx, rep); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		metrics.ReportWrites.WithLabelValues(profile.Name, "delete", "error").Inc()
		return fmt.Errorf("deleting report %s/%s: %w", ns, profile.Name, err)
	}
	metrics.ReportWrites.WithLabelValues(profile.Name, "delete", "ok").Inc()
	logf.FromContext(ctx).Info("Deleted report of a namespace the profile no longer selects", "namespace", ns, "profile", profile.Name)
	return nil
}

// deleteUnselectedReports removes the reports named after the profile (whatever their labels
// say) in namespaces it does not select.
func (r *ComplianceProfileReconciler) deleteUnselectedReports(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, selected map[string]bool) error {
	list := &v1alpha1.ComplianceReportList{}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	var errs []error
	for _, rep := range list.Items {
		if !selected[rep.Namespace] && rep.Name == profile.Name {
			errs = append(errs, r.deleteReport(ctx, profile, ps, rep.Namespace))
		}
	}
	return errors.Join(errs...)
}

// notProducedBy says why the operator did not write rep for profile, or "" when it may have:
// its controller is another object (or an earlier profile of the same name), or its label or
// spec names another profile. Claims that are missing are restored instead (a person may have
// edited them away); claims that contradict the profile mean the report is not the operator's.
func notProducedBy(profile *v1alpha1.ComplianceProfile, rep *v1alpha1.ComplianceReport) string {
	if c := metav1.GetControllerOf(rep); c != nil && c.UID != profile.UID {
		return fmt.Sprintf("its controller is %s %s (uid %s), not profile %s (uid %s)", c.Kind, c.Name, c.UID, profile.Name, profile.UID)
	}
	if l, ok := rep.Labels[v1alpha1.LabelProfile]; ok && l != profile.Name {
		return fmt.Sprintf("its label %s names profile %q", v1alpha1.LabelProfile, l)
	}
	if rep.Spec.Profile != "" && rep.Spec.Profile != profile.Name {
		return fmt.Sprintf("its spec names profile %q", rep.Spec.Profile)
	}
	return ""
}

// deleteForged deletes a report the operator did not write (exactly that object: a report
// written in its place meanwhile is left for the next evaluation to judge). profile names the
// existing profile the report claims, for the write metrics; "" for a report naming no profile,
// whose name is not used as a metric label (anyone who can create reports chooses it).
func (r *ComplianceProfileReconciler) deleteForged(ctx context.Context, rep *v1alpha1.ComplianceReport, profile, why string) error {
	uid := rep.UID
	outcome := "ok"
	err := r.Delete(ctx, rep, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		outcome = "error"
		err = fmt.Errorf("deleting report %s/%s, which the operator did not write (%s): %w", rep.Namespace, rep.Name, why, err)
	} else {
		err = nil
		logf.FromContext(ctx).Info("Deleted a report the operator did not write", "report", klog.KObj(rep), "why", why)
	}
	if profile != "" {
		metrics.ReportWrites.WithLabelValues(profile, "delete", outcome).Inc()
	}
	return err
}

// deleteOrphan deletes the report at key once the API server confirms that no profile of its
// name exists (the cache may lag behind a profile just created).
func (r *ComplianceProfileReconciler) deleteOrphan(ctx context.Context, key types.NamespacedName) error {
	rep := &v1alpha1.ComplianceReport{}
	if err := r.Get(ctx, key, rep); err != nil {
		return client.IgnoreNotFound(err)
	}
	err := r.apiReader.Get(ctx, types.NamespacedName{Name: key.Name}, &v1alpha1.ComplianceProfile{})
	switch {
	case err == nil:
		return nil // the profile exists: its evaluation judges the report
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading profile %s for report %s: %w", key.Name, key, err)
	}
	return r.deleteForged(ctx, rep, "", fmt.Sprintf("no profile %s exists", key.Name))
}

// sweepOrphans deletes every report that names no existing profile: reports left by a
// profile deleted while the operator was down, and reports the operator never wrote.
func (r *ComplianceProfileReconciler) sweepOrphans(ctx context.Context) error {
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := r.List(ctx, profiles, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	exists := make(map[string]bool, len(profiles.Items))
	for i := range profiles.Items {
		exists[profiles.Items[i].Name] = true
	}
	reports := &v1alpha1.ComplianceReportList{}
	if err := r.List(ctx, reports, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	var errs []error
	for i := range reports.Items {
		if rep := &reports.Items[i]; !exists[rep.Name] {
			errs = append(errs, r.deleteOrphan(ctx, client.ObjectKeyFromObject(rep)))
		}
	}
	return errors.Join(errs...)
}

// updateProfileStatusIfReady updates the profile's roll-up after a namespace evaluation, once a
// full evaluation has given every namespace's summary.
func (r *ComplianceProfileReconciler) updateProfileStatusIfReady(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, problem *engine.Problem) error {
	r.state.mu.Lock()
	done := ps.fullDone
	r.state.mu.Unlock()
	if !done {
		return nil
	}
	problems := r.watchProblems(ctx, profile, ps.plan)
	if problem != nil {
		problems = append(problems, *problem)
	}
	return r.updateProfileStatus(ctx, profile, ps, problems, nil)
}

func (r *ComplianceProfileReconciler) updateProfileStatus(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, problems []engine.Problem, gatherErr error) error {
	total, cluster, n, nonCompliant := r.state.rollup(ps)
	desired := report.ProfileStatus(report.ProfileInput{
		Plan: ps.plan, Total: total, Cluster: cluster, Namespaces: n, NonCompliant: nonCompliant,
		Previous: &profile.Status, Generation: profile.Generation, CatalogVersion: r.CatalogVersion,
		Now: r.Clock.Now(), Problems: problems, GatherError: gatherErr,
	})
	r.journal.setCondition(&desired.Conditions, profile.Generation)
	ready := meta.FindStatusCondition(desired.Conditions, v1alpha1.ConditionReady)
	if ready != nil && ready.Status == metav1.ConditionTrue {
		metrics.ProfileReady.WithLabelValues(profile.Name).Set(1)
	} else {
		metrics.ProfileReady.WithLabelValues(profile.Name).Set(0)
	}
	if report.SameProfileStatus(&profile.Status, &desired) {
		return nil
	}
	if profile.Spec.Alerts != nil && profile.Status.ObservedGeneration != 0 {
		for _, f := range newFailures(profile.Status.ClusterFindings, desired.ClusterFindings) {
			r.alerts.Send(findingAlert(profile.Name, "", f))
		}
	}
	wasReady := meta.IsStatusConditionTrue(profile.Status.Conditions, v1alpha1.ConditionReady)
	prevReason := ""
	if c := meta.FindStatusCondition(profile.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		prevReason = c.Reason
	}
	profile.Status = desired
	if err := r.Status().Update(ctx, profile); err != nil {
		return fmt.Errorf("writing the status of profile %s: %w", profile.Name, err)
	}
	if ready != nil && ready.Status == metav1.ConditionFalse && (wasReady || prevReason != ready.Reason) {
		r.Recorder.Eventf(profile, nil, corev1.EventTypeWarning, EventProfileInvalid, "Validate", "%s", engine.Truncate(ready.Message))
	}
	return nil
}

// watchProblems reports what keeps the profile from working in this cluster: approvals it
// requires that cannot be trusted (the admission policies are missing), and custom checks on
// kinds the operator does not read (they could never judge anything).
func (r *ComplianceProfileReconciler) watchProblems(ctx context.Context, profile *v1alpha1.ComplianceProfile, plan *engine.Plan) []engine.Problem {
	read := map[string]bool{engine.KindWorkload: true}
	var names []string
	for _, k := range r.Gatherer.Kinds {
		read[k.GVK.Kind] = true
		names = append(names, k.GVK.Kind)
	}
	var out []engine.Problem
	if trust, why := r.Approval.Trust(); plan.RequireApproval && trust != engine.ApprovalEnforced {
		out = append(out, engine.Problem{Reason: v1alpha1.ReasonApprovalNotEnforced, Field: "spec.exceptionPolicy.requireApproval",
			Message: "spec.exceptionPolicy.requireApproval: approvals cannot be trusted, so every exception stays PendingApproval: " + why +
				" (the operator applies its admission policies unless --manage-admission-policies=false; see `soc2-operator admission-policies`)"})
	}
	if p := r.policyReports.unavailable(ctx, profile); p != nil {
		out = append(out, *p)
	}
	for i, cc := range profile.Spec.CustomChecks {
		for j, k := range cc.Kinds {
			if !read[k] {
				field := fmt.Sprintf("spec.customChecks[%d].kinds[%d]", i, j)
				out = append(out, engine.Problem{Reason: v1alpha1.ReasonInvalidCustomCheck, Field: field,
					Message: fmt.Sprintf("%s: the operator does not read %s objects; it reads Workload, %s", field, k, strings.Join(names, ", "))})
			}
		}
	}
	return out
}

// selectedNamespaces lists the namespaces the profile selects.
func (r *ComplianceProfileReconciler) selectedNamespaces(ctx context.Context, profile *v1alpha1.ComplianceProfile) (map[string]bool, *engine.Problem, error) {
	sel, problem := inventory.NamespaceSelector(profile)
	selected := map[string]bool{}
	if problem != nil {
		return selected, problem, nil
	}
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list); err != nil {
		return nil, nil, fmt.Errorf("listing namespaces: %w", err)
	}
	for i := range list.Items {
		if inventory.Selects(profile, sel, &list.Items[i]) {
			selected[list.Items[i].Name] = true
		}
	}
	return selected, nil, nil
}

// notifyExceptions asks the exception reconciler to refresh the exceptions that can cover the
// namespace evaluated ("" for all).
func (r *ComplianceProfileReconciler) notifyExceptions(outcomes []*engine.ExceptionOutcome, ns string) {
	if r.exceptionChanged == nil {
		return
	}
	for _, o := range outcomes {
		if ns == "" || o.Selects(ns) {
			r.exceptionChanged(types.NamespacedName{Namespace: o.Exception.Namespace, Name: o.Exception.Name})
		}
	}
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

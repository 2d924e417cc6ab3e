package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/report"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// This file holds what the operator does to ComplianceReports: write them, mark them stale
// when an evaluation cannot be made or written, and delete those of namespaces no longer
// selected and those the operator did not write.

// writeReport creates or updates the namespace's report, writing only when its content changed.
// remembered is the namespace's result as the operator last evaluated it ("" if it has none):
// the previous result the alerts compare with when the report had been deleted. covered is
// report.CoverageOf(ev, ns) (nil: made when needed).
func (r *ComplianceProfileReconciler) writeReport(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, ev *engine.Evaluation,
	covered report.Coverage, ns string, now time.Time,
	remembered v1alpha1.ComplianceState) error {
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
			// Someone else made this report: remove it and write the operator's own. The
			// operator deleted this one: its absence is no deletion by someone else, even if
			// the create below fails and a later evaluation finds no report.
			r.state.reportPresent(ps, ns, now, false, "")
			if err := r.deleteForged(ctx, rep, profile.Name, why); err != nil {
				return err
			}
			exists = false
		}
	}
	if exists {
		r.state.reportPresent(ps, ns, now, true, r.namespaceUID(ctx, ns))
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
			// The profile's roll-up counts the evaluation all the same (evaluateNamespace), and so
			// does the journal, as for a report whose update fails: with the findings the report
			// would have listed (a namespace being deleted, whose report the namespace
			// controller removed, refuses creates), for the evidence must hold what the profile
			// counts.
			r.observeNamespace(ctx, profile, ps, ev, covered, ns, &v1alpha1.ComplianceReportStatus{}, 0, now)
			r.state.markUnwritten(ps, ns, now)
			if refusal(err) {
				r.state.markRefused(ps, ns, now, err.Error())
			}
			if !apierrors.IsAlreadyExists(err) {
				// No report holds the latest evaluation, nor the verdict the metrics may still give
				// from a report that was deleted: they say Unknown, as a stale report's. (One that
				// exists already, the cache not having seen it, is written on the retry.)
				metrics.SetNamespaceUnknown(profile.Name, ns)
			}
			metrics.ReportWrites.WithLabelValues(profile.Name, "create", "error").Inc()
			return fmt.Errorf("creating report %s: %w", key, err)
		}
		metrics.ReportWrites.WithLabelValues(profile.Name, "create", "ok").Inc()
		log.Info("Created report", "report", klog.KObj(rep))
		uid := r.namespaceUID(ctx, ns)
		if seen, ok := r.state.reportGone(ps, ns); ok && (seen.namespace == "" || seen.namespace == uid) {
			r.reportDeleted(ctx, profile, rep, seen, now)
		}
		r.state.reportPresent(ps, ns, now, true, uid)
	}

	desired := r.observeNamespace(ctx, profile, ps, ev, covered, ns, &rep.Status, rep.Generation, now)
	sum := ev.Summary(ns)
	metrics.SetNamespace(profile.Name, ns, &desired, sum.UnreadBySeverity)
	// Unchanged, and evaluated before by this process: nothing to write. A report whose
	// lastEvaluated is from before this process began observing is written, with now.
	if report.SameContent(&rep.Status, &desired) && rep.Status.LastEvaluated.Equal(desired.LastEvaluated) {
		r.state.markWritten(ps, ns, now)
		// The findings the report does not list may have changed all the same (a new one in
		// place of one that went): they are alerted on, as after a write.
		if fresh := r.fresh(profile, ps, ns, sum, desired.Findings, desired.Findings, now); len(fresh) > 0 {
			r.alertTransitions(profile, ns, rep.Status.Result, fresh, &desired, sum.Unread, now)
		}
		return nil
	}
	previous := rep.Status.Result
	prevFindings := rep.Status.Findings
	if !exists && remembered != "" {
		// The report was deleted (anyone who may delete it could, together with a change that
		// fails): it said what the operator last evaluated, so that is the baseline, not nothing,
		// and a finding is new only if first seen now.
		previous, prevFindings = remembered, seenBefore(desired.Findings, now)
	}
	rep.Status = desired
	if err := r.ownWrites.write(rep, func() error { return r.Status().Update(ctx, rep) }); err != nil {
		r.state.markUnwritten(ps, ns, now)
		metrics.ReportWrites.WithLabelValues(profile.Name, "update", "error").Inc()
		writeErr := fmt.Errorf("writing report %s: %w", key, err)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) || stopping(ctx) {
			// Changed or deleted since it was read (a deleted report is made again by the
			// next evaluation, which reports the deletion): no write failure to mark.
			return writeErr
		}
		if refusal(err) {
			r.state.markRefused(ps, ns, now, err.Error())
		}
		r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventReportWriteFailed, "WriteReport",
			"Writing the report of namespace %s failed: %v", ns, err)
		return errors.Join(writeErr, r.markStale(ctx, ps, key, now, v1alpha1.ReasonWriteFailed, "The latest evaluation could not be written: "+err.Error()))
	}
	metrics.ReportWrites.WithLabelValues(profile.Name, "update", "ok").Inc()
	r.state.markWritten(ps, ns, now)
	log.V(1).Info("Updated report", "report", klog.KObj(rep), "result", desired.Result, "failing", desired.Summary.Failing)
	r.notifyNamespaceChange(ctx, profile, rep, previous, r.fresh(profile, ps, ns, sum, desired.Findings, prevFindings, now), sum.Unread, now)
	return nil
}

// reportDeleted records that the namespace's report, which the operator found or wrote at
// seen.at and has not deleted since, was missing at the evaluation made at now, which created rep
// in its place: someone else deleted it (where the admission policies apply, only the garbage
// collector and the namespace controller may). A Warning Event on the profile and a
// report.deleted journal record say so; the API server does not tell the operator who deleted
// it, nor exactly when. A profile being deleted, or already gone (the garbage collector deletes
// its reports), is no report deleted by someone else: the API server, not the cache, is asked.
// Nor is a namespace deleted and created again under the same name since (its report went with
// it): the API server is asked for the namespace's UID, which must be the one the report was
// seen in. (Nor is a namespace being deleted: the API server refuses to create the report there.)
func (r *ComplianceProfileReconciler) reportDeleted(ctx context.Context, profile *v1alpha1.ComplianceProfile, rep *v1alpha1.ComplianceReport, seen seenReport, now time.Time) {
	if r.apiReader != nil {
		current := &v1alpha1.ComplianceProfile{}
		if err := r.apiReader.Get(ctx, types.NamespacedName{Name: profile.Name}, current); err != nil ||
			current.UID != profile.UID || !current.DeletionTimestamp.IsZero() {
			return
		}
		if seen.namespace != "" {
			ns := &corev1.Namespace{}
			if err := r.apiReader.Get(ctx, types.NamespacedName{Name: rep.Namespace}, ns); err != nil || ns.UID != seen.namespace {
				return
			}
		}
	}
	logf.FromContext(ctx).Info("Recreated a report deleted by someone other than the operator", "report", klog.KObj(rep), "lastSeen", seen.at)
	r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventReportDeleted, "WriteReport",
		"Report %s/%s was deleted by someone other than the operator, after %s (when the operator last found or wrote it) and before %s, when it was recreated",
		rep.Namespace, rep.Name, seen.at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	r.journal.reportDeleted(profile.Name, rep.Namespace, seen.at, now)
}

// namespaceUID is the UID of the namespace as the operator's client reads it (its cache, which
// holds every Namespace: selectNamespace reads them; "" when it cannot): which namespace object
// a report was found or written in.
func (r *ComplianceProfileReconciler) namespaceUID(ctx context.Context, name string) types.UID {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		return ""
	}
	return ns.UID
}

// observeNamespace builds the status of the namespace's report from the evaluation (previous:
// what the report holds, generation its generation), remembers its findings' first-seen times
// (and, at the first evaluation since a restart, which failing findings the journal knew:
// seedFailing) and journals the evaluation: what every evaluation of a namespace does, whether
// or not its report can be written.
func (r *ComplianceProfileReconciler) observeNamespace(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, ev *engine.Evaluation,
	covered report.Coverage, ns string,
	previous *v1alpha1.ComplianceReportStatus, generation int64, now time.Time) v1alpha1.ComplianceReportStatus {
	// Another Namespace object under the name (deleted and created again while no operator
	// ran) is another namespace: what the journal holds of the old one is closed first, so
	// that none of its first-seen times is taken and none of its findings reads as resolved.
	uid := string(r.namespaceUID(ctx, ns))
	r.journal.namespaceObserved(ctx, profile.Name, ns, uid, now)
	persists := report.Persisting(ev.Summary(ns).Findings)
	desired := report.NamespaceStatus(report.NamespaceInput{
		Evaluation: ev, Namespace: ns, Previous: previous, Now: now,
		CatalogVersion: r.CatalogVersion, Generation: generation,
		FirstSeen:      r.journal.firstSeen(profile.Name, ns, report.Lookup(r.firstSeen, profile.Name, ns, now, persists)),
		ObservingSince: r.state.observingSince(r.Clock.Now), Coverage: covered,
	})
	r.seedFailing(profile.Name, ps, ns, ev.Summary(ns)) // before the journal moves on to this evaluation
	// The times of findings failing again less than report.ReopenedWithin after they left the
	// report, which the journal, seeing a new opening, would replace with a later one (the
	// evidence pack keeps such a reopening in the row of the first).
	reopened := map[int]time.Time{}
	for i := range desired.Findings {
		f := &desired.Findings[i]
		key := report.FindingKey(f)
		if _, known := r.firstSeen.Lookup(profile.Name, ns, key); known || f.FirstSeen == nil {
			continue
		}
		if t, ok := r.firstSeen.Reopened(profile.Name, ns, key, now, persists); ok && t.Equal(f.FirstSeen.Time) {
			reopened[i] = t
		}
	}
	// The journal may replace a first-seen time of an episode it saw end (observe): remembered
	// after it, so that the report does not go back to it.
	r.journal.observe(ctx, profile.Name, r.interval(profile), ns, uid, ev, desired.Findings, now)
	for i, t := range reopened {
		if f := &desired.Findings[i]; f.FirstSeen.After(t) {
			f.FirstSeen = &metav1.Time{Time: t}
		}
	}
	r.firstSeen.Record(profile.Name, ns, desired.Findings, persists, now)
	return desired
}

// refusal says whether err is the API server refusing a write (an admission policy or webhook,
// a quota: 403, 422, a request it will not take as it is), which stands until someone changes
// something, rather than a write to retry: a conflict or an object that already exists (409), a
// throttled request (429, API Priority and Fairness), a timeout, the server failing or going
// away (5xx), or no answer at all.
func refusal(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	code := status.Status().Code
	return code >= 400 && code < 500 && code != http.StatusConflict && code != http.StatusTooManyRequests &&
		code != http.StatusRequestTimeout && code != http.StatusNotFound
}

// fresh are the new failing findings of a namespace's evaluation that its report now holds, to
// alert on (freshFailures), and remembers them; none when the profile has no alerts. Whether
// or not it has, soc2_operator_finding_opened_timestamp_seconds records that the new ones were
// identified now (SOC2NewCriticalFinding reads it: the findings counts do not tell one finding
// that replaced another).
func (r *ComplianceProfileReconciler) fresh(profile *v1alpha1.ComplianceProfile, ps *profileState, ns string, sum *engine.Summary,
	listed, prevListed []v1alpha1.Finding, now time.Time) []v1alpha1.Finding {
	prevFailing, known := r.state.failingBefore(ps, ns)
	fresh, alerted := freshFailures(sum, prevFailing, known, listed, prevListed, ps.plan.MaxFindings, now)
	r.state.recordFailing(ps, ns, alerted)
	metrics.SetFindingsOpened(profile.Name, ns, fresh, now)
	if profile.Spec.Alerts == nil {
		return nil
	}
	return fresh
}

// seedFailing tells the first evaluation of a namespace since this process started which of its
// failing findings (sum) were failing before, as the journal says (journalHook.failing), so
// that fresh identifies the others as new, listed in the report or not. Without it the process
// knows only the findings the previous report lists: a Critical finding that replaced an
// unlisted one while no operator ran (as many as before, the same ones listed) was never
// identified. Without a journal, or before it is restored, nothing is seeded.
func (r *ComplianceProfileReconciler) seedFailing(profile string, ps *profileState, ns string, sum *engine.Summary) {
	if !ps.firstPlan {
		return
	}
	if _, known := r.state.failingBefore(ps, ns); known {
		return
	}
	open, ok := r.journal.failing(profile, ns)
	if !ok {
		return
	}
	failing := make(map[uint64]bool, len(open))
	for _, res := range sum.Findings {
		if alerting(res) && res.Object != nil &&
			open[journal.FindingKey(res.Check.ID, res.Object.IdentityKind(), res.Object.Name, res.Container)] {
			failing[failingKey(res)] = true
		}
	}
	r.state.seedFailing(ps, ns, failing)
}

// seenBefore are the findings first seen before the evaluation made at now.
func seenBefore(findings []v1alpha1.Finding, now time.Time) []v1alpha1.Finding {
	cut := now.UTC().Truncate(time.Second)
	var out []v1alpha1.Finding
	for _, f := range findings {
		if f.FirstSeen != nil && f.FirstSeen.Time.Before(cut) {
			out = append(out, f)
		}
	}
	return out
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

// evaluationFailed records that the pass could not gather its objects: the namespaces it
// evaluates count as unwritten and their reports are marked stale, and the profile's status
// says so: its result is Unknown, and its Ready condition names them (a full evaluation's
// failure also gives the cause), until an evaluation of each succeeds. It returns cause with
// whatever else failed.
func (r *ComplianceProfileReconciler) evaluationFailed(ctx context.Context, p *pass, cause error) error {
	err := fmt.Errorf("gathering objects: %w", cause)
	if stopping(ctx) {
		return err // the operator is stopping: nothing failed (runPhases)
	}
	message := "The evaluation failed: " + cause.Error()
	if !p.full() {
		// The profile's roll-up holds the namespace's last summary, no longer its verdict.
		r.state.markNotCurrent(p.ps, p.namespace, p.now, p.seq, v1alpha1.ReasonEvaluationFailed, cause.Error())
		r.state.markUnwritten(p.ps, p.namespace, p.now)
		errs := []error{err, r.markStale(ctx, p.ps, types.NamespacedName{Namespace: p.namespace, Name: p.profile.Name}, p.now, v1alpha1.ReasonEvaluationFailed, message)}
		if _, fullDone := r.state.notCurrentCount(p.ps); fullDone {
			errs = append(errs, r.updateProfileStatus(ctx, p, r.profileProblems(ctx, p), nil))
		}
		return errors.Join(errs...)
	}
	// The reports this pass wrote before it failed are current; the others are not. Nor are
	// the summaries of what it did not evaluate (the cluster-scoped objects, if it failed
	// gathering them; the namespaces after the one that failed; a namespace never evaluated):
	// the next evaluation of another namespace must not count them as verdicts.
	notEvaluated := map[string]bool{"": true}
	for _, ns := range r.state.namespaces(p.ps) {
		if !p.written[ns] {
			r.state.markUnwritten(p.ps, ns, p.now)
		}
		notEvaluated[ns] = true
	}
	for ns := range p.selected {
		notEvaluated[ns] = true
	}
	for ns := range notEvaluated {
		if !r.state.evaluatedBy(p.ps, ns, p.seq) {
			r.state.markNotCurrent(p.ps, ns, p.now, p.seq, v1alpha1.ReasonEvaluationFailed, cause.Error())
		}
	}
	// Nor do the cluster-scoped objects' criteria keep the last verdict.
	metrics.SetClusterUnknown(p.profile.Name)
	return errors.Join(err,
		r.markProfileReportsStale(ctx, p.profile, p.ps, p.now, p.written, v1alpha1.ReasonEvaluationFailed, message),
		r.updateProfileStatus(ctx, p, r.profileProblems(ctx, p), cause))
}

// markStale sets Stale=True on a report and its result to Unknown, keeping the rest of its
// content, so that no reader (nor `kubectl get`, nor a dashboard or alert on the namespace's
// result metrics) takes an old verdict for a current one. A report that does not exist has
// nothing to mark. The namespace counts in soc2_operator_reports_stale (ps, as of the failed or
// overdue evaluation at now) until an evaluation is written: whatever marks a report stale
// (a failed evaluation, the watchdog, a selector that does not parse) counts it, also in an
// operator that has just started and remembers no namespace yet. ps nil counts nothing.
func (r *ComplianceProfileReconciler) markStale(ctx context.Context, ps *profileState, key types.NamespacedName, now time.Time, reason, message string) error {
	if stopping(ctx) {
		// The operator is stopping: that is no reason to mark a report stale, nor to journal its
		// namespace Unknown (the journal records the stop).
		return ctx.Err()
	}
	if reason != v1alpha1.ReasonWriteFailed {
		// Not evaluated (a failed write was evaluated, and journaled, all the same).
		r.journal.unknown(key.Name, key.Namespace)
	}
	rep := &v1alpha1.ComplianceReport{}
	if err := r.Get(ctx, key, rep); err != nil {
		if apierrors.IsNotFound(err) {
			// Nothing to mark, but the metrics must not keep the verdict of a report that was
			// deleted as if current (a failed write sets them so where it fails: writeReport).
			if ps != nil && reason != v1alpha1.ReasonWriteFailed {
				metrics.SetNamespaceUnknown(key.Name, key.Namespace)
			}
			return nil
		}
		return fmt.Errorf("reading report %s to mark it stale (%s): %w", key, reason, err)
	}
	if ps != nil {
		r.state.markUnwritten(ps, key.Namespace, now)
	}
	// The metrics say Unknown too, even if the write below fails: the verdict they hold is
	// no longer current either (nor are the criteria and findings counts).
	metrics.SetNamespaceStale(key.Name, key.Namespace, rep.Status.Criteria)
	last := rep.Status.Result
	if c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); last == v1alpha1.Unknown &&
		c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason {
		return nil // already marked, for the same reason: keep the message that names the last result
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
		return fmt.Errorf("marking report %s stale (%s): %w", key, reason, err)
	}
	return nil
}

// markProfileReportsStale marks every report of the profile stale.
// Reports written by an evaluation newer than the failed one (made at now), or by the failed
// one itself before it failed (current, by namespace), are current and left alone.
func (r *ComplianceProfileReconciler) markProfileReportsStale(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, now time.Time,
	current map[string]bool, reason, message string) error {
	list := &v1alpha1.ComplianceReportList{}
	if err := r.List(ctx, list, client.MatchingLabels{v1alpha1.LabelProfile: profile.Name}); err != nil {
		return fmt.Errorf("listing the reports of profile %s to mark them stale: %w", profile.Name, err)
	}
	var errs []error
	for _, rep := range list.Items {
		if current[rep.Namespace] || r.state.writtenAfter(ps, rep.Namespace, now) {
			continue
		}
		errs = append(errs, r.markStale(ctx, ps, client.ObjectKeyFromObject(&rep), now, reason, message))
	}
	return errors.Join(errs...)
}

// deleteReport removes the report of a namespace the profile no longer selects.
func (r *ComplianceProfileReconciler) deleteReport(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, ns string) error {
	// The namespace's exceptions no longer count under this profile: judge them again, so
	// that none still reads Active under a profile that stopped assessing the namespace.
	if err := r.rejudgeExceptionsIn(ctx, ns); err != nil {
		return err
	}
	// What the namespace was last known to be under the profile: this process's last
	// evaluation, else (after a restart) what its report says.
	last := r.state.previousResult(ps, ns)
	rep := &v1alpha1.ComplianceReport{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: profile.Name}, rep); err == nil && last == "" && notProducedBy(profile, rep) == "" {
		last = rep.Status.Result
	}
	r.state.dropNamespace(ps, ns)
	r.journal.forgetNamespace(ctx, profile.Name, ns)
	r.firstSeen.Forget(profile.Name, ns)
	metrics.ForgetNamespace(profile.Name, ns)
	rep = &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: profile.Name, Namespace: ns}}
	if err := r.Delete(ctx, rep); err != nil {
		if apierrors.IsNotFound(err) {
			r.namespaceLeft(ctx, profile, ns, last)
			return nil
		}
		metrics.ReportWrites.WithLabelValues(profile.Name, "delete", "error").Inc()
		return fmt.Errorf("deleting report %s/%s: %w", ns, profile.Name, err)
	}
	metrics.ReportWrites.WithLabelValues(profile.Name, "delete", "ok").Inc()
	logf.FromContext(ctx).Info("Deleted report of a namespace the profile no longer selects", "namespace", ns, "profile", profile.Name)
	r.namespaceLeft(ctx, profile, ns, last)
	return nil
}

// namespaceLeft records on the profile that it no longer assesses a namespace it did (last is
// the namespace's last result under it; "" when the operator knew none, and then nothing is
// recorded): an Event that names the namespace, why it left in the terms of the profile's spec,
// and its last result, a Warning when that was NonCompliant or Unknown. The profile's counts only
// drop by one, and the journal's namespace.left needs a journal store: without the Event, a
// failing namespace relabelled out of a profile (where tenants may label their namespaces) left
// nothing a reader of the profile could see.
func (r *ComplianceProfileReconciler) namespaceLeft(ctx context.Context, profile *v1alpha1.ComplianceProfile, ns string, last v1alpha1.ComplianceState) {
	if last == "" {
		return
	}
	why := "it is no longer selected"
	namespace := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: ns}, namespace); apierrors.IsNotFound(err) {
		why = "it was deleted"
	} else if sel, problem := selection.NamespaceSelector(profile); err == nil && problem == nil {
		switch selection.Decide(profile, sel, namespace) {
		case selection.Excluded:
			why = "spec.excludedNamespaces lists it"
		case selection.System:
			why = "it is a system namespace and spec.includeSystemNamespaces is not set"
		case selection.Unselected:
			why = "its labels no longer match spec.namespaceSelector"
		}
	}
	kind := corev1.EventTypeNormal
	if last == v1alpha1.NonCompliant || last == v1alpha1.Unknown {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(profile, nil, kind, EventNamespaceLeft, "Select",
		"Namespace %s is no longer assessed under the profile (%s); its last result was %s, and it has no report under the profile any more", ns, why, last)
}

// rejudgeExceptionsIn asks the exception reconciler to judge every exception of namespace ns
// (every namespace: metav1.NamespaceAll) again.
func (r *ComplianceProfileReconciler) rejudgeExceptionsIn(ctx context.Context, ns string) error {
	if r.exceptionChanged == nil {
		return nil
	}
	list := &v1alpha1.ControlExceptionList{}
	if err := r.List(ctx, list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing the exceptions of namespace %s: %w", ns, err)
	}
	for i := range list.Items {
		r.exceptionChanged(types.NamespacedName{Namespace: list.Items[i].Namespace, Name: list.Items[i].Name})
	}
	return nil
}

// deleteUnselectedReports removes the reports named after the profile (whatever their labels
// say) in namespaces it does not select, and forgets those namespaces, report or not (one whose
// report could never be created still has a roll-up). A namespace the profile selects by now,
// though not when the evaluation began, is left alone.
func (r *ComplianceProfileReconciler) deleteUnselectedReports(ctx context.Context, profile *v1alpha1.ComplianceProfile, sel labels.Selector, ps *profileState, selected map[string]bool) error {
	list := &v1alpha1.ComplianceReportList{}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing reports: %w", err)
	}
	unselected := map[string]bool{}
	for _, rep := range list.Items {
		if !selected[rep.Namespace] && rep.Name == profile.Name {
			unselected[rep.Namespace] = true
		}
	}
	for _, ns := range r.state.namespaces(ps) {
		if !selected[ns] {
			unselected[ns] = true
		}
	}
	var errs []error
	for _, ns := range sortedKeys(unselected) {
		if sel != nil && r.selectedNow(ctx, profile, sel, ns) {
			// It joined the profile after the evaluation chose its namespaces: the evaluation
			// of that namespace alone, which its change queued, evaluates it (and may have
			// written its report already).
			continue
		}
		errs = append(errs, r.deleteReport(ctx, profile, ps, ns))
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

// sweepOrphanPolicyReports deletes the PolicyReports of profiles that no longer exist. It runs
// when the operator starts leading: after that, a profile's deletion is seen and removes them
// (forget), and listing every PolicyReport of the cluster each minute would cost far more.
func (r *ComplianceProfileReconciler) sweepOrphanPolicyReports(ctx context.Context) error {
	if r.policyReports == nil {
		return nil
	}
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := r.List(ctx, profiles, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	labelled := make(map[string]bool, len(profiles.Items))
	for i := range profiles.Items {
		labelled[policyreport.LabelValue(profiles.Items[i].Name)] = true
	}
	return r.policyReports.sweep(ctx, func(v string) bool { return labelled[v] })
}

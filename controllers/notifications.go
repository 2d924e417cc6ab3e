package controllers

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// This file holds what the reconcilers tell people and each other about a transition they
// wrote: Events, alerts, and the exceptions whose match counts may have changed. Everything
// here follows a persisted write, so a restart never sends it twice.

// Event reasons on profiles.
const (
	EventNamespaceNonCompliant = "NamespaceNonCompliant"
	EventNamespaceCompliant    = "NamespaceCompliant"
	EventNamespaceNotAssessed  = "NamespaceNotAssessed"
	EventReportWriteFailed     = "ReportWriteFailed"
	EventReportDeleted         = "ReportDeleted"
	EventProfileInvalid        = "ProfileInvalid"
	// EventNamespaceLeft: the profile no longer selects a namespace it assessed; its report
	// was deleted (Warning when its last result was NonCompliant).
	EventNamespaceLeft = "NamespaceLeft"
)

// Event reasons on exceptions.
const (
	EventExceptionExpired  = "ExceptionExpired"
	EventExceptionInvalid  = "ExceptionInvalid"
	EventExceptionActive   = "ExceptionActive"
	EventExceptionPending  = "ExceptionPendingApproval"
	EventExceptionApproved = "ExceptionApproved"
	// EventExceptionRevoked: an Active exception was deleted (no finalizer held it), so the
	// findings it waived fail again. The Event refers to the deleted exception.
	EventExceptionRevoked = "ExceptionRevoked"
	// EventExceptionCoveredChanged (Warning): an approved exception covers findings other than
	// those it covered when approved (ConditionCoveredChangedSinceApproval turned True).
	EventExceptionCoveredChanged = "ExceptionCoveredChanged"
)

// notifyExceptions asks the exception reconciler to refresh the exceptions that can cover
// what the pass evaluated (every exception, for a full evaluation).
func (r *ComplianceProfileReconciler) notifyExceptions(_ context.Context, p *pass) (ctrl.Result, error) {
	if r.exceptionChanged == nil {
		return ctrl.Result{}, nil
	}
	for _, o := range p.outcomes {
		if p.full() || o.Selects(p.namespace) {
			r.exceptionChanged(types.NamespacedName{Namespace: o.Exception.Namespace, Name: o.Exception.Name})
		}
	}
	// And those whose count the pass changed though they no longer reach the namespace (an
	// exception edited to list other namespaces).
	for _, key := range p.matchesChanged {
		if ns, name, ok := strings.Cut(key, "/"); ok {
			r.exceptionChanged(types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	return ctrl.Result{}, nil
}

// notifyNamespaceChange follows a report's status write: alerts on new failures (fresh) and on
// the namespace turning NonCompliant, and an Event when its result crossed NonCompliant. unread
// is how many results the evaluation left unread (engine.Summary.Unread).
func (r *ComplianceProfileReconciler) notifyNamespaceChange(ctx context.Context, profile *v1alpha1.ComplianceProfile, rep *v1alpha1.ComplianceReport,
	previous v1alpha1.ComplianceState, fresh []v1alpha1.Finding, unread int, now time.Time) {
	log := logf.FromContext(ctx)
	ns, st := rep.Namespace, &rep.Status
	if previous != "" {
		// Alerts describe changes: the first evaluation of a namespace is a baseline, not news.
		r.alertTransitions(profile, ns, previous, fresh, st, unread, now)
	}
	switch {
	case st.Result == v1alpha1.NonCompliant && previous != v1alpha1.NonCompliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventNamespaceNonCompliant, "Evaluate",
			"Namespace %s became NonCompliant: %s", ns, nonCompliance(st, unread))
		log.Info("Namespace became non-compliant", "namespace", ns, "profile", profile.Name)
	case previous == v1alpha1.NonCompliant && st.Result == v1alpha1.Compliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeNormal, EventNamespaceCompliant, "Evaluate",
			"Namespace %s is Compliant again", ns)
		log.Info("Namespace became compliant", "namespace", ns, "profile", profile.Name)
	case previous == v1alpha1.NonCompliant && st.Result == v1alpha1.NotAssessed:
		// No longer failing, but not Compliant either: nothing in it was assessed.
		r.Recorder.Eventf(profile, rep, corev1.EventTypeNormal, EventNamespaceNotAssessed, "Evaluate",
			"Namespace %s is no longer NonCompliant but NotAssessed: no check of the profile assessed anything in it", ns)
		log.Info("Namespace became not assessed", "namespace", ns, "profile", profile.Name)
	}
}

// notifyProfileChange follows a profile's status write: alerts on new cluster-scoped failures
// (fresh: freshCluster, identified by the evaluation made at now), and an Event when the
// profile turned not Ready or not Ready for another reason.
func (r *ComplianceProfileReconciler) notifyProfileChange(profile *v1alpha1.ComplianceProfile, previous *v1alpha1.ComplianceProfileStatus, fresh []v1alpha1.Finding, now time.Time) {
	r.alertClusterFindings(profile, previous, fresh, now)
	ready := meta.FindStatusCondition(profile.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse {
		return
	}
	was := meta.FindStatusCondition(previous.Conditions, v1alpha1.ConditionReady)
	if was == nil || was.Status == metav1.ConditionTrue || was.Reason != ready.Reason {
		r.Recorder.Eventf(profile, nil, corev1.EventTypeWarning, EventProfileInvalid, "Validate", "%s", ready.Message)
	}
}

// alertClusterFindings sends an alert for every new failing cluster-scoped finding (fresh, which
// the evaluation made at now identified), not on the first evaluation (previous, the status
// before it, was never written: a baseline, not news).
func (r *ComplianceProfileReconciler) alertClusterFindings(profile *v1alpha1.ComplianceProfile, previous *v1alpha1.ComplianceProfileStatus, fresh []v1alpha1.Finding, now time.Time) {
	if profile.Spec.Alerts == nil || previous.ObservedGeneration == 0 {
		return
	}
	for _, f := range fresh {
		r.alerts.Send(findingAlert(profile.Name, "", f, now))
	}
}

// alertTransitions sends an alert for every new failing finding (fresh, which the evaluation
// made at now identified; the dispatcher keeps those at or above the profile's alert
// severity), and for a namespace that became NonCompliant.
func (r *ComplianceProfileReconciler) alertTransitions(profile *v1alpha1.ComplianceProfile, ns string, previous v1alpha1.ComplianceState, fresh []v1alpha1.Finding,
	st *v1alpha1.ComplianceReportStatus, unread int, now time.Time) {
	if profile.Spec.Alerts == nil {
		return
	}
	for _, f := range fresh {
		r.alerts.Send(findingAlert(profile.Name, ns, f, now))
	}
	if st.Result == v1alpha1.NonCompliant && previous != v1alpha1.NonCompliant {
		a := alert.Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: profile.Name, Namespace: ns,
			Message: nonCompliance(st, unread)}
		if st.LastEvaluated != nil {
			a.Time = st.LastEvaluated.Time
		}
		r.alerts.Send(a)
	}
}

// nonCompliance says why a report is NonCompliant: its failing findings, the results its
// resources left unread (which fail their criteria closed; unread, engine.Summary.Unread) when
// there are any, and the criteria failed. "0 failing findings, 2 criteria failed" left a reader
// to guess why.
func nonCompliance(st *v1alpha1.ComplianceReportStatus, unread int) string {
	if unread > 0 {
		return fmt.Sprintf("%d failing findings, %d not read in full (failing closed), %d criteria failed", st.Summary.Failing, unread, st.Summary.FailedCriteria)
	}
	return fmt.Sprintf("%d failing findings, %d criteria failed", st.Summary.Failing, st.Summary.FailedCriteria)
}

// freshFailures are the failing findings of a namespace's evaluation (sum) that its previous
// one did not have, and the failing findings to remember as alerted for the next one. When the
// previous evaluation is known (prevFailing: its failing findings, less those not yet alerted
// on), fresh are those not among them, listed in the report or not: a report lists the maxFindings most
// severe, so a new finding that sorted after them, beside as many old ones of its severity, was
// never listed and never alerted on. At most max are returned, the most severe first, and those
// left out stay fresh for the next evaluation (a tenant's thousand new failing Pods must not
// flood the sinks' queues, which every namespace shares). After a restart the journal says
// which were failing before (seedFailing). When it is not known (the first evaluation since a
// profile edit, or since a restart without a journal), fresh are the listed ones that the previous
// report (prevListed) did not list, and every failing finding counts as alerted. listed are the
// findings the new report lists, whose first-seen times a fresh finding that is listed keeps.
func freshFailures(sum *engine.Summary, prevFailing map[uint64]bool, known bool, listed, prevListed []v1alpha1.Finding,
	max int, now time.Time) (fresh []v1alpha1.Finding, alerted map[uint64]bool) {
	alerted = make(map[uint64]bool, sum.Failing+sum.Unread)
	if !known {
		for _, r := range sum.Findings {
			if alerting(r) {
				alerted[failingKey(r)] = true
			}
		}
		return newFailures(prevListed, listed), alerted
	}
	shown := make(map[string]*v1alpha1.Finding, len(listed))
	for i := range listed {
		shown[report.FindingKey(&listed[i])] = &listed[i]
	}
	var results []*engine.Result
	for _, r := range sum.Findings {
		if !alerting(r) {
			continue
		}
		k := failingKey(r)
		switch {
		case prevFailing[k]:
			alerted[k] = true
		case len(results) < max:
			results = append(results, r)
			alerted[k] = true
		}
	}
	return report.Findings(results, len(results), func(f *v1alpha1.Finding) (time.Time, bool) {
		if s := shown[report.FindingKey(f)]; s != nil && s.FirstSeen != nil {
			return s.FirstSeen.Time, true
		}
		return time.Time{}, false
	}, now), alerted
}

// alerting reports whether r is a finding that NewFinding alerts on: a failure, or a result its
// object left undecided (FailedOnObject: what the operator did not read of it, Result.Unread, or
// a custom check's expression it stopped or broke) that no exception waives, which the reports
// count as failing or fail closed on. Only failures were: a namespace admin who padded a literal
// credential past what the operator reads turned the namespace NonCompliant, and no alert
// named the workload.
func alerting(r *engine.Result) bool {
	return r.Status == engine.StatusFail || r.Exception == nil && r.FailedOnObject()
}

// alertingFinding is alerting for a finding a report lists: Fail, or NotAssessed without an
// exception (a report lists a NotAssessed result only when its object left it undecided).
func alertingFinding(f *v1alpha1.Finding) bool {
	return f.Result == v1alpha1.ResultFail || f.Result == v1alpha1.ResultNotAssessed && f.Exception == ""
}

// failingKey is a hash of a result's report.FindingKey: the check, the resource and the
// container.
func failingKey(r *engine.Result) uint64 {
	f := v1alpha1.Finding{Check: r.Check.ID, Container: r.Container}
	if o := r.Object; o != nil {
		f.Resource = v1alpha1.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(report.FindingKey(&f)))
	return h.Sum64()
}

// newFailures are the failing (alertingFinding) findings of next that prev did not list.
func newFailures(prev, next []v1alpha1.Finding) []v1alpha1.Finding {
	seen := make(map[string]bool, len(prev))
	for i := range prev {
		if alertingFinding(&prev[i]) {
			seen[report.FindingKey(&prev[i])] = true
		}
	}
	var out []v1alpha1.Finding
	for i := range next {
		if alertingFinding(&next[i]) && !seen[report.FindingKey(&next[i])] {
			out = append(out, next[i])
		}
	}
	return out
}

// findingAlert is the NewFinding alert of a failing finding that the evaluation made at
// identified found new (freshFailures). Its time is the finding's firstSeen, but its key holds
// identified: a finding failing again after it stopped (an exception deleted, expired or edited
// to waive less keeps its firstSeen) is a new transition, which sinks that delivered the first
// must not take for it (alert.DefaultKey). For a finding never seen before the two are the same.
func findingAlert(profile, ns string, f v1alpha1.Finding, identified time.Time) alert.Alert {
	a := alert.Alert{Event: v1alpha1.AlertNewFinding, Profile: profile, Namespace: ns, Severity: f.Severity, Result: f.Result,
		Check: f.Check, Criteria: f.Criteria, Resource: f.Resource, Container: f.Container, Message: f.Message}
	if f.FirstSeen != nil {
		a.Time = f.FirstSeen.Time
	}
	k := a
	if k.Time.IsZero() || identified.After(k.Time) {
		k.Time = identified
	}
	a.Key = alert.DefaultKey(k)
	return a
}

// sendAlert tells every profile that applies and has alerts about an exception's transition.
func (r *ControlExceptionReconciler) sendAlert(event v1alpha1.AlertEvent, ex *v1alpha1.ControlException, profiles []*v1alpha1.ComplianceProfile) {
	for _, p := range profiles {
		if p.Spec.Alerts == nil {
			continue
		}
		r.alerts.Configure(p.Name, p.Spec.Alerts)
		r.alerts.Send(alert.Alert{Event: event, Profile: p.Name, Namespace: ex.Namespace,
			Exception: engine.ExceptionKey(ex.Namespace, ex.Name), Expires: ex.Spec.Expires.Time,
			Message: fmt.Sprintf("%s (owner %s): %s", ex.Name, ex.Spec.Owner, ex.Spec.Reason)})
	}
}

func (r *ControlExceptionReconciler) recordTransition(ctx context.Context, ex *v1alpha1.ControlException, previous v1alpha1.ExceptionState) {
	log := logf.FromContext(ctx)
	switch ex.Status.State {
	case v1alpha1.ExceptionExpired:
		if ex.DeletionTimestamp != nil {
			r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionExpired, "Expire", "%s", ex.Status.Message)
			log.Info("Exception deleted while finalizers hold it", "exception", klog.KObj(ex), "finalizers", ex.Finalizers)
			return
		}
		r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionExpired, "Expire",
			"Exception expired at %s; %s", ex.Spec.Expires.UTC().Format(time.RFC3339), "the findings it covered fail again")
		log.Info("Exception expired", "exception", klog.KObj(ex))
	case v1alpha1.ExceptionInvalid:
		r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionInvalid, "Validate", "%s", ex.Status.Message)
		log.Info("Exception is invalid", "exception", klog.KObj(ex), "message", ex.Status.Message)
	case v1alpha1.ExceptionPendingApproval:
		r.Recorder.Eventf(ex, nil, corev1.EventTypeNormal, EventExceptionPending, "Validate", "%s", ex.Status.Message)
	case v1alpha1.ExceptionActive:
		if previous != "" {
			r.Recorder.Eventf(ex, nil, corev1.EventTypeNormal, EventExceptionActive, "Validate", "%s", ex.Status.Message)
		}
	}
}

// notifyTransition follows an exception's status write: an Event for a new state or a new
// approval, and alerts when it expired (ExceptionRevoked when it was deleted) or started
// expiring soon.
func (r *ControlExceptionReconciler) notifyTransition(ctx context.Context, ex *v1alpha1.ControlException, previous *v1alpha1.ControlExceptionStatus, applies []*v1alpha1.ComplianceProfile, now time.Time) {
	st := &ex.Status
	if previous.State != st.State {
		r.recordTransition(ctx, ex, previous.State)
	}
	if st.ApprovedBy != "" && st.ApprovedAt != nil && !st.ApprovedAt.Equal(previous.ApprovedAt) {
		r.Recorder.Eventf(ex, nil, corev1.EventTypeNormal, EventExceptionApproved, "Approve",
			"Approved by %s (requested by %s)", st.ApprovedBy, ex.Spec.RequestedBy)
		logf.FromContext(ctx).Info("Exception approved", "exception", klog.KObj(ex), "approvedBy", st.ApprovedBy, "requestedBy", ex.Spec.RequestedBy)
	}
	if !meta.IsStatusConditionTrue(previous.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval) &&
		meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval) {
		r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionCoveredChanged, "Evaluate",
			"Covers findings (%s) other than those it covered when %s approved it (%s); approve it again once reviewed",
			st.CoveredDigest, st.ApprovedBy, st.ApprovedCoveredDigest)
		logf.FromContext(ctx).Info("Exception covers findings other than those approved", "exception", klog.KObj(ex),
			"approvedBy", st.ApprovedBy, "approvedCoveredDigest", st.ApprovedCoveredDigest, "coveredDigest", st.CoveredDigest)
		r.sendCoveredChanged(ex, applies)
		r.journal.coveredChanged(ctx, ex, true, now)
	}
	if meta.IsStatusConditionTrue(previous.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval) &&
		!meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval) {
		r.journal.coveredChanged(ctx, ex, false, now)
	}
	if previous.State == v1alpha1.ExceptionActive && st.State == v1alpha1.ExceptionExpired {
		if ex.DeletionTimestamp != nil {
			// Deleted while a finalizer holds it: revoked, not expired (its expiry is still ahead).
			r.sendRevoked(ex, applies, ex.DeletionTimestamp.Time)
		} else {
			r.sendAlert(v1alpha1.AlertExceptionExpired, ex, applies)
		}
	}
	if !meta.IsStatusConditionTrue(previous.Conditions, v1alpha1.ConditionExpiringSoon) && meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionExpiringSoon) {
		r.sendAlert(v1alpha1.AlertExceptionExpiring, ex, applies)
	}
}

// honouredExceptions is, for each exception the reconciler last judged Active, a copy of it and
// the profiles it applied to: once the exception is deleted (NotFound) nothing else says what it
// waived or whom to tell. An exception held by a finalizer turns Expired (ReasonDeleted) first
// and is forgotten then: notifyTransition sent its ExceptionRevoked.
type honouredExceptions struct {
	mu sync.Mutex
	of map[types.NamespacedName]honouredException
	// lease is honouredAnnotation, set by the first read (restoreHonoured, under loadMu).
	lease *leaseAnnotation

	// loaded says whether what the previous process kept was read (restoreHonoured).
	// disabled: the Lease cannot be read; nothing is kept.
	loadMu   sync.Mutex
	loaded   bool
	disabled bool
}

type honouredException struct {
	ex       *v1alpha1.ControlException
	profiles []string
}

// remember records ex as judged: kept when Active, forgotten otherwise.
func (h *honouredExceptions) remember(ex *v1alpha1.ControlException, applies []*v1alpha1.ComplianceProfile) {
	key := types.NamespacedName{Namespace: ex.Namespace, Name: ex.Name}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ex.Status.State != v1alpha1.ExceptionActive || ex.DeletionTimestamp != nil {
		delete(h.of, key)
		return
	}
	if h.of == nil {
		h.of = map[types.NamespacedName]honouredException{}
	}
	kept := &v1alpha1.ControlException{TypeMeta: ex.TypeMeta, Spec: *ex.Spec.DeepCopy()}
	kept.Namespace, kept.Name, kept.UID, kept.ResourceVersion = ex.Namespace, ex.Name, ex.UID, ex.ResourceVersion
	if kept.Kind == "" {
		kept.APIVersion, kept.Kind = v1alpha1.GroupVersion.String(), "ControlException"
	}
	names := make([]string, 0, len(applies))
	for _, p := range applies {
		names = append(names, p.Name)
	}
	slices.Sort(names) // kept on stateLease: the same set encodes the same
	h.of[key] = honouredException{ex: kept, profiles: names}
}

// replaced removes and returns what was remembered of key when it was another object (uid
// differs: deleted and created again under the name before the reconciler saw it gone).
func (h *honouredExceptions) replaced(key types.NamespacedName, uid types.UID) (honouredException, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.of[key]
	if !ok || e.ex.UID == "" || uid == "" || e.ex.UID == uid {
		return honouredException{}, false
	}
	delete(h.of, key)
	return e, true
}

// forget removes key and returns what was remembered of it, if it was Active.
func (h *honouredExceptions) forget(key types.NamespacedName) (honouredException, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.of[key]
	delete(h.of, key)
	return e, ok
}

// notifyGone tells of an exception judged Active that no longer exists: revoked (notifyRevoked),
// unless its expiry passed before the reconciler saw it gone (deleted while no operator ran, or
// before the reconciler judged it at its expiry): its waiver ended then, whenever it was
// deleted, so it expired (notifyExpiredGone).
func (r *ControlExceptionReconciler) notifyGone(ctx context.Context, h honouredException) {
	if !h.ex.Spec.Expires.After(r.Clock.Now()) {
		r.notifyExpiredGone(ctx, h)
		return
	}
	r.notifyRevoked(ctx, h)
}

// notifyExpiredGone sends ExceptionExpired, and an ExceptionExpired Event on the deleted
// exception, for an exception judged Active that expired and was deleted before the reconciler
// judged it again.
func (r *ControlExceptionReconciler) notifyExpiredGone(ctx context.Context, h honouredException) {
	ex := h.ex
	r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionExpired, "Expire",
		"Exception expired at %s and was deleted before the operator judged it again; the findings it covered (checks %s) fail again",
		ex.Spec.Expires.UTC().Format(time.RFC3339), strings.Join(ex.Spec.Checks, ", "))
	logf.FromContext(ctx).Info("Active exception expired and deleted before it was judged again", "exception", klog.KObj(ex))
	r.sendAlert(v1alpha1.AlertExceptionExpired, ex, r.profilesNamed(ctx, h.profiles))
}

// profilesNamed are the profiles of those names that exist.
func (r *ControlExceptionReconciler) profilesNamed(ctx context.Context, names []string) []*v1alpha1.ComplianceProfile {
	var profiles []*v1alpha1.ComplianceProfile
	for _, name := range names {
		p := &v1alpha1.ComplianceProfile{}
		if err := r.Get(ctx, types.NamespacedName{Name: name}, p); err == nil {
			profiles = append(profiles, p)
		}
	}
	return profiles
}

// notifyRevoked tells the profiles an exception applied to, and the exception's namespace (an
// Event on the deleted exception), that it was deleted while Active: the waiver was revoked
// before its expiry, and the findings it covered fail again (each alerted as NewFinding).
func (r *ControlExceptionReconciler) notifyRevoked(ctx context.Context, h honouredException) {
	ex, now := h.ex, r.Clock.Now().Truncate(time.Second)
	checks := strings.Join(ex.Spec.Checks, ", ")
	r.Recorder.Eventf(ex, nil, corev1.EventTypeWarning, EventExceptionRevoked, "Revoke",
		"Exception deleted while Active, before its expiry at %s; the findings it waived (checks %s) fail again",
		ex.Spec.Expires.UTC().Format(time.RFC3339), checks)
	logf.FromContext(ctx).Info("Active exception deleted", "exception", klog.KObj(ex), "checks", ex.Spec.Checks, "owner", ex.Spec.Owner)
	r.sendRevoked(ex, r.profilesNamed(ctx, h.profiles), now)
}

// sendCoveredChanged sends ExceptionCoveredChanged, at the condition's transition, to the sinks
// of the profiles the exception applies to.
func (r *ControlExceptionReconciler) sendCoveredChanged(ex *v1alpha1.ControlException, profiles []*v1alpha1.ComplianceProfile) {
	c := meta.FindStatusCondition(ex.Status.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	if c == nil {
		return
	}
	st := &ex.Status
	for _, p := range profiles {
		if p.Spec.Alerts == nil {
			continue
		}
		r.alerts.Configure(p.Name, p.Spec.Alerts)
		r.alerts.Send(alert.Alert{Event: v1alpha1.AlertExceptionCoveredChanged, Profile: p.Name, Namespace: ex.Namespace,
			Exception: engine.ExceptionKey(ex.Namespace, ex.Name), Expires: ex.Spec.Expires.Time, Time: c.LastTransitionTime.Time,
			Message: fmt.Sprintf("%s (owner %s, approved by %s) covers %s, not %s as approved: review what it covers and approve it again",
				ex.Name, ex.Spec.Owner, st.ApprovedBy, st.CoveredDigest, st.ApprovedCoveredDigest)})
	}
}

// sendRevoked sends ExceptionRevoked, at revoked, to the sinks of the profiles an exception
// deleted while Active applied to.
func (r *ControlExceptionReconciler) sendRevoked(ex *v1alpha1.ControlException, profiles []*v1alpha1.ComplianceProfile, revoked time.Time) {
	checks := strings.Join(ex.Spec.Checks, ", ")
	for _, p := range profiles {
		if p.Spec.Alerts == nil {
			continue
		}
		r.alerts.Configure(p.Name, p.Spec.Alerts)
		r.alerts.Send(alert.Alert{Event: v1alpha1.AlertExceptionRevoked, Profile: p.Name, Namespace: ex.Namespace,
			Exception: engine.ExceptionKey(ex.Namespace, ex.Name), Expires: ex.Spec.Expires.Time, Time: revoked,
			Message: fmt.Sprintf("%s (owner %s) waived checks %s: %s", ex.Name, ex.Spec.Owner, checks, ex.Spec.Reason)})
	}
}

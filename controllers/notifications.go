package controllers

import (
	"context"
	"fmt"
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
	EventReportWriteFailed     = "ReportWriteFailed"
	EventProfileInvalid        = "ProfileInvalid"
)

// Event reasons on exceptions.
const (
	EventExceptionExpired  = "ExceptionExpired"
	EventExceptionInvalid  = "ExceptionInvalid"
	EventExceptionActive   = "ExceptionActive"
	EventExceptionPending  = "ExceptionPendingApproval"
	EventExceptionApproved = "ExceptionApproved"
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
	return ctrl.Result{}, nil
}

// notifyNamespaceChange follows a report's status write: alerts on new failures and on the
// namespace turning NonCompliant, and an Event when its result crossed NonCompliant.
func (r *ComplianceProfileReconciler) notifyNamespaceChange(ctx context.Context, profile *v1alpha1.ComplianceProfile, rep *v1alpha1.ComplianceReport,
	previous v1alpha1.ComplianceState, prevFindings []v1alpha1.Finding) {
	log := logf.FromContext(ctx)
	ns, st := rep.Namespace, &rep.Status
	if previous != "" {
		// Alerts describe changes: the first evaluation of a namespace is a baseline, not news.
		r.alertTransitions(profile, ns, previous, prevFindings, st)
	}
	switch {
	case st.Result == v1alpha1.NonCompliant && previous != v1alpha1.NonCompliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeWarning, EventNamespaceNonCompliant, "Evaluate",
			"Namespace %s became NonCompliant: %d failing findings, %d criteria failed", ns, st.Summary.Failing, st.Summary.FailedCriteria)
		log.Info("Namespace became non-compliant", "namespace", ns, "profile", profile.Name)
	case previous == v1alpha1.NonCompliant && st.Result != v1alpha1.NonCompliant:
		r.Recorder.Eventf(profile, rep, corev1.EventTypeNormal, EventNamespaceCompliant, "Evaluate",
			"Namespace %s is %s again", ns, st.Result)
		log.Info("Namespace became compliant", "namespace", ns, "profile", profile.Name)
	}
}

// notifyProfileChange follows a profile's status write: alerts on new cluster-scoped failures
// (not on the first evaluation, a baseline), and an Event when the profile turned not Ready
// or not Ready for another reason.
func (r *ComplianceProfileReconciler) notifyProfileChange(profile *v1alpha1.ComplianceProfile, previous *v1alpha1.ComplianceProfileStatus) {
	if profile.Spec.Alerts != nil && previous.ObservedGeneration != 0 {
		for _, f := range newFailures(previous.ClusterFindings, profile.Status.ClusterFindings) {
			r.alerts.Send(findingAlert(profile.Name, "", f))
		}
	}
	ready := meta.FindStatusCondition(profile.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse {
		return
	}
	was := meta.FindStatusCondition(previous.Conditions, v1alpha1.ConditionReady)
	if was == nil || was.Status == metav1.ConditionTrue || was.Reason != ready.Reason {
		r.Recorder.Eventf(profile, nil, corev1.EventTypeWarning, EventProfileInvalid, "Validate", "%s", ready.Message)
	}
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
// approval, and alerts when it expired or started expiring soon.
func (r *ControlExceptionReconciler) notifyTransition(ctx context.Context, ex *v1alpha1.ControlException, previous *v1alpha1.ControlExceptionStatus, applies []*v1alpha1.ComplianceProfile) {
	st := &ex.Status
	if previous.State != st.State {
		r.recordTransition(ctx, ex, previous.State)
	}
	if st.ApprovedBy != "" && st.ApprovedAt != nil && !st.ApprovedAt.Equal(previous.ApprovedAt) {
		r.Recorder.Eventf(ex, nil, corev1.EventTypeNormal, EventExceptionApproved, "Approve",
			"Approved by %s (requested by %s)", st.ApprovedBy, ex.Spec.RequestedBy)
		logf.FromContext(ctx).Info("Exception approved", "exception", klog.KObj(ex), "approvedBy", st.ApprovedBy, "requestedBy", ex.Spec.RequestedBy)
	}
	if previous.State == v1alpha1.ExceptionActive && st.State == v1alpha1.ExceptionExpired {
		r.sendAlert(v1alpha1.AlertExceptionExpired, ex, applies)
	}
	if !meta.IsStatusConditionTrue(previous.Conditions, v1alpha1.ConditionExpiringSoon) && meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionExpiringSoon) {
		r.sendAlert(v1alpha1.AlertExceptionExpiring, ex, applies)
	}
}

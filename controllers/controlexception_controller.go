package controllers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// exceptionRecheck is how often an exception is re-judged with nothing else changing, so that
// the exception metrics and a missed notification heal.
const exceptionRecheck = time.Hour

// ControlExceptionReconciler keeps each exception's status: Active, Expired or Invalid against
// the profiles it applies to, and how many findings it covers. It requeues at the expiry, so the
// status turns Expired on time with nothing else changing.
type ControlExceptionReconciler struct {
	client.Client
	Catalogue      []*engine.Check
	AdminNamespace string
	Clock          clock.PassiveClock
	Recorder       events.EventRecorder
	// Approval says whether approvals can be trusted.
	Approval *admissionpolicy.Verifier
	// APIReader reads a namespace the cache does not hold yet (one applied together with its
	// exceptions) from the API server; nil reads only the cache.
	APIReader client.Reader

	state  *state
	alerts *alert.Dispatcher
	tally  exceptionTally
	// honoured remembers each exception last judged Active, for its ExceptionRevoked alert once
	// it is deleted (notifyRevoked).
	honoured honouredExceptions
	// changed receives the exceptions to judge again (enqueue).
	changed chan event.TypedGenericEvent[*v1alpha1.ControlException]
	// leadership says whether this process leads, for the saves of honoured (nil: it does).
	leadership *leadership
	// journal records the exception's CoveredChangedSinceApproval transitions (nil: no journal).
	journal *journalHook
}

// defaultExpiryWarning is how long before an exception's expiry it counts as expiring soon,
// when no profile that applies says otherwise.
const defaultExpiryWarning = 72 * time.Hour

// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=controlexceptions,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=controlexceptions/status,verbs=get;update;patch

// Reconcile judges the exception against every profile and writes its status when it changed.
func (r *ControlExceptionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// What the previous process judged Active, before anything is judged: an exception deleted
	// meanwhile is revoked now (honouredstore.go).
	if err := r.restoreHonoured(ctx); err != nil {
		return ctrl.Result{}, err
	}
	ex := &v1alpha1.ControlException{}
	if err := r.Get(ctx, req.NamespacedName, ex); err != nil {
		if apierrors.IsNotFound(err) {
			if h, ok := r.honoured.forget(req.NamespacedName); ok {
				r.notifyGone(ctx, h)
			}
			return ctrl.Result{}, r.updateMetrics(ctx, req.NamespacedName, nil)
		}
		return ctrl.Result{}, err
	}
	if h, ok := r.honoured.replaced(req.NamespacedName, ex.UID); ok {
		r.notifyGone(ctx, h) // deleted and created again before it was judged
	}
	if r.state.awaitApprovalCheck(r.Approval) {
		// Just started: judged now, an approved exception would read PendingApproval until the
		// admission policies are checked. The check queues every exception again.
		return ctrl.Result{RequeueAfter: approvalCheckRetry}, nil
	}
	now := r.Clock.Now()
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := r.List(ctx, profiles); err != nil {
		return ctrl.Result{}, err
	}
	assessing, err := r.assessing(ctx, ex, profiles.Items)
	if err != nil {
		return ctrl.Result{}, err
	}
	trust, why := r.Approval.Trust()
	observed := engine.AsJudged(ex, trust, r.Approval.InForceSince())
	state, reason, message, applies, honouring, awaiting := r.judge(observed, assessing, now, trust, why)
	warning := expiryWarning(applies)
	desired := observed.Status.DeepCopy()
	desired.ObservedGeneration = ex.Generation
	desired.State = state
	desired.Message = message
	// The approval as the operator first saw it trusted: approvedBy checked by the API server,
	// approvedAt from the operator's clock.
	approver, _ := engine.TrustedApprover(observed, trust, why)
	recorded := engine.ApprovalRecorded(ex)
	// Approved anew: another approver, none recorded before, or the approval written again
	// (a write of the approval, as of the spec, is a new generation: the API server counts
	// every change but to metadata and status).
	reapproved := approver != "" && (approver != ex.Status.ApprovedBy || ex.Status.ApprovedAt == nil || ex.Status.ApprovedGeneration != ex.Generation)
	switch {
	case approver != "":
		if approver != ex.Status.ApprovedBy || ex.Status.ApprovedAt == nil {
			desired.ApprovedAt = &metav1.Time{Time: now.Truncate(time.Second)}
		}
		desired.ApprovedBy, desired.ApprovedGeneration = approver, ex.Generation
	case ex.Approval == nil || trust == engine.ApprovalEnforced:
		// No approval, or one the checks refuse (by the requester, say).
		desired.ApprovedBy, desired.ApprovedAt, desired.ApprovedGeneration = "", nil, 0
	case !r.Approval.Checked():
		// The policies are not checked yet (the operator is starting): keep the record.
	case !recorded:
		// The policies are known to be missing: an approval trusted before counts again when
		// they are back; one first seen now is never trusted, since anyone could have written it.
		desired.ApprovedBy, desired.ApprovedAt, desired.ApprovedGeneration = "", nil, 0
		desired.UnverifiedApprovalGeneration = ex.Generation
	}
	matched, undecided, digest, current := r.state.matched(engine.ExceptionKey(ex.Namespace, ex.Name), ex.UID, ex.Generation, honouring)
	desired.MatchedFindings, desired.UndecidedFindings, desired.CoveredDigest = int32(matched), int32(undecided), digest
	pin := ""
	if observed.Approval != nil {
		pin = observed.Approval.CoveredDigest
	}
	first := r.state.firstCovered(engine.ExceptionKey(ex.Namespace, ex.Name), ex.UID, ex.Generation)
	coveredSinceApproval(desired, reapproved, state == v1alpha1.ExceptionActive && current, ex.Generation, pin, first)
	if note := wouldCover(desired, state, r.state, ex, awaiting); note != "" {
		message += "; " + note
		desired.Message = message
	}
	condStatus := metav1.ConditionFalse
	if state == v1alpha1.ExceptionActive {
		condStatus = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&desired.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: condStatus,
		Reason: reason, Message: engine.Truncate(message), ObservedGeneration: ex.Generation})
	untilExpiry := ex.Spec.Expires.Sub(now)
	expiring := metav1.Condition{Type: v1alpha1.ConditionExpiringSoon, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonNotExpiringSoon, ObservedGeneration: ex.Generation,
		Message: fmt.Sprintf("Expires at %s, more than %s away", ex.Spec.Expires.UTC().Format(time.RFC3339), warning)}
	if state == v1alpha1.ExceptionActive && untilExpiry <= warning {
		expiring.Status, expiring.Reason = metav1.ConditionTrue, v1alpha1.ReasonExpiringSoon
		expiring.Message = fmt.Sprintf("Expires at %s, in %s", ex.Spec.Expires.UTC().Format(time.RFC3339), untilExpiry.Round(time.Minute))
	}
	meta.SetStatusCondition(&desired.Conditions, expiring)

	if !equality.Semantic.DeepEqual(&ex.Status, desired) {
		previous := ex.Status.DeepCopy()
		ex.Status = *desired
		if err := r.Status().Update(ctx, ex); err != nil {
			if apierrors.IsConflict(err) {
				// The cache is behind a write (after an outage, say): judge again shortly.
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing the status of exception %s: %w", req.NamespacedName, err)
		}
		r.notifyTransition(ctx, ex, previous, applies, now)
	}
	r.honoured.remember(ex, applies)
	if err := r.updateMetrics(ctx, req.NamespacedName, ex); err != nil {
		return ctrl.Result{}, err
	}
	requeue := exceptionRecheck
	if state == v1alpha1.ExceptionActive {
		requeue = minPositive(requeue, untilExpiry+time.Second)
		if untilExpiry > warning {
			requeue = minPositive(requeue, untilExpiry-warning+time.Second)
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// noneCovered is status.approvedCoveredDigest for an approval first judged covering nothing.
const noneCovered = "none"

// wouldCover records, for a PendingApproval exception, what it would cover were it approved now
// (status.wouldCover, status.wouldCoverDigest), across the profiles awaiting its approval, as
// the latest evaluations of its current generation found it: what the approver approves. An
// exception in any other state, or whose current generation no evaluation has judged yet under
// every such profile (its spec just changed, say), shows neither: a digest of what an earlier
// spec would have covered is not what the approver would approve. Nor does one the evaluations
// did not compute it for (engine.MaxPendingJudged: a namespace with more pending exceptions):
// the note returned says so, for its message, so that no empty field reads as "covers nothing".
func wouldCover(st *v1alpha1.ControlExceptionStatus, judged v1alpha1.ExceptionState, s *state, ex *v1alpha1.ControlException, awaiting []string) (note string) {
	st.WouldCover, st.WouldCoverDigest = nil, ""
	if judged != v1alpha1.ExceptionPendingApproval {
		return ""
	}
	n, digest, current, notComputed := s.wouldCover(engine.ExceptionKey(ex.Namespace, ex.Name), ex.UID, ex.Generation, awaiting)
	if !current {
		return notComputed
	}
	count := int32(n)
	st.WouldCover, st.WouldCoverDigest = &count, cmp.Or(digest, noneCovered)
	return ""
}

// coveredSinceApproval records what an approval covers (status.approvedCoveredDigest) and
// whether the exception has covered anything else since (ConditionCoveredChangedSinceApproval):
// an approver approves a waiver for what it covers then, and a namespace admin who labels
// another workload into its labelSelector moves it without changing its spec (which would void
// the approval). judged says whether st.CoveredDigest is of the exception's current generation,
// with its approval, as an evaluation found it; until then what the approval covers is not
// known and nothing is recorded (after a restart, too, the operator's counts start empty). The
// condition, once True, stays True, even if the findings move back, until the approval is
// written again (reapproved): what it waived in between was never approved. pin is the
// approval's coveredDigest, what the approver saw it would cover (status.wouldCoverDigest) and
// approved: when set, it is what the approval covers, and a first evaluation that finds the
// exception covering other findings (relabelled in between) turns the condition True at once.
// Without a pin, first is what the approval covers (state.firstCovered: what the first
// evaluation of each namespace with it found, "" when not known), and the same holds: an
// exception of several namespaces is judged everywhere only by a full evaluation, and a
// workload labelled into it after the approval, before then, was never approved.
func coveredSinceApproval(st *v1alpha1.ControlExceptionStatus, reapproved, judged bool, generation int64, pin, first string) {
	if st.ApprovedBy == "" || reapproved {
		st.ApprovedCoveredDigest = ""
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
		if st.ApprovedBy == "" {
			return
		}
	}
	cond := metav1.Condition{Type: v1alpha1.ConditionCoveredChangedSinceApproval, ObservedGeneration: generation}
	switch previous := meta.FindStatusCondition(st.Conditions, cond.Type); {
	case !judged && st.ApprovedCoveredDigest == "":
		cond.Status, cond.Reason = metav1.ConditionUnknown, v1alpha1.ReasonCoverageNotRecorded
		cond.Message = "No evaluation has judged the exception with its approval yet"
	case !judged:
		return // as last judged
	case st.ApprovedCoveredDigest == "" && pin != "" && st.CoveredDigest != "" && st.CoveredDigest != pin:
		st.ApprovedCoveredDigest = pin
		cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonCoveredChanged
		cond.Message = "Covers findings (" + st.CoveredDigest + ") other than those the approval pinned (approval.coveredDigest " + pin +
			"): review what it covers (the reports' exceptions) and approve it again"
	case st.ApprovedCoveredDigest == "" && pin == "" && first != "" && st.CoveredDigest != "" && st.CoveredDigest != first:
		st.ApprovedCoveredDigest = first
		cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonCoveredChanged
		cond.Message = "Covers findings (" + st.CoveredDigest + ") other than those it covered when first evaluated with its approval (" + first +
			"): review what it covers (the reports' exceptions) and approve it again"
	case st.ApprovedCoveredDigest == "":
		st.ApprovedCoveredDigest = cmp.Or(pin, first, st.CoveredDigest, noneCovered)
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonCoveredAsApproved
		cond.Message = "Covers the findings it covered when approved (" + st.ApprovedCoveredDigest + ")"
	case st.CoveredDigest != "" && st.CoveredDigest != st.ApprovedCoveredDigest:
		cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonCoveredChanged
		cond.Message = "Covers findings (" + st.CoveredDigest + ") other than those it covered when approved (" + st.ApprovedCoveredDigest +
			"): review what it covers (the reports' exceptions) and approve it again"
	case previous != nil && previous.Status == metav1.ConditionTrue:
		return // covered other findings since the approval: True until approved again
	default:
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonCoveredAsApproved
		cond.Message = "Covers the findings it covered when approved (" + st.ApprovedCoveredDigest + "), or none"
	}
	meta.SetStatusCondition(&st.Conditions, cond)
}

// assessing returns the profiles that can honour the exception where it waives: for an
// exception in a tenant's namespace, those that assess that namespace (a profile that does not
// select it never judges a finding there, so its verdict would say something untrue: Active
// under a profile that waives nothing, say); an exception in the operator's namespace names its
// namespaces itself, so every profile.
func (r *ControlExceptionReconciler) assessing(ctx context.Context, ex *v1alpha1.ControlException, profiles []v1alpha1.ComplianceProfile) ([]v1alpha1.ComplianceProfile, error) {
	if ex.Namespace == r.AdminNamespace {
		return profiles, nil
	}
	// Through the API server when the cache lacks the namespace: judged as in no namespace, the
	// exception would say no profile assesses it until the hourly re-check.
	ns, err := inventory.Namespace(ctx, r.Client, r.APIReader, ex.Namespace)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading namespace %s of exception %s/%s: %w", ex.Namespace, ex.Namespace, ex.Name, err)
	}
	var out []v1alpha1.ComplianceProfile
	for i := range profiles {
		sel, problem := selection.NamespaceSelector(&profiles[i])
		if problem == nil && selection.Selects(&profiles[i], sel, ns) {
			out = append(out, profiles[i])
		}
	}
	return out, nil
}

// judge settles the exception's state over the profiles it applies to: Expired once its expiry
// passes or once it is deleted (held by a finalizer), Active when some profile honours it, else PendingApproval when some profile waits for
// its approval, else Invalid when it is invalid for every profile that would honour it. It
// also returns the names of the profiles that honour it (Active only).
func (r *ControlExceptionReconciler) judge(ex *v1alpha1.ControlException, profiles []v1alpha1.ComplianceProfile, now time.Time,
	trust engine.ApprovalTrust, why string) (state v1alpha1.ExceptionState, reason, message string, applies []*v1alpha1.ComplianceProfile, honouring, awaiting []string) {
	opts := engine.ExceptionOptions{Now: now, AdminNamespace: r.AdminNamespace, Approval: trust, ApprovalProblem: why}
	var active, invalid, pending, notes []string
	var firstInvalid, firstPending *engine.ExceptionOutcome
	var expired *engine.ExceptionOutcome
	for i := range profiles {
		p := &profiles[i]
		out := r.state.plan(p, r.Catalogue).plan.JudgeException(ex, opts)
		if !out.AppliesTo {
			continue
		}
		applies = append(applies, p)
		switch out.State {
		case v1alpha1.ExceptionActive:
			active = append(active, p.Name)
			for _, n := range out.Notes {
				if !slices.Contains(notes, n) {
					notes = append(notes, n)
				}
			}
		case v1alpha1.ExceptionPendingApproval:
			pending = append(pending, p.Name)
			if firstPending == nil {
				firstPending = out
			}
		case v1alpha1.ExceptionExpired:
			expired = out
		case v1alpha1.ExceptionInvalid:
			invalid = append(invalid, fmt.Sprintf("%s (%s)", p.Name, out.Message))
			if firstInvalid == nil {
				firstInvalid = out
			}
		}
	}
	switch {
	case expired != nil && expired.Reason == v1alpha1.ReasonDeleted:
		return v1alpha1.ExceptionExpired, v1alpha1.ReasonDeleted, "The exception was " + expired.Message + "; a deleted exception waives nothing, and the findings it covered fail again", applies, nil, nil
	case expired != nil:
		return v1alpha1.ExceptionExpired, v1alpha1.ReasonExpired, "The exception expired at " + ex.Spec.Expires.UTC().Format(time.RFC3339) + "; the findings it covered fail again", applies, nil, nil
	case len(active) == 0 && firstPending != nil:
		sort.Strings(pending)
		return v1alpha1.ExceptionPendingApproval, v1alpha1.ReasonPendingApproval,
			fmt.Sprintf("Pending approval for profiles %s: %s", strings.Join(pending, ", "), firstPending.Message), applies, nil, pending
	case len(active) == 0 && firstInvalid != nil:
		return v1alpha1.ExceptionInvalid, firstInvalid.Reason, "Invalid: " + strings.Join(invalid, "; "), applies, nil, nil
	case len(active) == 0:
		// No profile applies: judge it on its own, so that mistakes still show.
		out := engine.Compile(r.Catalogue, nil).JudgeException(ex, opts)
		msg := out.Message
		switch {
		case ex.Namespace != r.AdminNamespace:
			msg = "No ComplianceProfile it applies to assesses namespace " + ex.Namespace + "; " + msg
		case out.State == v1alpha1.ExceptionActive:
			msg = "No ComplianceProfile it applies to exists; " + msg
		}
		return out.State, out.Reason, msg, applies, nil, nil
	}
	sort.Strings(active)
	msg := fmt.Sprintf("Active until %s for profiles %s", ex.Spec.Expires.UTC().Format(time.RFC3339), strings.Join(active, ", "))
	if approver, _ := engine.TrustedApprover(ex, trust, why); approver != "" {
		msg += ", approved by " + approver
	}
	for _, n := range notes {
		msg += "; " + n
	}
	if len(pending) > 0 {
		msg += "; pending approval for " + strings.Join(pending, ", ")
	}
	if len(invalid) > 0 {
		msg += "; invalid for " + strings.Join(invalid, "; ")
	}
	return v1alpha1.ExceptionActive, v1alpha1.ReasonActive, msg, applies, active, nil
}

// expiryWarning is the longest expiry warning of the profiles that apply (72h by default).
func expiryWarning(profiles []*v1alpha1.ComplianceProfile) time.Duration {
	w := time.Duration(0)
	for _, p := range profiles {
		if a := p.Spec.Alerts; a != nil && a.ExpiryWarning != nil && a.ExpiryWarning.Duration > w {
			w = a.ExpiryWarning.Duration
		}
	}
	if w == 0 {
		return defaultExpiryWarning
	}
	return w
}

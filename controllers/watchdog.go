package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// watchdog marks reports Stale when their namespace has not been evaluated successfully for
// twice the profile's interval (evaluations keep failing, or the queue is stuck), and deletes
// reports that name no profile. It writes nothing while evaluations succeed. A task that fails
// is logged and counted (soc2_operator_watchdog_runs_total{outcome="error"}), and runs again
// at the next tick.
type watchdog struct {
	client   client.Client
	profiles *ComplianceProfileReconciler
	period   time.Duration
}

var _ manager.LeaderElectionRunnable = &watchdog{}

// NeedLeaderElection: only the leader evaluates, so only the leader judges staleness.
func (w *watchdog) NeedLeaderElection() bool { return true }

func (w *watchdog) Start(ctx context.Context) error {
	ticker := time.NewTicker(w.period)
	defer ticker.Stop()
	w.run(ctx, "orphans", "Unable to delete reports that name no profile", w.profiles.sweepOrphans) // reports left while the operator was down
	w.run(ctx, "policyreport-orphans", "Unable to delete the PolicyReports of deleted profiles", w.profiles.sweepOrphanPolicyReports)
	// Before the first evaluation, which may take long or never end (a crash loop): the reports
	// no operator confirmed in twice their interval say so now (vouch.go).
	w.run(ctx, "unconfirmed", "Unable to mark stale the reports no evaluation confirmed", w.profiles.markUnconfirmed)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			w.run(ctx, "staleness", "Unable to mark overdue reports stale", w.check)
			w.run(ctx, "unconfirmed", "Unable to mark stale the reports no evaluation confirmed", w.profiles.markUnconfirmed)
			w.run(ctx, "orphans", "Unable to delete reports that name no profile", w.profiles.sweepOrphans)
		}
	}
}

// run runs one task, counting its outcome and logging its error.
func (w *watchdog) run(ctx context.Context, task, msg string, fn func(context.Context) error) {
	outcome := "ok"
	if err := fn(ctx); err != nil {
		outcome = "error"
		logf.FromContext(ctx).Error(err, msg)
	}
	metrics.WatchdogRuns.WithLabelValues(task, outcome).Inc()
}

// check marks stale the reports of every namespace whose report last reflected an evaluation
// longer than twice its profile's interval ago: EvaluationOverdue, or WriteFailed when the
// namespace was evaluated since (its report could not be written), and keeps the profile's
// result from counting overdue namespaces (overdueRollup).
func (w *watchdog) check(ctx context.Context) error {
	now := w.profiles.Clock.Now()
	list := &v1alpha1.ComplianceProfileList{}
	if err := w.client.List(ctx, list); err != nil {
		return fmt.Errorf("listing profiles: %w", err)
	}
	var errs []error
	for i := range list.Items {
		p := &list.Items[i]
		limit := 2 * w.profiles.interval(p)
		ps := w.profiles.state.lookup(p.Name)
		for ns, t := range w.profiles.state.overdue(p.Name, now, limit) {
			reason := v1alpha1.ReasonEvaluationOverdue
			message := fmt.Sprintf("No successful evaluation since %s (over twice the evaluation interval)", t.UTC().Format(time.RFC3339))
			if at, ok := w.profiles.state.lastEvaluated(ps, ns); ok && now.Sub(at) <= limit {
				// Evaluated (and journaled, and counted in the profile's result) all the same:
				// only its report is behind, and the namespace is not journaled Unknown.
				reason = v1alpha1.ReasonWriteFailed
				message = fmt.Sprintf("No evaluation could be written since %s; the latest, of %s, counts in the profile's result",
					t.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
			}
			errs = append(errs, w.profiles.markStale(ctx, ps, types.NamespacedName{Namespace: ns, Name: p.Name}, now, reason, message))
		}
		errs = append(errs, w.profiles.overdueRollup(ctx, p, ps, now, limit))
	}
	return errors.Join(errs...)
}

// overdueRollup keeps the profile's status from counting, as verdicts, the last summaries of
// namespaces (and of the cluster-scoped objects) not evaluated for longer than limit: evaluations
// that are stuck write nothing, and those of other namespaces would go on writing the profile's
// roll-up with them. It marks them not current and writes the profile's status (when it changed:
// Unknown, Ready=False EvaluationOverdue naming them) while any namespace is not current.
func (r *ComplianceProfileReconciler) overdueRollup(ctx context.Context, profile *v1alpha1.ComplianceProfile, ps *profileState, now time.Time, limit time.Duration) error {
	if ps == nil {
		return nil
	}
	if slices.Contains(r.state.markOverdue(ps, now, limit), "") {
		metrics.SetClusterUnknown(profile.Name)
	}
	if n, fullDone := r.state.notCurrentCount(ps); !fullDone || n == 0 {
		return nil
	}
	p := &pass{profile: profile, ps: ps, now: now}
	if err := r.updateProfileStatus(ctx, p, r.profileProblems(ctx, p), nil); err != nil && !apierrors.IsConflict(err) {
		return err
	}
	// A conflict: an evaluation wrote the status meanwhile, from the same state; the next run
	// writes it again if it still differs.
	return nil
}

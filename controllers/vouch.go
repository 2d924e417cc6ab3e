package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// An unchanged report is not written (an idle cluster causes no writes), so its lastEvaluated
// says when its content was last produced, not until when an operator confirmed it: that is
// known only to the process that evaluated it. A process that dies before its first full
// evaluation completes (a crash loop: OOM on a grown cluster, a bad upgrade) never marks
// overdue the reports it did not reach (its watchdog judges only what it evaluated), and they
// kept Stale=False, "nothing changed since", for as long as the loop lasted.
//
// So each successful full evaluation vouches for its profile's reports in a Lease of the
// operator's namespace (the leader-election Role's get, create and update; one annotation per
// profile, written at most every half interval), and the leader's watchdog marks stale, first
// thing when it starts and then at each tick, every report it has not itself written whose
// content was neither produced nor vouched for in twice its profile's interval.

// evaluationsLease is the Lease whose annotations hold, per profile, when a full evaluation of
// it last succeeded.
const evaluationsLease = "soc2-operator-evaluations"

// evaluatedAnnotationPrefix prefixes the annotation of each profile on evaluationsLease.
const evaluatedAnnotationPrefix = "evaluated.compliance.soc2-operator.io/"

// evaluatedAnnotation is the annotation of profile on evaluationsLease. The API server keeps a
// profile's name a DNS subdomain of at most 63 characters (its XValidation), which is always an
// annotation's name part.
func evaluatedAnnotation(profile string) string {
	return evaluatedAnnotationPrefix + profile
}

// vouchers remembers when this process last vouched for each profile.
type vouchers struct {
	mu      sync.Mutex
	written map[string]time.Time
}

// vouch records on evaluationsLease that a full evaluation of profile succeeded at now, unless
// this process did so less than half an interval before. A failure is logged: it only makes a
// later process judge the reports overdue sooner.
func (r *ComplianceProfileReconciler) vouch(ctx context.Context, profile *v1alpha1.ComplianceProfile, now time.Time) {
	if r.apiReader == nil || r.AdminNamespace == "" {
		return
	}
	r.vouched.mu.Lock()
	last, ok := r.vouched.written[profile.Name]
	r.vouched.mu.Unlock()
	if ok && now.Sub(last) < r.interval(profile)/2 && !now.Before(last) {
		return
	}
	if err := r.writeVouch(ctx, profile.Name, now); err != nil {
		if stopping(ctx) {
			return
		}
		logUnsaved(logf.FromContext(ctx), err, "Unable to record the evaluation on the Lease", "lease", evaluationsLease, "profile", profile.Name)
		return
	}
	r.vouched.mu.Lock()
	if r.vouched.written == nil {
		r.vouched.written = map[string]time.Time{}
	}
	r.vouched.written[profile.Name] = now
	r.vouched.mu.Unlock()
}

func (r *ComplianceProfileReconciler) writeVouch(ctx context.Context, profile string, now time.Time) error {
	return r.evaluationsAnnotation(evaluatedAnnotation(profile)).write(ctx, now.UTC().Format(time.RFC3339))
}

// evaluationsAnnotations are the annotations of evaluationsLease this process read or wrote,
// by name: each written only over what this process last read or wrote there
// (leaseAnnotation), so that a leader that lost its lease does not replace, with a vouch or a
// set of identified cluster-scoped findings sent before it knew, what the new leader wrote
// since (which, its own view unchanged, it would not write again).
type evaluationsAnnotations struct {
	mu sync.Mutex
	of map[string]*leaseAnnotation
}

// evaluationsAnnotation is annotation name of evaluationsLease, as this process knows it.
func (r *ComplianceProfileReconciler) evaluationsAnnotation(name string) *leaseAnnotation {
	e := &r.evaluations
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.of[name]
	if !ok {
		if e.of == nil {
			e.of = map[string]*leaseAnnotation{}
		}
		a = newLeaseAnnotation(r.Client, r.apiReader, types.NamespacedName{Namespace: r.AdminNamespace, Name: evaluationsLease}, name, r.leadership)
		e.of[name] = a
	}
	return a
}

// vouchedFor reads when a full evaluation of each profile last succeeded, by annotation; an
// empty map where the Lease does not exist.
func (r *ComplianceProfileReconciler) vouchedFor(ctx context.Context) (map[string]string, error) {
	if r.apiReader == nil || r.AdminNamespace == "" {
		return nil, nil
	}
	lease := &coordinationv1.Lease{}
	if err := r.apiReader.Get(ctx, types.NamespacedName{Namespace: r.AdminNamespace, Name: evaluationsLease}, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Lease %s/%s: %w", r.AdminNamespace, evaluationsLease, err)
	}
	// The vouches as this process first read them, at its watchdog's start: its first vouch of
	// a profile, which may land after it lost its lease (its first full evaluation outlasting
	// it), is written only over that (leaseAnnotation).
	for name, value := range lease.Annotations {
		if strings.HasPrefix(name, evaluatedAnnotationPrefix) {
			r.evaluationsAnnotation(name).seen(value)
		}
	}
	return lease.Annotations, nil
}

// markUnconfirmed marks stale (EvaluationOverdue) every report of every profile that this
// process has not written and whose content was neither produced (lastEvaluated) nor vouched
// for by a full evaluation of its profile in twice the profile's interval before now. Reports
// this process wrote are the watchdog's state-based check's (watchdog.check).
func (r *ComplianceProfileReconciler) markUnconfirmed(ctx context.Context) error {
	if r.apiReader == nil || r.AdminNamespace == "" || r.Clock == nil {
		return nil // not the operator's reconciler (a test of another watchdog task): no Lease to read
	}
	now := r.Clock.Now()
	since := r.state.observingSince(r.Clock.Now)
	vouched, err := r.vouchedFor(ctx)
	if err != nil {
		return err
	}
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := r.List(ctx, profiles); err != nil {
		return fmt.Errorf("listing profiles: %w", err)
	}
	var errs []error
	for i := range profiles.Items {
		p := &profiles.Items[i]
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		limit := 2 * r.interval(p)
		var confirmed time.Time
		if v, ok := vouched[evaluatedAnnotation(p.Name)]; ok {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				confirmed = t
			}
		}
		reports := &v1alpha1.ComplianceReportList{}
		if err := r.List(ctx, reports, client.MatchingLabels{v1alpha1.LabelProfile: p.Name}); err != nil {
			errs = append(errs, fmt.Errorf("listing the reports of profile %s: %w", p.Name, err))
			continue
		}
		var ps *profileState
		for j := range reports.Items {
			rep := &reports.Items[j]
			last := rep.Status.LastEvaluated
			if rep.Name != p.Name || last == nil || !last.Time.Before(since) ||
				meta.IsStatusConditionTrue(rep.Status.Conditions, v1alpha1.ConditionStale) {
				continue // not its report, never evaluated, written by this process, or already stale
			}
			at := last.Time
			if confirmed.After(at) {
				at = confirmed
			}
			if now.Sub(at) <= limit {
				continue
			}
			if ps == nil {
				if ps = r.state.lookup(p.Name); ps == nil {
					ps = r.state.plan(p, r.Catalogue) // none evaluated yet: counted stale from now
				}
			}
			if r.state.reflected(ps, rep.Namespace) {
				continue // an evaluation of this process wrote it since it was listed
			}
			message := fmt.Sprintf("No evaluation confirmed this content since %s (over twice the evaluation interval): the operator has not evaluated the namespace since it started at %s",
				at.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
			errs = append(errs, r.markStale(ctx, ps, client.ObjectKeyFromObject(rep), now, v1alpha1.ReasonEvaluationOverdue, message))
		}
	}
	return errors.Join(errs...)
}

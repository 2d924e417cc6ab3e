package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// This file holds the reconcilers' Prometheus metrics (internal/metrics defines them) that are
// not set where the fact they count is made: per-report writes are counted in reports.go, the
// findings and criteria gauges are set from each evaluation (metrics.SetNamespace).

// recordEvaluation counts an evaluation by scope and outcome and observes its duration; a
// full evaluation that succeeded also sets the heartbeat.
func (r *ComplianceProfileReconciler) recordEvaluation(ctx context.Context, p *pass, err error) {
	scope := "namespace"
	if p.full() {
		scope = "cluster"
	}
	elapsed := time.Since(p.start)
	metrics.EvaluationDuration.WithLabelValues(p.profile.Name, scope).Observe(elapsed.Seconds())
	outcome := "ok"
	if err != nil {
		outcome = "error"
	} else if p.full() {
		metrics.LastEvaluation.WithLabelValues(p.profile.Name).Set(float64(p.now.Unix()))
		metrics.EvaluationInterval.WithLabelValues(p.profile.Name).Set(r.interval(p.profile).Seconds())
	}
	metrics.Evaluations.WithLabelValues(p.profile.Name, scope, outcome).Inc()
	if p.full() {
		logf.FromContext(ctx).V(1).Info("Evaluated profile", "namespaces", len(p.selected), "objects", p.objects, "duration", elapsed)
	}
}

// setProfileReady sets soc2_operator_profile_ready from the profile's Ready condition.
func setProfileReady(profile string, conditions []metav1.Condition) {
	v := 0.0
	if meta.IsStatusConditionTrue(conditions, v1alpha1.ConditionReady) {
		v = 1
	}
	metrics.ProfileReady.WithLabelValues(profile).Set(v)
}

// updateMetrics recounts exceptions by namespace and state and records when each Active one
// expires. written, when set, is the exception whose status was just judged: it counts as
// judged, since the cache the list comes from may not hold that status write yet (and a
// status write does not judge the exception again to correct the count).
func (r *ControlExceptionReconciler) updateMetrics(ctx context.Context, written *v1alpha1.ControlException) error {
	list := &v1alpha1.ControlExceptionList{}
	if err := r.List(ctx, list); err != nil {
		return fmt.Errorf("listing exceptions to count them: %w", err)
	}
	if written != nil {
		for i := range list.Items {
			if list.Items[i].Namespace == written.Namespace && list.Items[i].Name == written.Name {
				list.Items[i].Status = written.Status
			}
		}
	}
	counts, expiry := map[[2]string]int{}, map[[2]string]float64{}
	for _, ex := range list.Items {
		if ex.Status.State != "" {
			counts[[2]string{ex.Namespace, string(ex.Status.State)}]++
		}
		if ex.Status.State == v1alpha1.ExceptionActive {
			expiry[[2]string{ex.Namespace, ex.Name}] = float64(ex.Spec.Expires.Unix())
		}
	}
	metrics.SetExceptions(counts, expiry)
	return nil
}

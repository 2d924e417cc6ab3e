package controllers

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// exceptionTally is what soc2_operator_exceptions and soc2_operator_exception_expiry_timestamp_seconds
// say, exception by exception, so that judging one exception changes its series alone. Recounting
// every exception of the cluster at every reconcile (a list, a copy of each, every series set
// again) made the reconciles of n exceptions cost n² (38 ms each at 10,000): a tenant who
// requested thousands of exceptions (no approval needed to request one) delayed, by minutes, the
// judging of every other tenant's exceptions (Expired, ExpiringSoon, approvedAt) and their
// alerts, all queued behind the one worker. The exceptions are listed once, at the first
// reconcile; every exception is reconciled at start, when it changes and hourly, which keeps
// its entry current.
// maxExpirySeries is how many Active exceptions of one namespace export their expiry
// (soc2_operator_exception_expiry_timestamp_seconds): those that expire soonest. Under a profile
// that needs no approval a namespace admin decides how many exceptions are Active, and every one
// was a series of the operator's /metrics and of Prometheus. SOC2ExceptionExpiringSoon fires for
// every exception within 7 days of expiring unless more than this many of its namespace expire
// sooner (and fire); the next comes in as each expires.
const maxExpirySeries = 100

type exceptionTally struct {
	mu     sync.Mutex
	listed bool
	// of holds each exception's state ("" not judged yet) and, when Active, when it expires.
	of     map[types.NamespacedName]talliedException
	counts map[[2]string]int
	// active are the Active exceptions' expiries by namespace and name, and exported those of
	// them whose expiry is a series (soonest).
	active, exported map[string]map[string]float64
}

// soonest are the maxExpirySeries Active exceptions of ns that expire first (by expiry, then
// name), with their expiries.
func (t *exceptionTally) soonest(ns string) map[string]float64 {
	all := t.active[ns]
	if len(all) <= maxExpirySeries {
		return maps.Clone(all)
	}
	names := slices.SortedFunc(maps.Keys(all), func(a, b string) int {
		if c := cmp.Compare(all[a], all[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make(map[string]float64, maxExpirySeries)
	for _, n := range names[:maxExpirySeries] {
		out[n] = all[n]
	}
	return out
}

// setActive records exception key's expiry while Active (and forgets it otherwise).
func (t *exceptionTally) setActive(key types.NamespacedName, e talliedException) {
	if e.state != v1alpha1.ExceptionActive {
		if m := t.active[key.Namespace]; m != nil {
			delete(m, key.Name)
			if len(m) == 0 {
				delete(t.active, key.Namespace)
			}
		}
		return
	}
	if t.active[key.Namespace] == nil {
		t.active[key.Namespace] = map[string]float64{}
	}
	t.active[key.Namespace][key.Name] = e.expires
}

type talliedException struct {
	state   v1alpha1.ExceptionState
	expires float64
	// coveredChanged: Active, with CoveredChangedSinceApproval True.
	coveredChanged bool
}

func tallied(ex *v1alpha1.ControlException) talliedException {
	t := talliedException{state: ex.Status.State}
	if t.state == v1alpha1.ExceptionActive {
		t.expires = float64(ex.Spec.Expires.Unix())
		t.coveredChanged = meta.IsStatusConditionTrue(ex.Status.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	}
	return t
}

// updateMetrics records exception key as written, the exception whose status was just judged
// (nil: deleted), in the exceptions' counts by namespace and state and the expiry of each Active
// one. written counts as judged, since the cache may not hold that status write yet (and a
// status write does not judge the exception again to correct the count). The first call lists
// every exception (exceptionTally).
func (r *ControlExceptionReconciler) updateMetrics(ctx context.Context, key types.NamespacedName, written *v1alpha1.ControlException) error {
	t := &r.tally
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.listed {
		list := &v1alpha1.ControlExceptionList{}
		if err := r.List(ctx, list); err != nil {
			return fmt.Errorf("listing exceptions to count them: %w", err)
		}
		t.of, t.counts = make(map[types.NamespacedName]talliedException, len(list.Items)), map[[2]string]int{}
		t.active, t.exported = map[string]map[string]float64{}, map[string]map[string]float64{}
		coveredChanged := map[[2]string]bool{}
		for i := range list.Items {
			ex := &list.Items[i]
			k := types.NamespacedName{Namespace: ex.Namespace, Name: ex.Name}
			if written != nil && k == key {
				ex = written
			}
			e := tallied(ex)
			t.of[k] = e
			if e.state != "" {
				t.counts[[2]string{k.Namespace, string(e.state)}]++
			}
			t.setActive(k, e)
			if e.coveredChanged {
				coveredChanged[[2]string{k.Namespace, k.Name}] = true
			}
		}
		expiry := map[[2]string]float64{}
		for ns := range t.active {
			t.exported[ns] = t.soonest(ns)
			for name, at := range t.exported[ns] {
				expiry[[2]string{ns, name}] = at
			}
		}
		metrics.SetExceptions(t.counts, expiry, coveredChanged)
		t.listed = true
	}
	if key.Name == "" {
		return nil
	}
	before, was := t.of[key]
	var after talliedException
	if written != nil {
		after = tallied(written)
		t.of[key] = after
	} else {
		delete(t.of, key)
	}
	if was && before == after && written != nil {
		return nil
	}
	if before.coveredChanged != after.coveredChanged {
		metrics.SetExceptionCoveredChanged([2]string{key.Namespace, key.Name}, after.coveredChanged)
	}
	if before.state != after.state {
		for _, s := range []struct {
			state v1alpha1.ExceptionState
			by    int
		}{{before.state, -1}, {after.state, 1}} {
			if s.state == "" {
				continue
			}
			c := [2]string{key.Namespace, string(s.state)}
			t.counts[c] += s.by
			if t.counts[c] <= 0 {
				delete(t.counts, c)
			}
			metrics.SetExceptionCount(c, t.counts[c])
		}
	}
	// The namespace's soonest-expiring Active exceptions export their expiry: this one may come
	// in or leave, and push another out or let the next in.
	t.setActive(key, after)
	ns := key.Namespace
	exported := t.soonest(ns)
	for name := range t.exported[ns] {
		if _, still := exported[name]; !still {
			metrics.SetExceptionExpiry([2]string{ns, name}, 0, false)
		}
	}
	for name, at := range exported {
		if prev, ok := t.exported[ns][name]; !ok || prev != at {
			metrics.SetExceptionExpiry([2]string{ns, name}, at, true)
		}
	}
	if len(exported) == 0 {
		delete(t.exported, ns)
	} else {
		t.exported[ns] = exported
	}
	return nil
}

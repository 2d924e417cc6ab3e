package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// These tests make one read or write fail, on the real API server through an interceptor, and
// show that the failure comes back to the caller (and so to the log, the retry and the
// metrics) instead of vanishing. Each of the three used to be dropped: the report kept its old
// verdict with no trace, or the profile kept saying Ready.

var errInjected = errors.New("injected failure")

// failing is a client of the test's API server whose calls fail where fail says so.
func failing(t *testing.T, funcs interceptor.Funcs) client.WithWatch {
	t.Helper()
	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return interceptor.NewClient(direct, funcs)
}

// reconcilerOver is a profile reconciler of its own (not the suite's operator) that reads and
// writes through c and gathers only the given kinds.
func reconcilerOver(t *testing.T, c client.WithWatch, kinds ...string) *ComplianceProfileReconciler {
	t.Helper()
	var gathered []inventory.Kind
	for _, name := range kinds {
		k, ok := inventory.ByKind(name)
		if !ok {
			t.Fatalf("inventory has no %s kind", name)
		}
		gathered = append(gathered, k)
	}
	return &ComplianceProfileReconciler{
		Client: c, Gatherer: &inventory.Gatherer{Reader: c, Kinds: gathered},
		Catalogue: checks.Catalogue(), CatalogVersion: checks.Version, AdminNamespace: adminNamespace,
		Clock: clock.RealClock{}, Recorder: &events.FakeRecorder{}, Approval: approval,
		state: newState(), policyReports: newPolicyReportWriter(c, c, c.RESTMapper()), alerts: alert.NewDispatcher(alert.Options{}),
		firstSeen: report.NewMemoryFirstSeen(),
	}
}

// TestMarkStaleReturnsReadError: when the report cannot be read, markStale says so (it used to
// return silently, leaving a report that reads as current).
func TestMarkStaleReturnsReadError(t *testing.T) {
	c := failing(t, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceReport); ok {
				return errInjected
			}
			return cl.Get(ctx, key, obj, opts...)
		},
	})
	r := &ComplianceProfileReconciler{Client: c, Clock: clock.RealClock{}, state: newState()}
	err := r.markStale(context.Background(), nil, types.NamespacedName{Namespace: "default", Name: "any"}, time.Now(), v1alpha1.ReasonEvaluationOverdue, "overdue")
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "reading report default/any") {
		t.Fatalf("markStale with a failing read returned %v; want the read error naming the report", err)
	}
}

// TestWatchdogCountsListError: the watchdog's staleness check returns a failed profile list,
// and its run counts it under soc2_operator_watchdog_runs_total{task="staleness",outcome="error"}
// (it used to return as if there were nothing to check).
func TestWatchdogCountsListError(t *testing.T) {
	metrics.Register()
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*v1alpha1.ComplianceProfileList); ok {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
	})
	w := &watchdog{client: c, profiles: &ComplianceProfileReconciler{Client: c, Clock: clock.RealClock{}, state: newState()}}
	if err := w.check(context.Background()); !errors.Is(err, errInjected) {
		t.Fatalf("check with a failing profile list returned %v; want the list error", err)
	}
	counter := metrics.WatchdogRuns.WithLabelValues("staleness", "error")
	before := counterValue(t, counter)
	w.run(context.Background(), "staleness", "Unable to mark overdue reports stale", w.check)
	if got := counterValue(t, counter) - before; got != 1 {
		t.Errorf("soc2_operator_watchdog_runs_total{task=staleness,outcome=error} rose by %v, want 1", got)
	}
}

// TestFailedEvaluationReturnsStatusError: when gathering fails and the profile's status (which
// would say Ready=False EvaluationFailed) cannot be written either, Reconcile returns both
// errors (the status error used to be discarded, so the profile went on saying Ready with
// nothing in the log about it).
func TestFailedEvaluationReturnsStatusError(t *testing.T) {
	profile := createProfile(t, "gather-fails", "gather-fails-selects-nothing", nil)
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*rbacv1.ClusterRoleList); ok {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceProfile); ok {
				return errStatus
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "ClusterRole")
	_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}})
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "gathering objects") {
		t.Errorf("Reconcile returned %v; want the gathering error", err)
	}
	if !errors.Is(err, errStatus) || !strings.Contains(err.Error(), "writing the status of profile gather-fails") {
		t.Errorf("Reconcile returned %v; want the status write error too", err)
	}
}

var errStatus = errors.New("injected status failure")

// counterValue reads a counter straight from the registry's collector.
func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestOverdueReportsSayUnknown runs the staleness watchdog with a clock an hour past the
// namespace's last successful evaluation: the report it writes says result Unknown (not the
// old verdict) with Stale=True EvaluationOverdue, naming the result its content had. (The
// operator of the suite, whose evaluations succeed, writes the real result back afterwards.)
func TestOverdueReportsSayUnknown(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "overdue-a", map[string]string{"overdue": "true"})
	if err := k8s.Create(ctx, deployment("overdue-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "overdue", "overdue", nil)
	if rep := waitWritten(t, "overdue-a", "overdue"); rep.Status.Result != v1alpha1.NonCompliant {
		t.Fatalf("result %s, want NonCompliant", rep.Status.Result)
	}

	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var written *v1alpha1.ComplianceReport
	c := interceptor.NewClient(direct, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if rep, ok := obj.(*v1alpha1.ComplianceReport); ok && rep.Namespace == "overdue-a" {
				mu.Lock()
				written = rep.DeepCopy()
				mu.Unlock()
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	clk := testingclock.NewFakeClock(time.Now().Add(time.Hour))
	st := newState()
	ps := st.plan(profile, checks.Catalogue())
	ps.fullDone = true
	ps.lastSuccess["overdue-a"] = time.Now()
	w := &watchdog{client: c, profiles: &ComplianceProfileReconciler{Client: c, Clock: clk, state: st}}
	w.check(ctx)
	if n := gaugeValue(t, metrics.ReportsStale.WithLabelValues(profile.Name)); n != 1 {
		t.Errorf("soc2_operator_reports_stale = %v after the watchdog marked the overdue report stale, want 1", n)
	}

	mu.Lock()
	defer mu.Unlock()
	if written == nil {
		t.Fatal("the watchdog wrote nothing to the overdue report")
	}
	stale := meta.FindStatusCondition(written.Status.Conditions, v1alpha1.ConditionStale)
	if written.Status.Result != v1alpha1.Unknown || stale == nil || stale.Reason != v1alpha1.ReasonEvaluationOverdue ||
		!strings.Contains(stale.Message, "whose result was NonCompliant") {
		t.Errorf("overdue report: result %s, Stale %+v; want Unknown, EvaluationOverdue naming the result NonCompliant", written.Status.Result, stale)
	}
}

// TestStaleReportsAreUnknownInTheMetrics marks a namespace's report stale while the API server
// refuses the write (as when it is unreachable): the namespace's series say Unknown from then
// on, not the verdict of the evaluation the report no longer reflects.
func TestStaleReportsAreUnknownInTheMetrics(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "stalemetrics-a", map[string]string{"stalemetrics": "true"})
	if err := k8s.Create(ctx, deployment("stalemetrics-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "stalemetrics", "stalemetrics", nil)
	waitWritten(t, "stalemetrics-a", "stalemetrics")
	compliant := `soc2_operator_namespace_compliant{namespace="stalemetrics-a",profile="stalemetrics"}`
	eventually(t, 10*time.Second, "the verdict served", func() error {
		if !strings.Contains(scrape(t), compliant+" 0") {
			return fmt.Errorf("%s 0 not served", compliant)
		}
		return nil
	})

	direct, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	c := interceptor.NewClient(direct, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			return errors.New("the API server is unreachable")
		},
	})
	r := &ComplianceProfileReconciler{Client: c, state: newState()}
	if err := r.markStale(ctx, nil, types.NamespacedName{Namespace: "stalemetrics-a", Name: profile.Name}, time.Now(), v1alpha1.ReasonWriteFailed, "test"); err == nil {
		t.Fatal("markStale wrote through a client that refuses every status write")
	}
	body := scrape(t)
	if strings.Contains(body, compliant) {
		t.Errorf("a stale report still scrapes as a verdict: %s", grepLines(body, compliant))
	}
	if want := `soc2_operator_namespace_result{namespace="stalemetrics-a",profile="stalemetrics",result="Unknown"} 1`; !strings.Contains(body, want) {
		t.Errorf("missing %s; served: %s", want, grepLines(body, `namespace="stalemetrics-a"`))
	}
	// Nor do its criteria and findings keep the verdict of the evaluation the report no longer
	// reflects: each criterion the report lists is Unknown, and its findings counts are absent.
	for _, line := range strings.Split(grepLines(body, `namespace="stalemetrics-a"`), "\n") {
		switch {
		case strings.HasPrefix(line, "soc2_operator_findings{"):
			t.Errorf("a stale report still scrapes findings counts: %s", line)
		case strings.HasPrefix(line, "soc2_operator_criterion_status{") && !strings.Contains(line, `status="Unknown"`):
			t.Errorf("a stale report's criterion still scrapes a verdict: %s", line)
		}
	}
	if want := `soc2_operator_criterion_status{criterion="CC6.1",namespace="stalemetrics-a",profile="stalemetrics",status="Unknown"} 1`; !strings.Contains(body, want) {
		t.Errorf("missing %s; served: %s", want, grepLines(body, `namespace="stalemetrics-a"`))
	}
}

func grepLines(body, s string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestReportsStaleCountsAfterARestart: an operator that has just started remembers no
// namespace, and its first evaluation fails (the objects cannot be read). The reports it marks
// Stale count in soc2_operator_reports_stale, which SOC2ReportsStale alerts on: they must not
// read as current because the operator forgot them when it restarted.
func TestReportsStaleCountsAfterARestart(t *testing.T) {
	createNamespace(t, "restartstale-a", map[string]string{"restartstale": "true"})
	profile := createProfile(t, "restartstale", "restartstale", nil)
	waitWritten(t, "restartstale-a", "restartstale")

	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*rbacv1.ClusterRoleList); ok {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
	})
	r := reconcilerOver(t, c, "ClusterRole") // a fresh state: the operator just restarted
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); !errors.Is(err, errInjected) {
		t.Fatalf("Reconcile returned %v; want the gathering error", err)
	}
	if n := gaugeValue(t, metrics.ReportsStale.WithLabelValues(profile.Name)); n != 1 {
		t.Errorf("soc2_operator_reports_stale = %v after the restarted operator marked the report stale, want 1", n)
	}
}

// TestAFailedEvaluationMakesTheClusterCriteriaUnknown: when a full evaluation cannot read the
// objects, the profile's result is Unknown and its reports are stale; the criteria of the
// cluster-scoped objects (namespace "") must not keep serving the last verdict either (a
// ClusterRoleBinding made since would not show).
func TestAFailedEvaluationMakesTheClusterCriteriaUnknown(t *testing.T) {
	profile := createProfile(t, "clusterunknown", "clusterunknown-selects-nothing", nil)
	series := `soc2_operator_criterion_status{criterion="CC6.1",namespace="",profile="clusterunknown",status=`
	eventually(t, 10*time.Second, "the cluster-scoped criteria served", func() error {
		if !strings.Contains(scrape(t), series) {
			return fmt.Errorf("%s...} not served", series)
		}
		return nil
	})
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*rbacv1.ClusterRoleList); ok {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
	})
	r := reconcilerOver(t, c, "ClusterRole")
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); !errors.Is(err, errInjected) {
		t.Fatalf("Reconcile returned %v; want the gathering error", err)
	}
	for _, line := range strings.Split(grepLines(scrape(t), series), "\n") {
		if !strings.HasPrefix(line, series+`"Unknown"}`) {
			t.Errorf("after a failed evaluation, a cluster-scoped criterion still serves a verdict: %s", line)
		}
	}
}

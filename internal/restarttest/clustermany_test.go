package restarttest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestACriticalClusterFindingSwappedAmongThousandsIsNew: as
// TestACriticalClusterFindingSwappedWhileTheOperatorWasDownIsNew, with 2,050 Medium findings
// besides (bindings to a ClusterRole that does not exist). Past 2,048 failing cluster-scoped
// findings the Lease kept none, and the restarted operator compared the listed findings alone:
// a cluster-admin binding made in place of another while no operator ran was neither alerted on
// nor recorded in soc2_operator_finding_opened_timestamp_seconds{namespace=""}. The Critical and
// High findings are kept within the bound.
func TestACriticalClusterFindingSwappedAmongThousandsIsNew(t *testing.T) {
	const name, dangling = "restart-cluster-many", 2050
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	sink := newSinkServer(t)
	labels := map[string]string{name: "true"}
	binding := func(n, role string) *rbacv1.ClusterRoleBinding { return userBinding(n, role, labels) }
	t.Cleanup(func() {
		_ = k8s.DeleteAllOf(context.Background(), &rbacv1.ClusterRoleBinding{}, client.MatchingLabels(labels))
	})
	for i := range dangling {
		if err := k8s.Create(ctx, binding(fmt.Sprintf("%s-dangling-%04d", name, i), name+"-missing")); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a-listed", "b-fixed"} {
		if err := k8s.Create(ctx, binding(name+"-"+n, "cluster-admin")); err != nil {
			t.Fatal(err)
		}
	}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: labels}, MaxFindings: 1,
		Alerts: &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}}}
	no := false
	for _, c := range checks.Catalogue() {
		if c.ID != "rbac-cluster-admin-binding" && c.ID != "rbac-dangling-binding" {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	failing := func(what string) {
		t.Helper()
		testenv.Eventually(t, 60*time.Second, what, func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
				return err
			}
			s := &p.Status
			if s.ClusterFindingsFailing != dangling+2 || len(s.ClusterFindings) != 1 || s.ClusterFindings[0].Resource.Name != name+"-a-listed" {
				return fmt.Errorf("%d failing, listed %v", s.ClusterFindingsFailing, s.ClusterFindings)
			}
			return nil
		})
	}

	first := startOperator(t, clk, nil)
	failing("the baseline: two cluster-admin bindings, a-listed's listed, and the dangling ones")
	// The Lease is written after the status: wait until it holds the set past the bound (the
	// Critical and High findings). Read before that write, an absent annotation let the operator
	// stop before it wrote, and the restarted one had nothing to compare with.
	testenv.Eventually(t, 30*time.Second, "the Lease past the bound", func() error {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-evaluations"}, lease); err != nil {
			return err
		}
		v, ok := lease.Annotations["cluster-failing.compliance.soc2-operator.io/"+name]
		if !ok {
			return fmt.Errorf("no annotation yet")
		}
		if _, keys, _ := strings.Cut(v, " "); !strings.HasPrefix(keys, "High:") {
			return fmt.Errorf("annotation of %d bytes", len(v))
		}
		return nil
	})
	clk.Step(time.Minute)
	first.Stop()
	n := fullEvaluations(t, name)

	if err := k8s.Delete(ctx, binding(name+"-b-fixed", "cluster-admin")); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, binding(name+"-z-new", "cluster-admin")); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Hour)
	restarted := clk.Now()
	startOperator(t, clk, nil)
	waitFullEvaluation(t, name, n)
	failing("z-new's finding in place of b-fixed's")
	testenv.Eventually(t, 20*time.Second, "a NewFinding alert on z-new, and on nothing else", func() error {
		if got := sink.newFindings(); len(got) != 1 || got[0] != name+"-z-new" {
			return fmt.Errorf("NewFinding alerts on %v", got)
		}
		return nil
	})
	m := &dto.Metric{}
	if err := metrics.FindingOpened.WithLabelValues(name, "", string(v1alpha1.SeverityCritical)).Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetGauge().GetValue(); got < float64(restarted.Unix()) {
		t.Errorf("soc2_operator_finding_opened_timestamp_seconds{namespace=\"\"} %v, want at least %d (the restart: z-new's finding is new)", got, restarted.Unix())
	}
	mm := &dto.Metric{}
	if err := metrics.FindingOpened.WithLabelValues(name, "", string(v1alpha1.SeverityMedium)).Write(mm); err == nil && mm.GetGauge().GetValue() >= float64(restarted.Unix()) {
		t.Errorf("a Medium finding was recorded opened at the restart, though none was made")
	}
}

// TestAClusterFindingIdentifiedBeforeAMissedLeaseWriteIsIdentifiedAgain: the evaluations Lease
// is written after the profile's status, so a process that stops in between (killed, or its
// write refused) leaves the next one the set identified before. A cluster-admin binding made in
// place of another while the operator ran was identified, and the Lease still says the old
// pair: the next process must identify it again (a second NewFinding, with a later key), not take
// it as known.
func TestAClusterFindingIdentifiedBeforeAMissedLeaseWriteIsIdentifiedAgain(t *testing.T) {
	const name = "restart-cluster-gap"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	sink := newSinkServer(t)
	binding := func(n string) *rbacv1.ClusterRoleBinding { return userBinding(n, "cluster-admin", nil) }
	create := func(n string) { t.Helper(); createClusterAdminBinding(t, n) }
	create(name + "-a-listed")
	create(name + "-b-fixed")
	labels := map[string]string{name: "true"}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: labels}, MaxFindings: 1,
		Alerts: &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}}}
	no := false
	for _, c := range checks.Catalogue() {
		if c.ID != "rbac-cluster-admin-binding" {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	annotation := "cluster-failing.compliance.soc2-operator.io/" + name
	kept := func(what string, ok func(string) bool) string {
		t.Helper()
		var v string
		testenv.Eventually(t, 30*time.Second, what, func() error {
			lease := &coordinationv1.Lease{}
			if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-evaluations"}, lease); err != nil {
				return err
			}
			if v = lease.Annotations[annotation]; !ok(v) {
				return fmt.Errorf("annotation %q", v)
			}
			return nil
		})
		return v
	}
	twoKeys := func(v string) bool { _, keys, _ := strings.Cut(v, " "); return len(keys) == 2*16 }

	first := startOperator(t, clk, nil)
	before := kept("the baseline's two findings kept", twoKeys)
	if err := k8s.Delete(ctx, binding(name+"-b-fixed")); err != nil {
		t.Fatal(err)
	}
	create(name + "-z-new")
	testenv.Eventually(t, 30*time.Second, "z-new identified while the operator runs", func() error {
		if got := sink.newFindings(); len(got) != 1 || got[0] != name+"-z-new" {
			return fmt.Errorf("NewFinding alerts on %v", got)
		}
		return nil
	})
	kept("z-new kept in place of b-fixed", func(v string) bool { return twoKeys(v) && v != before })
	clk.Step(time.Minute)
	first.Stop()
	// As if the process had stopped before its Lease write.
	lease := &coordinationv1.Lease{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-evaluations"}, lease); err != nil {
		t.Fatal(err)
	}
	lease.Annotations[annotation] = before
	if err := k8s.Update(ctx, lease); err != nil {
		t.Fatal(err)
	}

	n := fullEvaluations(t, name)
	clk.Step(time.Hour)
	restarted := clk.Now()
	startOperator(t, clk, nil)
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "z-new identified again", func() error {
		if got := sink.newFindings(); len(got) != 2 || got[1] != name+"-z-new" {
			return fmt.Errorf("NewFinding alerts on %v", got)
		}
		return nil
	})
	m := &dto.Metric{}
	if err := metrics.FindingOpened.WithLabelValues(name, "", string(v1alpha1.SeverityCritical)).Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetGauge().GetValue(); got < float64(restarted.Unix()) {
		t.Errorf("soc2_operator_finding_opened_timestamp_seconds{namespace=\"\"} %v, want at least %d", got, restarted.Unix())
	}
}

// userBinding is a ClusterRoleBinding of the ClusterRole role to the user <name>-user.
func userBinding(name, role string, labels map[string]string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name + "-user"}},
	}
}

// createClusterAdminBinding creates a binding of cluster-admin to the user <name>-user (a
// Critical cluster-scoped finding), deleted when the test ends.
func createClusterAdminBinding(t *testing.T, name string) {
	t.Helper()
	crb := userBinding(name, "cluster-admin", nil)
	if err := k8s.Create(context.Background(), crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
}

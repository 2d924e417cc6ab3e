package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestANewCriticalClusterFindingInPlaceOfAnotherIsIdentified: the findings on cluster-scoped
// objects (the profile's clusterFindings) were counted (soc2_operator_findings under namespace
// "") but never identified, so a ClusterRoleBinding granting cluster-admin removed and another
// made within the 15 minutes SOC2NewCriticalFinding compares left the count where it was and
// raised nothing. soc2_operator_finding_opened_timestamp_seconds{namespace=""} now says when
// the operator last identified a failing cluster-scoped finding new to the profile (by check,
// resource and container), as it does for a namespace: set by the first evaluation, left as
// it was by a fix, set again by another binding though the count is back where it was, and
// also when the new finding is not among those the profile lists (maxFindings 1 here: a
// binding sorted after a listed one, in place of another unlisted one, left the list as it
// was).
func TestANewCriticalClusterFindingInPlaceOfAnotherIsIdentified(t *testing.T) {
	const profile = "opened-cluster"
	ctx := context.Background()
	binding := func(name string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: objectMeta(name),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name + "-user"}},
		}
	}
	create := func(name string) {
		t.Helper()
		crb := binding(name)
		if err := k8s.Create(ctx, crb); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
	}
	remove := func(name string) {
		t.Helper()
		if err := k8s.Delete(ctx, binding(name)); err != nil {
			t.Fatal(err)
		}
	}
	start := clk.Now() // the operator's clock, which only tests move
	create("opened-cluster-a")
	create("opened-cluster-c")
	// No spec.alerts: the series does not depend on alert sinks.
	createProfile(t, profile, "opened-cluster-selects-nothing", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "rbac-cluster-admin-binding")
		p.Spec.MaxFindings = 1
	})
	// failing waits until the profile counts want failing Critical cluster-scoped findings of
	// the test's bindings and lists first, and the evaluation that found them has identified
	// them: the count is set when the cluster-scoped objects are judged, the finding-opened
	// time only once the profile's status is written, after the namespaces (freshCluster), and
	// a read in between saw the old time (the test failed now and then). The identified
	// findings are kept on the evaluations Lease after the finding-opened time is set.
	failing := func(want int32, first string) {
		t.Helper()
		eventually(t, 30*time.Second, fmt.Sprintf("%d failing Critical cluster-scoped finding(s), %s listed, identified", want, first), func() error {
			_, p, err := profileReady(ctx, profile)
			if err != nil {
				return err
			}
			lease := &coordinationv1.Lease{}
			if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: evaluationsLease}, lease); err != nil {
				return err
			}
			kept, _, ok := decodeClusterFailing(p.UID, lease.Annotations[clusterFailingAnnotationPrefix+profile])
			if !ok || len(kept) != int(want) {
				return fmt.Errorf("the Lease keeps %d identified findings of the profile (readable: %v)", len(kept), ok)
			}
			listed := ""
			for _, f := range p.Status.ClusterFindings {
				if f.Check == "rbac-cluster-admin-binding" && f.Result == v1alpha1.ResultFail {
					listed = f.Resource.Name
				}
			}
			// Other tests' bindings are gone (their cleanups), but the envtest's own are
			// cluster-scoped objects too: count ours by the series the alert reads.
			got := gaugeValue(t, metrics.Findings.WithLabelValues(profile, "", string(v1alpha1.SeverityCritical), string(v1alpha1.ResultFail)))
			if got != float64(want) || listed != first {
				return fmt.Errorf("%v failing Critical, %q listed", got, listed)
			}
			return nil
		})
	}
	opened := func() float64 {
		t.Helper()
		return gaugeValue(t, metrics.FindingOpened.WithLabelValues(profile, "", string(v1alpha1.SeverityCritical)))
	}

	failing(2, "opened-cluster-a")
	first := opened()
	if first < float64(start.Unix()) {
		t.Fatalf("after the first evaluation, with two cluster-admin bindings, the cluster-scoped finding-opened time is %v, want at least %d", first, start.Unix())
	}

	// c removed a minute later: nothing new. The clock moves before c goes: an evaluation
	// takes its time when it starts, and one that started before c went may still be running
	// when b is made, later; one that started at the first evaluation's time and saw b would
	// record b as identified then, and the test would not tell it from nothing new (it did,
	// now and then, in the whole package).
	clk.Step(time.Minute)
	removed := clk.Now()
	remove("opened-cluster-c")
	failing(1, "opened-cluster-a")
	if got := opened(); got != first {
		t.Fatalf("after opened-cluster-c was removed the finding-opened time is %v, want %v as before (nothing new)", got, first)
	}

	// b a minute later: two Critical findings again, as before c was removed, the same one
	// listed, but a new one. Every evaluation that sees b started after c was removed (an
	// evaluation that saw c gone ended before b was made, and those of a profile run one at a
	// time), but not necessarily after b was made.
	clk.Step(time.Minute)
	create("opened-cluster-b")
	failing(2, "opened-cluster-a")
	if got := opened(); got < float64(removed.Unix()) || got <= first {
		t.Fatalf("after opened-cluster-b replaced opened-cluster-c the finding-opened time is %v, want at least %d (when c was removed), after %v", got, removed.Unix(), first)
	}
}

// TestANewClusterFindingPastTheListedOnesIsAlerted: new cluster-scoped findings were found for
// the alert sinks by comparing the findings the profile's status listed with those it listed
// before, so a new Critical ClusterRoleBinding that sorted after the maxFindings listed ones
// (in a cluster with as many Critical findings as the profile lists) was never alerted on.
// It must be, once, as a namespace's (TestANewFindingPastTheListedOnesIsAlerted).
func TestANewClusterFindingPastTheListedOnesIsAlerted(t *testing.T) {
	const profile = "alerts-cluster"
	ctx := context.Background()
	hook := newReceiver(t, 0, false)
	create := func(name string) {
		t.Helper()
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: objectMeta(name),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name + "-user"}},
		}
		if err := k8s.Create(ctx, crb); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
	}
	create("alerts-cluster-a")
	createProfile(t, profile, "alerts-cluster-selects-nothing", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "rbac-cluster-admin-binding")
		p.Spec.MaxFindings = 1
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	listed := func(failing int32) error {
		_, p, err := profileReady(ctx, profile)
		switch {
		case err != nil:
			return err
		case p.Status.ClusterFindingsFailing != failing || len(p.Status.ClusterFindings) != 1 || p.Status.ClusterFindings[0].Resource.Name != "alerts-cluster-a":
			return fmt.Errorf("%d failing, listed %v", p.Status.ClusterFindingsFailing, p.Status.ClusterFindings)
		}
		return nil
	}
	eventually(t, 30*time.Second, "the baseline: alerts-cluster-a's finding listed", func() error { return listed(1) })

	create("alerts-cluster-z")
	eventually(t, 30*time.Second, "the profile counts alerts-cluster-z's finding, past the one it lists", func() error { return listed(2) })
	eventually(t, 10*time.Second, "a NewFinding alert on alerts-cluster-z", func() error {
		if hook.mentions("alerts-cluster-z") != 1 || hook.count("NewFinding") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	if n := hook.mentions("alerts-cluster-a"); n != 0 {
		t.Errorf("the baseline's alerts-cluster-a was alerted on %d times: %v", n, hook.received())
	}
}

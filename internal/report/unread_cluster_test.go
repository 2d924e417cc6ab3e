package report

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAnUnreadClusterFindingIsCounted: a cluster-scoped object whose annotations the cache
// trimmed, read by a custom check, is unread (engine.Result.Unread): listed among the profile's
// clusterFindings, its criterion failing closed. clusterFindingsTotal counted failing and
// excepted findings only, so the profile listed one finding of a total of 0 (and a total
// below the list is no bound an auditor can trust); it counts the unread ones too.
func TestAnUnreadClusterFindingIsCounted(t *testing.T) {
	plan := engine.Compile(nil, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		Criteria: []v1alpha1.Criterion{"CC6.3"},
		CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-owner", Title: "owner annotated", Kinds: []string{"ClusterRole"},
			Criteria: []v1alpha1.Criterion{"CC6.3"}, Severity: v1alpha1.SeverityHigh,
			Expression: "has(object.metadata.annotations) && 'owner' in object.metadata.annotations"}},
	}})
	o := engine.NewObject(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "padded"}}, "rbac.authorization.k8s.io/v1", "ClusterRole")
	o.Withheld = []engine.WithheldField{{Kind: "ClusterRole", Path: []string{"metadata", "annotations"}, Why: "the operator does not keep an object's annotations over 16 KiB", Unread: true}}
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace})
	cluster := ev.Summary("")
	st := ProfileStatus(ProfileInput{Plan: plan, Total: plan.Merge(cluster), Cluster: cluster, Generation: 1, Now: now})
	if len(st.ClusterFindings) != 1 || st.ClusterFindings[0].Result != v1alpha1.ResultNotAssessed {
		t.Fatalf("clusterFindings %+v, want padded's unread finding", st.ClusterFindings)
	}
	if st.ClusterFindingsTotal != 1 || st.ClusterFindingsTruncated {
		t.Errorf("clusterFindingsTotal %d (truncated %v), want 1 for the 1 listed", st.ClusterFindingsTotal, st.ClusterFindingsTruncated)
	}
	if st.Result != v1alpha1.NonCompliant {
		t.Errorf("result %s, want NonCompliant: CC6.3 fails closed on padded", st.Result)
	}
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestClusterScopedFindingsAreCounted: soc2_operator_findings counted the findings of
// namespaces only, so a ClusterRoleBinding granting cluster-admin to every authenticated user,
// a Critical finding the profile lists in clusterFindings, was in no series: the dashboard's
// Failing Critical findings left it out and SOC2NewCriticalFinding could never fire for it.
// The cluster-scoped objects' counts are served under namespace "", as their criteria are, as
// many as the profile lists, and are absent after a full evaluation that failed (as a stale
// report's are).
func TestClusterScopedFindingsAreCounted(t *testing.T) {
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("everyone-is-admin-counted"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}
	if err := k8s.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
	profile := createProfile(t, "cluster-counted", "cluster-counted-selects-nothing", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.MaxFindings = 500 // every cluster finding listed, to count them
	})
	series := `soc2_operator_findings{namespace="",profile="cluster-counted",result="Fail",severity="Critical"}`
	eventually(t, 20*time.Second, "the cluster-scoped Critical findings counted as the profile lists them", func() error {
		_, p, err := profileReady(ctx, "cluster-counted")
		if err != nil {
			return err
		}
		if p.Status.ClusterFindingsTruncated {
			return fmt.Errorf("clusterFindings is truncated (total %d)", p.Status.ClusterFindingsTotal)
		}
		want, listed := 0, false
		for _, f := range p.Status.ClusterFindings {
			if f.Severity == v1alpha1.SeverityCritical && f.Result == v1alpha1.ResultFail {
				want++
			}
			listed = listed || (f.Check == "rbac-cluster-admin-binding" && f.Resource.Name == crb.Name)
		}
		if !listed {
			return fmt.Errorf("clusterFindings does not list %s yet", crb.Name)
		}
		line := grepLines(scrape(t), series+" ")
		if line != fmt.Sprintf("%s %d", series, want) {
			return fmt.Errorf("served %q; the profile lists %d failing Critical findings on cluster-scoped objects", line, want)
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
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); !errors.Is(err, errInjected) {
		t.Fatalf("Reconcile returned %v; want the gathering error", err)
	}
	if body := scrape(t); strings.Contains(body, `soc2_operator_findings{namespace="",profile="cluster-counted"`) {
		t.Errorf("after a failed full evaluation the cluster-scoped findings are still counted:\n%s",
			grepLines(body, `soc2_operator_findings{namespace="",profile="cluster-counted"`))
	}
}

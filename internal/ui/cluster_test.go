package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestFindingsOnClusterScopedObjectsAreShownToWhoMayGetProfiles: a ClusterRoleBinding that
// binds cluster-admin to a person fails rbac-cluster-admin-binding in the profile's status
// (clusterFindings), in no namespace's report. The auditor, who may get the profiles, sees it on
// the check's page and counted on the overview, not "No resource fails this check"; the shop
// developer, who may read shop only, does not see it, and is told that such findings exist
// elsewhere.
func TestFindingsOnClusterScopedObjectsAreShownToWhoMayGetProfiles(t *testing.T) {
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-cluster-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "contractor@example.com"}},
	}
	if err := admin.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), crb) })
	const check = "rbac-cluster-admin-binding"
	var profile v1alpha1.ComplianceProfile
	waitFor(t, "the ClusterRoleBinding in the profile's clusterFindings", func() bool {
		if err := admin.Get(ctx, client.ObjectKey{Name: profileName}, &profile); err != nil {
			t.Fatal(err)
		}
		for _, f := range profile.Status.ClusterFindings {
			if f.Check == check && f.Resource.Name == crb.Name {
				return true
			}
		}
		return false
	})
	resource := "ClusterRoleBinding/" + crb.Name

	_, body, _ := get(t, auditorToken, "/checks/"+check)
	if !contains(rows(body, "data-resource"), resource) {
		t.Errorf("the auditor's %s page does not list %s (lists %v)", check, resource, rows(body, "data-resource"))
	}
	_, body, _ = get(t, auditorToken, "/")
	if want := fmt.Sprintf(`id="cluster-findings-%s">%d<`, profileName, profile.Status.ClusterFindingsTotal); !strings.Contains(body, want) {
		t.Errorf("the auditor's overview does not count the profile's %d findings on cluster-scoped objects", profile.Status.ClusterFindingsTotal)
	}

	_, body, _ = get(t, shopDevToken, "/checks/"+check)
	if strings.Contains(body, crb.Name) {
		t.Errorf("shop-dev's %s page shows the ClusterRoleBinding", check)
	}
	if !strings.Contains(body, `id="cluster-not-shown"`) {
		t.Errorf("shop-dev's %s page does not say that findings on cluster-scoped objects are not shown to them", check)
	}
	_, body, _ = get(t, shopDevToken, "/")
	if strings.Contains(body, "cluster-findings-") {
		t.Errorf("shop-dev's overview counts the findings on cluster-scoped objects")
	}
}

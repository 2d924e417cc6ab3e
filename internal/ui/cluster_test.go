package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
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
	if want := fmt.Sprintf(`id="cluster-findings-%s">%d<`, profileName, profile.Status.ClusterFindingsFailing); profile.Status.ClusterFindingsFailing == 0 || !strings.Contains(body, want) {
		t.Errorf("the auditor's overview does not count the profile's %d failing findings on cluster-scoped objects", profile.Status.ClusterFindingsFailing)
	}
	excepted := fmt.Sprintf(`id="cluster-excepted-%s">%d<`, profileName, profile.Status.ClusterFindingsExcepted)
	if shown := strings.Contains(body, excepted); shown != (profile.Status.ClusterFindingsExcepted > 0) {
		t.Errorf("the auditor's overview shows %s: %v; the profile has %d excepted findings on cluster-scoped objects", excepted, shown, profile.Status.ClusterFindingsExcepted)
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

// TestAnExceptionOnAClusterScopedObjectIsShownOnItsChecksPage: an exception of the operator's
// namespace may waive a finding on a cluster-scoped object (a ClusterRoleBinding to a
// ClusterRole that does not exist, rbac-dangling-binding). The profile's status records who
// requested and approved it, why and until when (status.clusterExceptions), but the check's page
// showed the finding "Excepted by soc2-operator-system/..." with none of that, and no
// namespace's page lists it: the auditor could not see who accepted the risk.
func TestAnExceptionOnAClusterScopedObjectIsShownOnItsChecksPage(t *testing.T) {
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-dangling"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ui-test-retired-role"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "retired-team"}},
	}
	if err := admin.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), crb) })
	const check = "rbac-dangling-binding"
	const reason = "The retired team's binding goes with the IAM migration (PLAT-91)."
	const owner = "platform-team@example.com"
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-dangling-waiver", Namespace: adminNamespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{check},
			Match:  v1alpha1.ResourceMatch{Namespaces: []string{"*"}, Kinds: []string{"ClusterRoleBinding"}, Names: []string{crb.Name}},
			Reason: reason, Owner: owner, Expires: metav1.NewTime(time.Now().Add(7 * 24 * time.Hour)),
		},
	}
	name := requestAndApprove(t, admin, ex)
	waitFor(t, "the binding's finding excepted in the profile's clusterFindings", func() bool {
		var p v1alpha1.ComplianceProfile
		if err := admin.Get(ctx, client.ObjectKey{Name: profileName}, &p); err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Status.ClusterFindings {
			if f.Check == check && f.Resource.Name == crb.Name && f.Exception == name {
				return true
			}
		}
		return false
	})

	// The dashboard reads the operator's cache, which may follow the API server by a moment.
	var body string
	waitFor(t, "the exception on the auditor's "+check+" page", func() bool {
		_, body, _ = get(t, auditorToken, "/checks/"+check)
		return contains(rows(body, "data-exception"), name)
	})
	rowHas(t, body, name, "Active", owner, testenv.ApproverName, templateEscape(reason))
	if _, body, _ := get(t, shopDevToken, "/checks/"+check); strings.Contains(body, name) {
		t.Errorf("shop-dev, who may not get profiles, is shown the exception on a cluster-scoped object")
	}
}

package tenanttest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
)

// grantEveryVerbAsOLMDoes gives the tenant what an OperatorGroup aggregates into `admin` for the
// CRDs an operator owns (its <plural>.<group>-v1alpha1-admin ClusterRole): every verb on them.
func grantEveryVerbAsOLMDoes(t *testing.T, tn *tenant) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "olm-provided-apis-admin", Namespace: tn.Namespace},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"compliancereports", "controlexceptions", "complianceprofiles"},
			Verbs:     []string{"*"},
		}},
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tn.User}},
	}
	for _, o := range []client.Object{role, rb} {
		if err := platform.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTenantCannotDeleteReports: installed through OLM, a namespace admin holds every verb on
// ComplianceReports. A deleted report comes back within a second, but with nothing recording
// that it went, and (after a restart, with the journal off) with its findings' first-seen times
// reset: "failing only since 10:02". Nobody but the operator, the garbage collector (with the
// report's profile) and the namespace controller (with its namespace) may delete one: not the
// tenant, one by one or all at once, and not a cluster admin.
func TestTenantCannotDeleteReports(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "delete-report", nil)
	grantEveryVerbAsOLMDoes(t, tn)
	if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
		t.Fatal(err)
	}
	rep := tn.waitReport(t, "NonCompliant", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", rep.Status.Result)
		}
		return nil
	})

	refusedBy(t, "the tenant deleting the report", tn.Client.Delete(ctx, rep.DeepCopy()), admissionpolicy.ReportDeleteMessage)
	refusedBy(t, "the tenant deleting every report of the namespace",
		tn.Client.DeleteAllOf(ctx, &v1alpha1.ComplianceReport{}, client.InNamespace(tn.Namespace)), admissionpolicy.ReportDeleteMessage)
	refusedBy(t, "a cluster admin deleting the report", platform.Delete(ctx, rep.DeepCopy()), admissionpolicy.ReportDeleteMessage)
	if now, err := tn.report(); err != nil || now.UID != rep.UID {
		t.Errorf("after the refused deletes: the report is %v (err %v), want the same object (uid %s)", now.UID, err, rep.UID)
	}

	// Those who delete reports as Kubernetes means them to may: the garbage collector when a
	// profile goes, the namespace controller when a namespace goes (k8s v1.37.2
	// kube-controller-manager, with --use-service-account-credentials, or as itself without).
	// RBAC is granted here so that only the admission policy is under test; the deletes are dry
	// runs, which admission judges as it would the real ones.
	system := []string{
		"system:serviceaccount:kube-system:generic-garbage-collector",
		"system:serviceaccount:kube-system:namespace-controller",
		"system:kube-controller-manager",
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "report-deleters", Namespace: tn.Namespace},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"compliancereports"},
			Verbs: []string{"delete", "deletecollection", "list"}}},
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
	}
	for _, u := range system {
		rb.Subjects = append(rb.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u})
	}
	for _, o := range []client.Object{role, rb} {
		if err := platform.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range system {
		c, _ := impersonate(t, u)
		if err := c.Delete(ctx, rep.DeepCopy(), client.DryRunAll); err != nil {
			t.Errorf("%s deleting the report: %v", u, err)
		}
		if err := c.DeleteAllOf(ctx, &v1alpha1.ComplianceReport{}, client.InNamespace(tn.Namespace), client.DryRunAll); err != nil {
			t.Errorf("%s deleting every report of the namespace: %v", u, err)
		}
	}
	if err := tn.Client.Delete(ctx, rep.DeepCopy(), client.DryRunAll); err == nil || !strings.Contains(err.Error(), admissionpolicy.ReportDeleteMessage) {
		t.Errorf("the tenant's dry run of the delete: want the policy's refusal, got %v", err)
	}
}

package tenanttest

import (
	"context"
	"errors"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestABindingDressedAsKubernetesOwnIsJudged: RBAC checks leave Kubernetes' own bindings
// alone, and a namespace admin may create RoleBindings in their namespace with any name and
// labels. One named system:... and labelled kubernetes.io/bootstrapping=rbac-defaults, which
// opens the tenant's Role to every authenticated user, must still be reported
// (rbac-system-groups, Critical), not waved through as built-in.
func TestABindingDressedAsKubernetesOwnIsJudged(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "system-binding", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: tn.Namespace},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "system:controller:pod-reader", Namespace: tn.Namespace,
			Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}
	if err := tn.Client.Create(ctx, role); err != nil {
		t.Fatalf("creating Role as the tenant: %v", err)
	}
	if err := tn.Client.Create(ctx, binding); err != nil {
		t.Fatalf("creating RoleBinding %s as the tenant: %v", binding.Name, err)
	}
	tn.waitReport(t, "the binding to system:authenticated reported", func(rep *v1alpha1.ComplianceReport) error {
		if _, err := failingFinding(rep, "RoleBinding", binding.Name, "rbac-system-groups"); err != nil {
			return err
		}
		if rep.Status.Result == v1alpha1.Compliant {
			return errors.New("the report says Compliant")
		}
		return nil
	})
}

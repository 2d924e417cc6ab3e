package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// TestServiceAccountChangesJudgeTheWorkloadAgain: a Deployment is judged with its
// ServiceAccount as the cluster holds it now. A ServiceAccount has no generation (the API server
// sets none on it), so every change and its deletion must bring the namespace's evaluation back:
// deleted, the Deployment fails sa-missing and sa-token-automount (nothing turns automount off
// any more); created again without automountServiceAccountToken, it passes sa-missing and still
// fails sa-token-automount; set to false, it passes both. A report that kept the first verdicts
// would pass a workload whose pods, created from now on, are refused or get a token.
func TestServiceAccountChangesJudgeTheWorkloadAgain(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "sa-life", "sa-life"
	createNamespace(t, ns, map[string]string{profile: "true"})
	newSA := func(automount *bool) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, AutomountServiceAccountToken: automount}
	}
	if err := k8s.Create(ctx, newSA(ptr.To(false))); err != nil {
		t.Fatal(err)
	}
	d := deployment(ns, "web", false)
	d.Spec.Template.Spec.AutomountServiceAccountToken = nil
	d.Spec.Template.Spec.ServiceAccountName = "web"
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		no := false
		for _, c := range checks.Catalogue() {
			if c.ID != "sa-missing" && c.ID != "sa-token-automount" {
				p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
			}
		}
	})
	waitWritten(t, ns, profile)
	both := func(missing, automount string) func() error {
		return func() error {
			if err := findingSays(ns, profile, "sa-missing", "web", missing)(); err != nil {
				return err
			}
			return findingSays(ns, profile, "sa-token-automount", "web", automount)()
		}
	}
	eventually(t, 20*time.Second, "Deployment web passing both with ServiceAccount web automount false", both("", ""))

	if err := k8s.Delete(ctx, newSA(nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Deployment web failing both once ServiceAccount web is deleted",
		both(`ServiceAccount "web" does not exist`, `ServiceAccount "web" does not exist`))

	sa := newSA(nil)
	if err := k8s.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Deployment web failing only sa-token-automount once ServiceAccount web is back without the setting",
		both("", `neither the pod nor ServiceAccount "web"`))

	sa.AutomountServiceAccountToken = ptr.To(false)
	if err := k8s.Update(ctx, sa); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "Deployment web passing both once ServiceAccount web turns automount off", both("", ""))
}

// TestDefaultServiceAccountBindingsAsTheAPIServerHoldsThem: in the operator's view, sa-default-bound
// judges RoleBindings as the API server stores them, with the subjects' apiGroup left out (the v1
// defaults fill in rbac.authorization.k8s.io for a User or Group, "" for a ServiceAccount) and a
// ServiceAccount subject without namespace read in the binding's: a grant to the group of every
// ServiceAccount of the namespace, to the default ServiceAccount's user name, or to the default
// ServiceAccount itself reaches every pod that names no ServiceAccount, and fails; a grant to a
// dedicated ServiceAccount does not. Deleting the group's binding takes its finding away.
func TestDefaultServiceAccountBindingsAsTheAPIServerHoldsThem(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "sa-bound", "sa-bound"
	createNamespace(t, ns, map[string]string{profile: "true"})
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "config-reader", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	if err := k8s.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	binding := func(name string, s rbacv1.Subject) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:  rbacv1.RoleRef{Kind: "Role", Name: role.Name},
			Subjects: []rbacv1.Subject{s}}
	}
	group := binding("to-namespace-group", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:" + ns})
	for _, b := range []*rbacv1.RoleBinding{
		group,
		binding("to-user-name", rbacv1.Subject{Kind: rbacv1.UserKind, Name: "system:serviceaccount:" + ns + ":default"}),
		binding("to-default", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default"}),
		binding("to-dedicated", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "web"}),
	} {
		if err := k8s.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sa-default-bound") })
	waitWritten(t, ns, profile)
	all := func(conds ...func() error) func() error {
		return func() error {
			for _, c := range conds {
				if err := c(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	eventually(t, 20*time.Second, "the three grants to default ServiceAccounts failing, the dedicated one not", all(
		findingSays(ns, profile, "sa-default-bound", "to-namespace-group", `Group "system:serviceaccounts:sa-bound", which reaches default ServiceAccounts`),
		findingSays(ns, profile, "sa-default-bound", "to-user-name", `User "system:serviceaccount:sa-bound:default"`),
		findingSays(ns, profile, "sa-default-bound", "to-default", `ServiceAccount "sa-bound/default"`),
		findingSays(ns, profile, "sa-default-bound", "to-dedicated", "")))

	if err := k8s.Delete(ctx, group); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the group's finding gone with its binding", all(
		findingSays(ns, profile, "sa-default-bound", "to-namespace-group", ""),
		findingSays(ns, profile, "sa-default-bound", "to-default", `ServiceAccount "sa-bound/default"`)))
}

package tenanttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
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

// TestADeleteOnlyRoleThatReadsSecretsIsReported: a namespace admin grants a "cleanup" user
// delete on secrets and nothing else, which reads as write-only. The user cannot get the
// Secret, but a delete with dryRun All and propagationPolicy Orphan answers with the whole
// stored Secret and leaves it in place. The Role must fail rbac-secret-read.
func TestADeleteOnlyRoleThatReadsSecretsIsReported(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "secret-delete", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: tn.Namespace},
		StringData: map[string]string{"password": "hunter2"}}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "secret-cleaner", Namespace: tn.Namespace},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"delete"}}},
	}
	cleaner := "cleanup@" + tn.Namespace
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "secret-cleaner", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: cleaner}},
	}
	for _, o := range []client.Object{secret, role, binding} {
		if err := tn.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s as the tenant: %v", o, o.GetName(), err)
		}
	}

	cfg := rest.CopyConfig(platformCfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: cleaner, Groups: []string{"system:authenticated"}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the cleanup user reads the Secret through a dry-run delete", func() error {
		if _, err := cs.CoreV1().Secrets(tn.Namespace).Get(ctx, secret.Name, metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			return fmt.Errorf("get as %s: want Forbidden, got %v", cleaner, err)
		}
		orphan := metav1.DeletePropagationOrphan
		body, err := cs.CoreV1().RESTClient().Delete().Namespace(tn.Namespace).Resource("secrets").Name(secret.Name).
			Body(&metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}, PropagationPolicy: &orphan}).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("dry-run delete as %s: %w", cleaner, err)
		}
		var got corev1.Secret
		if err := json.Unmarshal(body, &got); err != nil {
			return err
		}
		if string(got.Data["password"]) != "hunter2" {
			return fmt.Errorf("the dry-run delete answered %s", body)
		}
		return nil
	})
	if err := platform.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{}); err != nil {
		t.Fatalf("the Secret is gone after a dry-run delete: %v", err)
	}

	tn.waitReport(t, "the delete-only Role reported as reading Secrets", func(rep *v1alpha1.ComplianceReport) error {
		_, err := failingFinding(rep, "Role", role.Name, "rbac-secret-read")
		return err
	})
}

package webhook_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAScaleDownCannotCarryACredentialInTheLastAppliedAnnotation: an update that scales a
// ReplicaSet down under the controller it names, changing its annotations too, is admitted
// unjudged (the Argo Rollouts controller scales an old revision down this way). A namespace
// admin names a Rollout (any UID: the API server does not check) on a hardened ReplicaSet and,
// in the update that scales it down, writes kubectl's last-applied-configuration annotation
// holding a literal DB_PASSWORD. The reports judge that ReplicaSet itself (no built-in
// controller's template explains it) and fail it on sec-literal-env-credentials, which reads the
// annotation; the webhook, enforcing it, admitted the update. No controller writes kubectl's
// annotation: an update that changes it is judged.
func TestAScaleDownCannotCarryACredentialInTheLastAppliedAnnotation(t *testing.T) {
	const ns = "enforce-applied-scaledown"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	raiseToCritical(t, ns, "sec-literal-env-credentials")
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	rollout := metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "orders",
		UID: "44444444-4444-4444-4444-444444444444", Controller: &yes, BlockOwnerDeletion: &yes}
	three := int32(3)
	tmpl := deployment(ns, "orders", false).Spec.Template
	tmpl.Labels = map[string]string{"app": "orders", "rollouts-pod-template-hash": "7c9d"}
	tmpl.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "orders-7c9d", Namespace: ns, Labels: tmpl.Labels,
			Annotations:     map[string]string{"rollout.argoproj.io/desired-replicas": "3"},
			OwnerReferences: []metav1.OwnerReference{rollout}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl},
	}
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	update := func(change func(r *appsv1.ReplicaSet)) error {
		r := &appsv1.ReplicaSet{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(rs), r); err != nil {
			return err
		}
		change(r)
		return k.Update(ctx, r, client.DryRunAll)
	}
	one := int32(1)
	scaleDown := func(r *appsv1.ReplicaSet) {
		r.Spec.Replicas = &one
		r.Annotations["rollout.argoproj.io/desired-replicas"] = "1"
	}
	if err := update(scaleDown); err != nil {
		t.Fatalf("the Rollout controller scaling it down was denied: %v", err)
	}
	err := update(func(r *appsv1.ReplicaSet) {
		scaleDown(r)
		r.Annotations[corev1.LastAppliedConfigAnnotation] = `{"apiVersion":"apps/v1","kind":"ReplicaSet","spec":{"template":{"spec":{"containers":[{"name":"app","image":"registry.example.com/app:1.0.0","env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","value":"Orders-2024"}]}]}}}}`
	})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "sec-literal-env-credentials") {
		t.Errorf("a scale-down writing a literal DB_PASSWORD into last-applied-configuration: want denied naming sec-literal-env-credentials, got %v", err)
	}
}

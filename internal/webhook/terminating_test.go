package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestEnforceHoldsInANamespaceBeingDeleted: a namespace being deleted (Terminating) keeps its
// objects until each is gone, and a finalizer its writers add holds it there. The
// NamespaceLifecycle admission plugin refuses only creates in it (k8s.io/apiserver v0.37.2
// pkg/admission/plugin/namespace/lifecycle), so its objects may still be updated, and Pod
// Security admission keeps judging those updates. The webhook stopped enforcing as soon as the
// namespace was marked for deletion: a Deployment held by a finalizer could be made privileged.
func TestEnforceHoldsInANamespaceBeingDeleted(t *testing.T) {
	const ns = "enforce-terminating"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "agent", false)
	d.Finalizers = []string{"example.com/hold"}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// The webhook reads the namespace from its cache: once the cache holds it marked for
	// deletion, a try must be denied (before, it was admitted from then on).
	testenv.Eventually(t, 10*time.Second, "the webhook's cache sees namespace "+ns+" being deleted", func() error {
		cached := &corev1.Namespace{}
		if err := webhookCache.Get(ctx, client.ObjectKey{Name: ns}, cached); err != nil {
			return err
		}
		if cached.DeletionTimestamp == nil {
			return fmt.Errorf("not marked for deletion in the cache yet")
		}
		return nil
	})
	cur := &appsv1.Deployment{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(d), cur); err != nil {
		t.Fatal(err)
	}
	yes := true
	cur.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &yes
	cur.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	if err := k.Update(ctx, cur, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Fatalf("making a Deployment privileged in a namespace being deleted (the webhook's cache has seen it): want denied, got %v", err)
	}
	// Removing the finalizer, which completes the deletion, is admitted.
	cur = &appsv1.Deployment{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(d), cur); err != nil {
		t.Fatal(err)
	}
	cur.Finalizers = nil
	if err := k.Update(ctx, cur); err != nil {
		t.Errorf("removing the finalizer of a Deployment in a namespace being deleted was denied: %v", err)
	}
}

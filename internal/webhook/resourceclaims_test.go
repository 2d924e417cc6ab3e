package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAPodNamingClaimsItsTemplateDoesNotIsJudgedItself: wl-device-admin-access judges a pod by the
// resource claims its spec names, but a pod that named its ReplicaSet as its controller was
// judged as the ReplicaSet's Deployment whatever its spec.resourceClaims said: they were among
// the fields not compared with the template ("the system sets or changes them", which it does
// not: the API server copies them from the template and they cannot change). In a namespace
// that may use administrative device access (resource.kubernetes.io/admin-access: "true", where
// a monitoring agent has it by exception), a namespace admin writes a Pod from their Deployment's
// template plus a claim from a ResourceClaimTemplate with adminAccess, names the Deployment's
// ReplicaSet as its controller (its UID is readable), and the webhook admitted it: judged as a
// Deployment that names no claims. The pod reaches every GPU and NIC other pods hold.
func TestAPodNamingClaimsItsTemplateDoesNotIsJudgedItself(t *testing.T) {
	const ns = "enforce-resourceclaims"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	raiseToCritical(t, ns, "wl-device-admin-access")
	k, _ := newClient(t)
	ctx := context.Background()
	nsObj := &corev1.Namespace{}
	if err := k.Get(ctx, client.ObjectKey{Name: ns}, nsObj); err != nil {
		t.Fatal(err)
	}
	nsObj.Labels["resource.kubernetes.io/admin-access"] = "true"
	if err := k.Update(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	tmpl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
		"metadata": map[string]any{"name": "every-gpu", "namespace": ns},
		"spec": map[string]any{"spec": map[string]any{"devices": map[string]any{"requests": []any{
			map[string]any{"name": "gpu", "exactly": map[string]any{"deviceClassName": "gpu.example.com", "adminAccess": true}},
		}}}},
	}}
	if err := k.Create(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	claims := []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptrTo("every-gpu")}}
	testenv.Eventually(t, 10*time.Second, "wl-device-admin-access enforced", func() error {
		probe := deployment(ns, "probe-claims", false)
		probe.Spec.Template.Spec.ResourceClaims = claims
		if err := k.Create(ctx, probe, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-device-admin-access") {
			return fmt.Errorf("a Deployment whose template claims every GPU: %v", err)
		}
		return nil
	})
	d := deployment(ns, "agent", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-7c9")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "agent-7c9-x2k4p")
	pod.Spec.ResourceClaims = claims
	err := k.Create(ctx, pod, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-device-admin-access") {
		t.Errorf("a Pod of the ReplicaSet with a claim its template does not name: want denied naming wl-device-admin-access, got %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "runs the pod template of") {
		t.Errorf("the Pod was judged as its controller: %v", err)
	}
	// The Pod the ReplicaSet makes, without the claim, is admitted as before.
	if err := k.Create(ctx, podOf(rs, "agent-7c9-a1b2c"), client.DryRunAll); err != nil {
		t.Errorf("the ReplicaSet's own Pod was denied: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

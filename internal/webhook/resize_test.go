package webhook_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAResizeIsJudged: in-place resize changes a running Pod's resources through the
// pods/resize subresource (kubectl patch --subresource resize, the vertical pod autoscaler's
// InPlaceOrRecreate mode), which a webhook is asked about only when its rules name it. The API
// server lets a resize set a memory limit to 0, which the kubelet takes as none
// (validateContainerResize in k8s.io/kubernetes v1.37 pkg/apis/core/validation forbids only
// removing one): a Pod admitted with a limit would then run without one, unjudged, under a
// profile that enforces avl-memory-limit. A resize that keeps what the checks ask for is
// admitted, as the autoscaler's are.
func TestAResizeIsJudged(t *testing.T) {
	const ns = "enforce-resize"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	raiseToCritical(t, ns, "avl-memory-limit")
	k, _ := newClient(t)
	ctx := context.Background()
	resources := func(memory string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse(memory)},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)},
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Labels: map[string]string{"app": "app"}},
		Spec: *deployment(ns, "app", false).Spec.Template.Spec.DeepCopy()}
	pod.Spec.Containers[0].Resources = resources("64Mi")
	if err := k.Create(ctx, pod); err != nil {
		t.Fatalf("a Pod with a memory limit was denied: %v", err)
	}

	// kubectl patch pod app --subresource resize: more memory, still limited.
	pod.Spec.Containers[0].Resources = resources("128Mi")
	if err := k.SubResource("resize").Update(ctx, pod); err != nil {
		t.Fatalf("resizing a Pod to a larger memory limit was denied: %v", err)
	}

	// The limit set to 0: no limit.
	pod.Spec.Containers[0].Resources = resources("0")
	err := k.SubResource("resize").Update(ctx, pod)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "avl-memory-limit (Critical)") {
		t.Fatalf("resizing a Pod's memory limit to 0 (none) under a profile enforcing avl-memory-limit: want a denial naming it, got %v", err)
	}
	got := &corev1.Pod{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(pod), got); err != nil {
		t.Fatal(err)
	}
	if q := got.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]; q.String() != "128Mi" {
		t.Errorf("the Pod's memory limit is %s after the denied resize, want 128Mi", q.String())
	}
}

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestPodLevelLimitBesideZeroContainerRequestsRequestsNothing: the API server (k8s v1.37.2)
// defaults a pod-level request the pod leaves out to the containers' aggregated requests when a
// container names the resource, and to the pod-level limit only when none does. A pod whose
// pod-level resources set limits alone, beside a container that asks 0 cpu and 0 memory, is
// stored requesting 0 of each: avl-resource-requests fails it, and the Deployment whose template
// says the same (it passed, the pod-level limit counted as the request). Beside a container that
// names no request, the pod-level limit is the request: the Pod passes.
func TestPodLevelLimitBesideZeroContainerRequestsRequestsNothing(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "pod-level-requests", "pod-level-requests"
	createNamespace(t, ns, map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-resource-requests") })
	limits := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	zero := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0"), corev1.ResourceMemory: resource.MustParse("0")}
	spec := func(requests corev1.ResourceList) corev1.PodSpec {
		return corev1.PodSpec{Resources: &corev1.ResourceRequirements{Limits: limits.DeepCopy()},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/web:1.4.2",
				Resources: corev1.ResourceRequirements{Requests: requests}}}}
	}
	asksZero := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "asks-zero", Namespace: ns}, Spec: spec(zero.DeepCopy())}
	asksNothing := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "asks-nothing", Namespace: ns}, Spec: spec(nil)}
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec(zero.DeepCopy())}},
	}
	for _, o := range []client.Object{asksZero, asksNothing, deploy} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("the API server refuses %s: %v", o.GetName(), err)
		}
	}
	// What the API server stored: the pod-level requests it defaulted.
	for _, w := range []struct {
		pod  *corev1.Pod
		want string
	}{{asksZero, "0"}, {asksNothing, "1"}} {
		r := w.pod.Spec.Resources
		if r == nil {
			t.Fatalf("Pod %s: no pod-level resources after create", w.pod.Name)
		}
		cpu := r.Requests[corev1.ResourceCPU]
		if want := resource.MustParse(w.want); cpu.Cmp(want) != 0 {
			t.Fatalf("Pod %s: the API server defaulted the pod-level cpu request to %s, want %s (requests %v)", w.pod.Name, cpu.String(), w.want, r.Requests)
		}
	}
	eventually(t, 30*time.Second, "the pods that request 0 fail", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		for _, name := range []string{"asks-zero", "web"} {
			if f := finding(rep, "avl-resource-requests", name, "app"); f == nil || f.Result != v1alpha1.ResultFail {
				return fmt.Errorf("%s: %s", name, describeFinding(rep, "avl-resource-requests", name))
			}
		}
		return nil
	})
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if d := describeFinding(rep, "avl-resource-requests", "asks-nothing"); d != "none listed" {
		t.Errorf("Pod asks-nothing requests its pod-level limit, but the report lists: %s", d)
	}
}

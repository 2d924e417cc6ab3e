package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAControlPlaneStaticPodIsNotAWorkloadInKubeSystem: with includeSystemNamespaces, every
// Pod of kube-system failed chg-system-namespaces, kubeadm's own API server among them: the
// mirror pod a kubelet keeps of a static pod it runs from a file on the node (annotated
// kubernetes.io/config.mirror, bound to the Node it names as controller, as NodeRestriction
// requires of a kubelet's mirror pods). That is the control plane, not a workload placed next to
// it, and is NotApplicable now; a Pod written into kube-system through the API still fails.
func TestAControlPlaneStaticPodIsNotAWorkloadInKubeSystem(t *testing.T) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: objectMeta("staticpods-cp-1")}
	if err := k8s.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), node) })
	yes := true
	mirror := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-staticpods-cp-1", Namespace: "kube-system",
			Labels:          map[string]string{"component": "kube-apiserver", "tier": "control-plane"},
			Annotations:     map[string]string{"kubernetes.io/config.mirror": "8f3c1f0e6b2d4a9c", "kubernetes.io/config.source": "file"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: &yes}}},
		Spec: corev1.PodSpec{NodeName: node.Name, HostNetwork: true,
			Containers: []corev1.Container{{Name: "kube-apiserver", Image: "registry.k8s.io/kube-apiserver:v1.37.2"}}},
	}
	placed := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "staticpods-log-shipper", Namespace: "kube-system"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "shipper", Image: "registry.example.com/platform/log-shipper:2.1.0"}}},
	}
	for _, p := range []*corev1.Pod{mirror, placed} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "kube-system"}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["staticpods"] = "true"
	if err := k8s.Update(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ns := &corev1.Namespace{}
		if k8s.Get(context.Background(), types.NamespacedName{Name: "kube-system"}, ns) == nil {
			delete(ns.Labels, "staticpods")
			_ = k8s.Update(context.Background(), ns)
		}
	})
	createProfile(t, "staticpods", "staticpods", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.IncludeSystemNamespaces = true
		onlyCheck(p, "chg-system-namespaces")
	})
	eventually(t, 20*time.Second, "the placed Pod failing, the static pod not", func() error {
		rep, err := getReport("kube-system", "staticpods")
		if err != nil {
			return err
		}
		if rep.Status.LastEvaluated == nil {
			return fmt.Errorf("not evaluated yet")
		}
		if finding(rep, "chg-system-namespaces", placed.Name, "") == nil {
			return fmt.Errorf("no finding on the Pod written into kube-system: %+v", rep.Status.Findings)
		}
		if f := finding(rep, "chg-system-namespaces", mirror.Name, ""); f != nil {
			return fmt.Errorf("the control plane's static pod fails: %q", f.Message)
		}
		return nil
	})
}

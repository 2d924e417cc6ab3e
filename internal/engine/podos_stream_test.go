package engine_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAStreamedScanHoldsOnlyWhatARuntimeClassMayDecide: a scan streams its input and lets go of
// an object whose checks are all local as soon as it is judged. A template that names a
// RuntimeClass is held to the end (the class, later in the input, may keep it to Windows
// nodes). A Pod bound to a node is not: a scan does not decide a pod's OS by its node (only
// the operator reads Nodes, which kubelets label), so a dump of a cluster's Pods, nearly every
// one bound to a node, streams in as little memory as before. Holding them all made a scan of
// such a dump keep every Pod whole to the end.
func TestAStreamedScanHoldsOnlyWhatARuntimeClassMayDecide(t *testing.T) {
	containers := []corev1.Container{{Name: "app", Image: "registry.example.com/shop/app:1.4.2"}}
	pod := func(name string) *engine.Object {
		return engine.NewObject(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: containers}}, "v1", "Pod")
	}
	bound := pod("bound")
	classed := engine.NewObject(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "classed", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RuntimeClassName: ptr.To("windows-2022"),
			Containers: containers}}}}, "apps/v1", "Deployment")
	var local []*engine.Check
	for _, c := range checks.Catalogue() {
		if c.ID == "wl-readonly-rootfs" {
			local = append(local, c)
		}
	}
	plan := engine.Compile(local, nil)
	letGo := map[*engine.Object]bool{}
	s := plan.NewStream(nil, engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}, func(o *engine.Object) *engine.Object {
		letGo[o] = true
		return o
	})
	s.Add(bound)
	for i := range 64 { // a batch of objects judged by themselves
		s.Add(pod(fmt.Sprintf("bound-%d", i)))
	}
	s.Add(classed)
	if !letGo[bound] {
		t.Error("a Pod bound to a node was held to the end of a streamed scan, which does not read Nodes")
	}
	if letGo[classed] {
		t.Error("a template naming a RuntimeClass was let go before the input's RuntimeClasses were all read")
	}
	s.Finish()
}

package engine_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAStreamedScanHoldsNoWorkloadForTheObjectsAroundIt: a scan streams its input and lets go of
// an object whose checks are all local as soon as it is judged. A Pod bound to a node is let go:
// a scan does not decide a pod's OS by its node (only the operator reads Nodes, which kubelets
// label), so a dump of a cluster's Pods, nearly every one bound to a node, streams in as little
// memory as before; holding them all made a scan of such a dump keep every Pod whole to the end.
// Nor by its RuntimeClass (a scan's files need not hold the cluster's: podos.go), so a Pod (or
// template) that names one is let go too; until December 2026 it was held to the end, for a class later in
// the input that could keep it to Windows nodes.
func TestAStreamedScanHoldsNoWorkloadForTheObjectsAroundIt(t *testing.T) {
	containers := []corev1.Container{{Name: "app", Image: "registry.example.com/shop/app:1.4.2"}}
	pod := func(name string) *engine.Object {
		return engine.NewObject(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: containers}}, "v1", "Pod")
	}
	bound := pod("bound")
	classed := engine.NewObject(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "classed", Namespace: "shop"},
		Spec: corev1.PodSpec{RuntimeClassName: ptr.To("windows-2022"), Containers: containers}}, "v1", "Pod")
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
	s.Add(classed)
	for i := range 64 { // a batch of objects judged by themselves
		s.Add(pod(fmt.Sprintf("bound-%d", i)))
	}
	if !letGo[bound] {
		t.Error("a Pod bound to a node was held to the end of a streamed scan, which does not read Nodes")
	}
	if !letGo[classed] {
		t.Error("a Pod naming a RuntimeClass was held to the end of a streamed scan, which does not read RuntimeClasses")
	}
	s.Finish()
}

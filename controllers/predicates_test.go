package controllers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestSpecChangedSeesWhatDecidesAJudgement: whether a Pod is judged through its controller
// depends on the controller its owner reference names, so rewriting that reference in place
// (same count, no generation change) must reach the namespace's evaluation; a status-only
// update must not.
func TestSpecChangedSeesWhatDecidesAJudgement(t *testing.T) {
	pod := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-abc-x1", Namespace: "shop", Generation: 1,
			Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-abc",
				UID: "uid-rs", Controller: ptr.To(true)}}}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	cases := map[string]struct {
		mutate func(*corev1.Pod)
		want   bool
	}{
		"status only":                 {mutate: func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }, want: false},
		"the owner's UID":             {mutate: func(p *corev1.Pod) { p.OwnerReferences[0].UID = "uid-other" }, want: true},
		"the owner's kind":            {mutate: func(p *corev1.Pod) { p.OwnerReferences[0].Kind = "Deployment" }, want: true},
		"the owner's name":            {mutate: func(p *corev1.Pod) { p.OwnerReferences[0].Name = "web-def" }, want: true},
		"controller: true dropped":    {mutate: func(p *corev1.Pod) { p.OwnerReferences[0].Controller = nil }, want: true},
		"a second owner":              {mutate: func(p *corev1.Pod) { p.OwnerReferences = append(p.OwnerReferences, p.OwnerReferences[0]) }, want: true},
		"a label":                     {mutate: func(p *corev1.Pod) { p.Labels["team"] = "shop" }, want: true},
		"the spec (a new generation)": {mutate: func(p *corev1.Pod) { p.Generation = 2 }, want: true},
		// The scheduler's pods/binding writes spec.nodeName without a new generation
		// (setPodNodeAndMetadata in k8s.io/kubernetes v1.37 pkg/registry/core/pod/storage
		// bypasses the pod strategy), and a custom check may read it.
		"the node it is bound to": {mutate: func(p *corev1.Pod) { p.Spec.NodeName = "control-plane-1" }, want: true},
		// A Pod that has Succeeded or Failed runs nothing, and the availability checks count
		// no such Pod (engine.Workload.Terminal).
		"its end: Succeeded": {mutate: func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }, want: true},
		"its end: Failed":    {mutate: func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := specChanged().Update(event.UpdateEvent{ObjectOld: pod(nil), ObjectNew: pod(tc.mutate)})
			if got != tc.want {
				t.Errorf("specChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSpecChangedSeesTheNodesADaemonSetRunsOn: avl-rolling-update resolves a DaemonSet's
// maxUnavailable against status.desiredNumberScheduled, so a change of it must reach the
// evaluation; the rest of the DaemonSet's status (pods becoming ready) must not.
func TestSpecChangedSeesTheNodesADaemonSetRunsOn(t *testing.T) {
	ds := func(mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "edge", Generation: 1},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 3}}
		if mutate != nil {
			mutate(d)
		}
		return d
	}
	cases := map[string]struct {
		mutate func(*appsv1.DaemonSet)
		want   bool
	}{
		"pods ready":                  {mutate: func(d *appsv1.DaemonSet) { d.Status.NumberReady = 2 }, want: false},
		"the nodes it should run on":  {mutate: func(d *appsv1.DaemonSet) { d.Status.DesiredNumberScheduled = 4 }, want: true},
		"the spec (a new generation)": {mutate: func(d *appsv1.DaemonSet) { d.Generation = 2 }, want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := specChanged().Update(event.UpdateEvent{ObjectOld: ds(nil), ObjectNew: ds(tc.mutate)}); got != tc.want {
				t.Errorf("specChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

package engine

import (
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// This file decides a pod's OS with the objects around it, where its own spec says nothing of
// it (no spec.os.name, no OS label in its node selector, no required node affinity that admits
// nodes of one OS only):
//
//   - a template's RuntimeClass: the RuntimeClass admission plugin merges the class's
//     scheduling.nodeSelector into every Pod created with it (k8s v1.37.2
//     plugin/pkg/admission/runtimeclass/admission.go, on create only: templates never carry
//     it), so a template that names a RuntimeClass admitting only Windows nodes runs only on
//     Windows nodes. RuntimeClasses are cluster-scoped, written by cluster administrators, not by
//     a namespace's users. A RuntimeClass the inventory does not hold (one that does not exist:
//     the API server stores a template naming any class) decides nothing, and neither does one
//     whose node selector names no OS. A Pod in the cluster holds what the plugin merged when it
//     was created, which its own spec shows: the class as it is now (given a Windows selector
//     since, say) does not decide. Only a complete inventory (the operator, the webhook) reads
//     RuntimeClasses: a scan's files are written by whoever writes them, and a RuntimeClass among
//     them need not be the cluster's (a team's repository may ship one named like the cluster's
//     gvisor class, with a Windows node selector, that the team cannot apply while its Deployment
//     is applied and runs on Linux), so in a scan a pod's own spec alone decides its OS, as it
//     does of a bound Pod (below).
//   - a bound Pod's Node, in the cluster (a complete inventory: the operator and the webhook,
//     which read the Nodes bound Pods name): a Pod whose spec.nodeName is set (the scheduler's
//     binding, or its writer; immutable once set) runs on that node, and the kubelet labels its
//     Node with its own OS (kubernetes.io/os, runtime.GOOS; the NodeRestriction admission plugin
//     stops others than the node's kubelet and cluster administrators changing it). A node the
//     inventory does not hold (one that does not exist: a namespace's users may bind a Pod to
//     any name), or one with no OS label, decides nothing. A scan does not read Nodes: a
//     manifest's Node need not be the cluster's, and holding every bound Pod of a dump of a
//     cluster until its end, in case a Node follows, would cost a streamed scan its memory.
//
// What decides nothing leaves the pod judged by its own spec alone, as before: a Linux pod.

// OSKinds are the kinds whose objects the engine reads to decide a pod's OS (podos.go), beyond
// the checks' Reads, in the cluster: the operator and the webhook read them; a scan does not.
var OSKinds = []string{"RuntimeClass", "Node"}

// WindowsPodOf is WindowsPod for a workload, with the objects around it (see above): whether
// only Windows nodes run its pods.
func (inv *Inventory) WindowsPodOf(o *Object) bool {
	spec := inv.osSpec(o)
	if WindowsPod(spec) {
		return true
	}
	return !specNamesOS(spec) && inv.nodeOS(o) == string(corev1.Windows)
}

// MayRunOnWindowsOf is MayRunOnWindows for a workload, with the objects around it: a Pod bound
// to a node whose kubelet labelled it linux runs on no Windows node.
func (inv *Inventory) MayRunOnWindowsOf(o *Object) bool {
	spec := inv.osSpec(o)
	if !MayRunOnWindows(spec) {
		return false
	}
	if specNamesOS(spec) {
		return true
	}
	os := inv.nodeOS(o)
	return os == "" || os == string(corev1.Windows)
}

// OSDependsOnOthers reports whether the objects around o may decide its OS in the cluster: it is
// a workload whose spec says nothing of its OS, and it names a RuntimeClass, or, when bound
// counts, is a Pod bound to a node (the webhook asks of RuntimeClasses alone, bound false). A
// scan reads neither, and judges every workload by its own spec.
func OSDependsOnOthers(o *Object, bound bool) bool {
	if o.Workload == nil || o.Workload.PodSpec == nil || specNamesOS(o.Workload.PodSpec) {
		return false
	}
	s := o.Workload.PodSpec
	return s.RuntimeClassName != nil && *s.RuntimeClassName != "" || bound && o.Kind == "Pod" && s.NodeName != ""
}

// specNamesOS reports whether a pod's own spec says anything of its OS: spec.os.name, an OS
// label in its node selector, or a required node affinity that admits nodes of one OS only.
// The objects around a pod decide its OS only where it says nothing: a pod whose own spec
// conflicts with its RuntimeClass's selector is refused at admission, and one whose spec
// conflicts with its node is refused by the kubelet; either runs nowhere.
func specNamesOS(s *corev1.PodSpec) bool {
	if s.OS != nil {
		return true
	}
	for _, key := range osNodeLabels {
		if _, ok := s.NodeSelector[key]; ok {
			return true
		}
	}
	return onlyNodesOfOS(s.Affinity, corev1.Windows) || onlyNodesOfOS(s.Affinity, corev1.Linux)
}

// osSpec is o's pod spec as its pods run it: in the cluster, a template's with its
// RuntimeClass's OS node selector merged in, where that decides the OS (see above).
func (inv *Inventory) osSpec(o *Object) *corev1.PodSpec {
	spec := o.Workload.PodSpec
	if spec == nil || specNamesOS(spec) || spec.RuntimeClassName == nil || *spec.RuntimeClassName == "" ||
		o.Kind == "Pod" || !inv.Complete {
		return spec
	}
	return inv.Memo(o, "engine.os-spec", func() any {
		sel := runtimeClassNodeSelector(inv.Get("RuntimeClass", "", *spec.RuntimeClassName))
		merged := map[string]string{}
		for _, key := range osNodeLabels {
			if v, ok := sel[key]; ok {
				merged[key] = v
			}
		}
		if len(merged) == 0 {
			return spec
		}
		for k, v := range spec.NodeSelector {
			merged[k] = v
		}
		out := *spec
		out.NodeSelector = merged
		return &out
	}).(*corev1.PodSpec)
}

// runtimeClassNodeSelector is a RuntimeClass's scheduling.nodeSelector, nil when there is none
// (or o is nil, or no RuntimeClass): node.k8s.io/v1's (and v1beta1's, the same shape) as the
// operator and scan decode it, or v1alpha1's spec.scheduling.nodeSelector, read as written.
func runtimeClassNodeSelector(o *Object) map[string]string {
	if o == nil {
		return nil
	}
	switch rc := o.Obj.(type) {
	case *nodev1.RuntimeClass:
		if rc.Scheduling != nil {
			return rc.Scheduling.NodeSelector
		}
	case *unstructured.Unstructured:
		if sel, _, _ := unstructured.NestedStringMap(rc.Object, "scheduling", "nodeSelector"); sel != nil {
			return sel
		}
		sel, _, _ := unstructured.NestedStringMap(rc.Object, "spec", "scheduling", "nodeSelector")
		return sel
	}
	return nil
}

// nodeOS is the OS label of the node a bound Pod runs on, "" when o is no bound Pod, its node is
// not in the inventory or has no OS label, or the inventory is a scan's. The first OS label (osNodeLabels) the node has
// decides, as for a node selector.
func (inv *Inventory) nodeOS(o *Object) string {
	if !inv.Complete || o.Kind != "Pod" || o.Workload.PodSpec.NodeName == "" {
		return ""
	}
	node := inv.Get("Node", "", o.Workload.PodSpec.NodeName)
	if node == nil {
		return ""
	}
	labels := node.Obj.GetLabels()
	for _, key := range osNodeLabels {
		if v, ok := labels[key]; ok {
			return v
		}
	}
	return ""
}

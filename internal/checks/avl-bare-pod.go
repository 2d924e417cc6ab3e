package checks

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlBarePod = &engine.Check{
	ID:    "avl-bare-pod",
	Title: "Pods are managed by a controller",
	Description: "A pod created on its own is not recreated when its node fails, is drained or is " +
		"upgraded, and cannot be rolled out or scaled: the service is gone until someone notices " +
		"(A1.2). A pod whose controller is a ReplicaSet, StatefulSet, DaemonSet, Job or " +
		"ReplicationController that exists with the UID its reference names passes (when the " +
		"controller's template explains it, it is judged through the controller and never reaches " +
		"this check); a reference to a controller that does not exist, has another UID or does not " +
		"create Pods (a Deployment, a CronJob) fails, since nothing recreates the pod, and so does one " +
		"whose controller is any other built-in kind (a ConfigMap, a ReplicaSet of the unserved " +
		"extensions/v1beta1). A pod whose controller is its Node passes when it is the mirror pod of a " +
		"kubelet's static pod, the only pod a Node controls: annotated kubernetes.io/config.mirror and bound " +
		"to that node; any other pod that names a Node fails, and in a scan, which cannot tell whether a " +
		"kubelet made it, a mirror pod is NotAssessed. " +
		"A controller reference is what the pod claims: one naming a custom resource (an operator's), " +
		"which is not read, and in a scan one naming a controller not among the manifests, cannot be " +
		"verified and is NotAssessed." + supporting,
	Remediation: "Run the pod from a Deployment (or a StatefulSet, DaemonSet or Job, as fits the workload).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{a12},
	Targets:     []string{"Pod"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notWorkload(ctx, o) {
			return
		}
		ref := metav1.GetControllerOf(o.Obj)
		if ref == nil {
			ctx.Fail("", "a bare pod is not recreated if its node fails")
			return
		}
		if isNodeRef(ref) {
			judgeNodeController(ctx, o, ref)
			return
		}
		p := ctx.Inventory.Provenance(o)
		switch {
		case p == nil && builtInNonController(ref):
			ctx.Fail("", "nothing recreates the pod if its node fails: its controller %s %s is a built-in kind that creates no Pods", ref.Kind, ref.Name)
		case p == nil && !builtInGroup(ref):
			// A claim the operator cannot verify: a namespace admin may write it into their own
			// bare Pod, naming a kind nothing serves, which the garbage collector leaves alone.
			ctx.NotAssessed("", fmt.Sprintf("its controller %s %s %s is a custom resource, which is not read: whether it exists and recreates the pod cannot be verified",
				ref.APIVersion, ref.Kind, ref.Name))
		case p == nil || p.Owner != nil:
			ctx.Pass("")
		case !p.Creates || ctx.Inventory.Complete:
			ctx.Fail("", "nothing recreates the pod if its node fails: %s", p.Reason)
		default:
			// scan: the controller may simply not be among the manifests, or may not exist.
			ctx.NotAssessed("", p.Reason+": whether a controller recreates the pod cannot be told")
		}
	},
}

// builtInNonController reports whether a controller reference names a built-in kind that creates
// no pods: a kind of the core group or of another group without a dot (apps, batch, policy, ...;
// a CustomResourceDefinition's group must contain a dot, so all of them are built in) that is not
// a built-in controller of its own group (Inventory.Provenance takes those). A Node is judged
// before (judgeNodeController).
func builtInNonController(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && !strings.Contains(gv.Group, ".")
}

// isNodeRef reports whether a controller reference names a Node (core v1).
func isNodeRef(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == "" && ref.Kind == "Node"
}

// judgeNodeController judges a Pod whose controller is a Node. A Node controls only the mirror
// pods its kubelet creates for its static pods, and the NodeRestriction admission plugin lets a
// kubelet create no other pod: one annotated kubernetes.io/config.mirror, bound to that node, whose
// one owner reference is its own Node with the Node's UID (admitPodCreate, k8s.io/kubernetes
// v1.37.2 plugin/pkg/admission/noderestriction/admission.go; pkg/kubelet/pod/mirror_client.go
// sets them). Anyone may write such a reference into their own Pod: without the annotation, or
// bound elsewhere, no kubelet made it and nothing recreates it. With both, it is the kubelet's
// unless the UID is not its Node's, and then the garbage collector deletes it (the owner it names
// is absent). The operator passes it (it reads no Nodes: a tenant who knows a Node's UID could
// forge one that stays); a scan cannot tell whether a kubelet made it and says NotAssessed.
func judgeNodeController(ctx *engine.Context, o *engine.Object, ref *metav1.OwnerReference) {
	pod := o.Workload.Pod()
	notMirror := ""
	switch {
	case !pod.Mirror:
		notMirror = "no " + engine.MirrorPodAnnotation + " annotation"
	case pod.NodeName == "":
		notMirror = "bound to no node"
	case pod.NodeName != ref.Name:
		notMirror = fmt.Sprintf("bound to node %q, not to %s", pod.NodeName, ref.Name)
	}
	if notMirror != "" {
		ctx.Fail("", "nothing recreates the pod if its node fails: its controller Node %s creates only its kubelet's mirror pods, and this Pod is not one (%s)", ref.Name, notMirror)
		return
	}
	if !ctx.Inventory.Complete {
		ctx.NotAssessed("", fmt.Sprintf("its controller Node %s is not read in a scan: whether its kubelet created this mirror pod (with the Node's UID in the reference) cannot be told", ref.Name))
		return
	}
	ctx.Pass("")
}

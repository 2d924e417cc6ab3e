package checks

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// sharedNamespaces are the namespaces every cluster has, where application workloads do not
// belong.
var sharedNamespaces = map[string]string{
	"default":     "the default namespace",
	"kube-system": "the system namespace",
	"kube-public": "the public system namespace",
	// kube-node-lease holds the nodes' heartbeat Leases; it is one of the namespaces every
	// cluster starts with, and selection.SystemNamespaces counts it as a system namespace.
	"kube-node-lease": "the node lease namespace",
}

// kubeletMirrorPod reports whether o has the shape of a kubelet's mirror pod: a Pod annotated
// kubernetes.io/config.mirror, bound to the Node its controller reference names, as the
// NodeRestriction admission plugin requires of the mirror pods a kubelet creates (admitPodCreate,
// k8s.io/kubernetes v1.37.2 plugin/pkg/admission/noderestriction/admission.go). A kubelet runs
// no Pod so annotated that it did not make from its own files (it deletes it as an orphan:
// HandlePodCleanups, pkg/kubelet/kubelet_pods.go), so one that is not a static pod runs nothing.
func kubeletMirrorPod(o *engine.Object) bool {
	if o.Kind != "Pod" || o.Workload == nil || !o.Workload.Pod().Mirror {
		return false
	}
	ref := metav1.GetControllerOf(o.Obj)
	return ref != nil && isNodeRef(ref) && o.Workload.Pod().NodeName == ref.Name
}

var chgSystemNamespaces = &engine.Check{
	ID:    "chg-system-namespaces",
	Title: "Workloads do not run in the default or system namespaces",
	Description: "Workloads in default share it with whatever else lands there, outside any team's " +
		"RBAC, quotas and policies; workloads in kube-system (or kube-public, kube-node-lease) run " +
		"next to the control plane's own components and their privileges; a kubelet's static pod there (the mirror pod of " +
		"kubeadm's API server, say: annotated kubernetes.io/config.mirror and bound to the Node it names as controller) is " +
		"one of those components and NotApplicable. Dedicated namespaces keep access boundaries (CC6.1) and " +
		"owners of changes (CC8.1) clear. In a manifest without a namespace the target namespace is " +
		"chosen at deployment, so the check says NotAssessed, unless scan is told the namespace " +
		"(--namespace, as kubectl apply -n)." + supporting,
	Remediation: "Deploy the workload to a namespace of its own (or its team's), with its RBAC, quotas and network policies.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61, cc81},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ns := o.Namespace
		if o.NamespaceDefaulted || ns == "" {
			if !ctx.Inventory.Complete {
				ctx.NotAssessed("", "namespace not set in the manifest (give --namespace to judge it as deployed to that namespace)")
				return
			}
			ns = "default"
		}
		if ns == "kube-system" && kubeletMirrorPod(o) {
			ctx.NotApplicable("", "a kubelet's static pod (its mirror pod, bound to the Node it names as controller): "+
				"the node's own files place it in kube-system, where kubeadm runs the control plane, not a deployment through the API")
			return
		}
		if what, ok := sharedNamespaces[ns]; ok {
			ctx.Fail("", "runs in %s %q", what, ns)
			return
		}
		ctx.Pass("")
	},
}

package checks

import (
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

var chgSystemNamespaces = &engine.Check{
	ID:    "chg-system-namespaces",
	Title: "Workloads do not run in the default or system namespaces",
	Description: "Workloads in default share it with whatever else lands there, outside any team's " +
		"RBAC, quotas and policies; workloads in kube-system (or kube-public, kube-node-lease) run " +
		"next to the control plane's own components and their privileges. Dedicated namespaces keep access boundaries (CC6.1) and " +
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
		if what, ok := sharedNamespaces[ns]; ok {
			ctx.Fail("", "runs in %s %q", what, ns)
			return
		}
		ctx.Pass("")
	},
}

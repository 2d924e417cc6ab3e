package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostNetwork = &engine.Check{
	ID:    "wl-host-network",
	Title: "Pods do not use the host's network",
	Description: "A pod on the host network bypasses NetworkPolicies, can bind the node's ports and " +
		"can sniff its traffic, so it sits outside the network boundary (CC6.6). " +
		"Pod Security Standards control: Host Namespaces (baseline), for hostNetwork; wl-host-" +
		"namespaces judges hostPID and hostIPC." + pssDecided + supporting,
	Remediation: "Remove hostNetwork: true; expose the pod through a Service instead.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostNetwork)
	},
}

// pssHostNetwork decides wl-host-network: the Pod Security Standards control Host Namespaces
// (baseline), for hostNetwork; wl-host-namespaces judges hostPID and hostIPC.
var pssHostNetwork = &pssControl{checks: []policy.CheckID{"hostNamespaces"}, podLevel: true, project: onlyHostNetwork}

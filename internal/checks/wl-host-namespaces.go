package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostNamespaces = &engine.Check{
	ID:    "wl-host-namespaces",
	Title: "Pods do not share the host's process or IPC namespace",
	Description: "hostPID lets a pod see and signal every process on the node, including other " +
		"workloads' secrets in their environment; hostIPC lets it read their shared memory (CC6.1). " +
		"Pod Security Standards control: Host Namespaces (baseline), for hostPID and hostIPC; wl-" +
		"host-network judges hostNetwork." + pssDecided + supporting,
	Remediation: "Remove hostPID and hostIPC from the pod spec, or set them to false.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostNamespaces)
	},
}

// pssHostNamespaces decides wl-host-namespaces: the Pod Security Standards control Host Namespaces
// (baseline), for hostPID and hostIPC; wl-host-network judges hostNetwork.
var pssHostNamespaces = &pssControl{checks: []policy.CheckID{"hostNamespaces"}, podLevel: true, project: withoutHostNetwork}

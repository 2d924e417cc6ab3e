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
		"A Windows HostProcess container runs as processes of the node, in no server silo, and so shares " +
		"the node's processes and its object namespace (named pipes, shared memory), which Windows pods " +
		"cannot ask for with hostPID or hostIPC: it fails here too (and wl-windows-hostprocess). " +
		"Pod Security Standards controls: Host Namespaces (baseline), for hostPID and hostIPC (wl-" +
		"host-network judges hostNetwork), and HostProcess (baseline)." + pssDecided + supporting,
	Remediation: "Remove hostPID and hostIPC from the pod spec, or set them to false (on Windows, remove windowsOptions.hostProcess).",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostNamespaces)
	},
}

// pssHostNamespaces decides wl-host-namespaces: the Pod Security Standards controls Host Namespaces
// (baseline), for hostPID and hostIPC (wl-host-network judges hostNetwork), and HostProcess
// (baseline). A HostProcess container runs as processes of the node, in no server silo (KEP-1981),
// sharing the node's processes and object namespace, and a Windows pod cannot set hostPID or
// hostIPC (the API server refuses them): judged by those fields alone, every HostProcess pod passed.
var pssHostNamespaces = &pssControl{checks: []policy.CheckID{"hostNamespaces", "windowsHostProcess"}, podLevel: true, project: withoutHostNetwork}

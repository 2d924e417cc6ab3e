package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostNamespaces = &engine.Check{
	ID:    "wl-host-namespaces",
	Title: "Pods do not share the host's process or IPC namespace",
	Description: "hostPID lets a pod see and signal every process on the node, including other " +
		"workloads' secrets in their environment; hostIPC lets it read their shared memory (CC6.1)." + supporting,
	Remediation: "Remove hostPID and hostIPC from the pod spec, or set them to false.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		spec := o.Workload.PodSpec
		switch {
		case spec.HostPID && spec.HostIPC:
			ctx.Fail("", "pod shares the host's PID and IPC namespaces (hostPID, hostIPC)")
		case spec.HostPID:
			ctx.Fail("", "pod shares the host's PID namespace (hostPID: true)")
		case spec.HostIPC:
			ctx.Fail("", "pod shares the host's IPC namespace (hostIPC: true)")
		default:
			ctx.Pass("")
		}
	},
}

package checks

import (
	"slices"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacExecAttachPortforward = &engine.Check{
	ID:    "rbac-exec-attach-portforward",
	Title: "Roles do not grant exec, attach or port-forward into pods",
	Description: "pods/exec, pods/attach and pods/portforward run commands in, or open connections " +
		"to, running containers: their data, mounted Secrets and ServiceAccount tokens, bypassing " +
		"the application's own access controls (CC6.1). pods/proxy and services/proxy (any verb: " +
		"the API server forwards every HTTP method) send HTTP requests from the API server to any " +
		"port of the pods, NetworkPolicy notwithstanding, and count as port-forward. update or patch on " +
		"pods/ephemeralcontainers (kubectl debug) adds a container of the subject's choosing to a running pod, in " +
		"its network namespace, with its volumes and ServiceAccount token and, through targetContainerName, a " +
		"container's processes: exec by another name. So do get on a KubeVirt virtual machine's console, vnc, usbredir and " +
		"portforward subresources (subresources.kubevirt.io): a shell in the guest and connections to its ports." + supporting,
	Remediation: "Remove create and get on pods/exec, pods/attach and pods/portforward, update and patch on pods/ephemeralcontainers, and every verb on pods/proxy and services/proxy; grant them only to a break-glass role bound when needed.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can exec, attach or port-forward into pods", func(p *rolePerms) []string {
			grants := slices.Clone(p.exec)
			for _, d := range p.podDebug {
				if !slices.Contains(grants, d) { // a wildcard rule is named once
					grants = append(grants, d+": an ephemeral container runs in the pod")
				}
			}
			return grants
		})
	},
}

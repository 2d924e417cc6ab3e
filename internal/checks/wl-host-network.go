package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostNetwork = &engine.Check{
	ID:    "wl-host-network",
	Title: "Pods do not use the host's network",
	Description: "A pod on the host network bypasses NetworkPolicies, can bind the node's ports and " +
		"can sniff its traffic, so it sits outside the network boundary (CC6.6)." + supporting,
	Remediation: "Remove hostNetwork: true; expose the pod through a Service instead.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Workload.PodSpec.HostNetwork {
			ctx.Fail("", "pod uses the host's network namespace (hostNetwork: true)")
			return
		}
		ctx.Pass("")
	},
}

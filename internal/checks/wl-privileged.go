package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlPrivileged = &engine.Check{
	ID:    "wl-privileged",
	Title: "Containers do not run privileged",
	Description: "A privileged container has every capability and access to the host's devices: " +
		"it can take over the node and every workload on it. Logical access (CC6.1) and " +
		"protection against malicious software (CC6.8) both depend on it not being there." + supporting,
	Remediation: "Remove securityContext.privileged, or set it to false. Grant the specific capability the container needs instead.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			if isTrue(containerSC(c).Privileged) {
				return "container runs privileged (securityContext.privileged: true)"
			}
			return ""
		})
	},
}

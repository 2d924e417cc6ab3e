package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlProcmount = &engine.Check{
	ID:    "wl-procmount",
	Title: "Containers keep /proc masked",
	Description: "procMount: Unmasked exposes kernel interfaces under /proc that the runtime hides " +
		"by default, which helps a process escape the container (CC6.1)." + supporting,
	Remediation: "Remove securityContext.procMount, or set it to Default.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			if pm := containerSC(c).ProcMount; pm != nil && *pm != corev1.DefaultProcMount {
				return "procMount is " + string(*pm)
			}
			return ""
		})
	},
}

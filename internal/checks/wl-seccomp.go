package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlSeccomp = &engine.Check{
	ID:    "wl-seccomp",
	Title: "Containers run with a seccomp profile",
	Description: "Without a seccomp profile (RuntimeDefault or Localhost) a container can make any " +
		"system call, which widens the kernel attack surface malicious code can use (CC6.8)." + supporting,
	Remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or Localhost with a reviewed profile).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(o) {
			ctx.NotApplicable("", "Windows pods have no seccomp")
			return
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			p := effectiveSeccomp(o, c)
			switch {
			case p == nil:
				return "no seccomp profile is set (the runtime default may be Unconfined)"
			case p.Type == corev1.SeccompProfileTypeUnconfined:
				return "seccomp profile is Unconfined"
			}
			return ""
		})
	},
}

package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlRunAsRoot = &engine.Check{
	ID:    "wl-run-as-root",
	Title: "Containers run as a non-root user",
	Description: "A container running as UID 0 is root on the node if it escapes, and root inside " +
		"the container can rewrite its own binaries. Running as a non-root user limits what a " +
		"compromised process can reach (CC6.1)." + supporting,
	Remediation: "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser, and build the image with a non-root USER.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(o) {
			ctx.NotApplicable("", "Windows pods use runAsUserName, not runAsUser")
			return
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			user := effectiveRunAsUser(o, c)
			switch {
			case user != nil && *user == 0:
				return "runs as UID 0 (runAsUser: 0)"
			case user != nil && *user > 0:
				return ""
			case isTrue(effectiveRunAsNonRoot(o, c)):
				return ""
			}
			return "may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set"
		})
	},
}

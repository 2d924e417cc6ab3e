package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlRootGroup = &engine.Check{
	ID:    "wl-root-group",
	Title: "Containers do not run with the root group",
	Description: "GID 0 as the primary group, a supplementary group or the fsGroup gives the " +
		"process the root group's access to files on shared volumes and the node (CC6.1)." + supporting,
	Remediation: "Set runAsGroup and fsGroup to a non-zero GID and remove 0 from supplementalGroups.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(o) {
			ctx.NotApplicable("", "Windows pods have no Linux groups")
			return
		}
		psc := podSC(o)
		podProblem := ""
		if psc.FSGroup != nil && *psc.FSGroup == 0 {
			podProblem = "fsGroup is 0 (root)"
		}
		for _, g := range psc.SupplementalGroups {
			if g == 0 {
				podProblem = "supplementalGroups includes 0 (root)"
			}
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			switch g := effectiveRunAsGroup(o, c); {
			case g != nil && *g == 0:
				return "runs with GID 0 (runAsGroup: 0)"
			case g == nil && isZero(effectiveRunAsUser(o, c)):
				// The runtime takes the group of the user from the image's /etc/passwd (root's
				// is 0), or 0 when the image has none.
				return "runs with GID 0 (runAsUser: 0 without runAsGroup: root's group)"
			}
			return podProblem
		})
	},
}

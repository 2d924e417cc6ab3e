package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlDropAllCaps = &engine.Check{
	ID:    "wl-drop-all-caps",
	Title: "Containers drop all capabilities",
	Description: "The Pod Security Standards' restricted level drops ALL capabilities and adds back " +
		"at most NET_BIND_SERVICE, so a process keeps only the privileges it needs (CC6.1). " +
		"Capabilities in the profile's allowedCapabilities may also be added back." + supporting,
	Remediation: "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if the container binds a port below 1024.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(o) {
			ctx.NotApplicable("", "Windows pods have no Linux capabilities")
			return
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			caps := containerSC(c).Capabilities
			dropsAll := false
			var extra []string
			if caps != nil {
				for _, d := range caps.Drop {
					dropsAll = dropsAll || capName(d) == "ALL"
				}
				for _, a := range caps.Add {
					if n := capName(a); n != "NET_BIND_SERVICE" && !ctx.Params.AllowedCapabilities[n] {
						extra = append(extra, n)
					}
				}
			}
			switch {
			case !dropsAll:
				return "does not drop ALL capabilities"
			case len(extra) > 0:
				return fmt.Sprintf("drops ALL but adds back %s", few(extra, ", "))
			}
			return ""
		})
	},
}

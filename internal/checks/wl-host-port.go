package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostPort = &engine.Check{
	ID:    "wl-host-port",
	Title: "Containers do not bind host ports",
	Description: "A hostPort opens a port on every node the pod lands on, outside Services and " +
		"NetworkPolicies (CC6.6). Ports the profile allows (parameters.allowedHostPorts) pass." + supporting,
	Remediation: "Remove hostPort and expose the container through a Service, or add the port to the profile's allowedHostPorts.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			for _, p := range c.Ports {
				if p.HostPort != 0 && !ctx.Params.AllowedHostPorts[p.HostPort] {
					return fmt.Sprintf("binds host port %d", p.HostPort)
				}
			}
			return ""
		})
	},
}

package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostPort = &engine.Check{
	ID:    "wl-host-port",
	Title: "Containers do not bind host ports",
	Description: "A hostPort opens a port on every node the pod lands on, outside Services and " +
		"NetworkPolicies (CC6.6). Ports the profile allows (parameters.allowedHostPorts) pass. " +
		"Pod Security Standards control: Host Ports (baseline); the ports in " +
		"parameters.allowedHostPorts are exempt, beyond the standard." + pssDecided + supporting,
	Remediation: "Remove hostPort and expose the container through a Service, or add the port to the profile's allowedHostPorts.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostPort)
	},
}

// pssHostPort decides wl-host-port: the Pod Security Standards control Host Ports (baseline); the
// ports in parameters.allowedHostPorts are exempt, beyond the standard.
var pssHostPort = &pssControl{checks: []policy.CheckID{"hostPorts"}, project: withoutAllowedHostPorts}

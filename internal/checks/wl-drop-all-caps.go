package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlDropAllCaps = &engine.Check{
	ID:    "wl-drop-all-caps",
	Title: "Containers drop all capabilities",
	Description: "The Pod Security Standards' restricted level drops ALL capabilities and adds back " +
		"at most NET_BIND_SERVICE, so a process keeps only the privileges it needs (CC6.1). " +
		"Capabilities in the profile's allowedCapabilities may also be added back. " +
		"Pod Security Standards control: Capabilities (restricted); the capabilities in " +
		"parameters.allowedCapabilities are exempt, beyond the standard. A privileged container fails " +
		"whatever it drops: the runtime grants it every capability." +
		windowsNotApplicable(capabilitiesFacility) + pssDecided + supporting,
	Remediation: "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if the container binds a port below 1024.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssDropAllCaps)
	},
}

// pssDropAllCaps decides wl-drop-all-caps: the Pod Security Standards control Capabilities
// (restricted); the capabilities in parameters.allowedCapabilities are exempt, beyond the
// standard.
var pssDropAllCaps = &pssControl{checks: []policy.CheckID{"capabilities_restricted"}, project: withoutAllowedCapabilities, linuxOnly: capabilitiesFacility,
	privileged: privilegedHasEveryCapability}

// capabilitiesFacility is the Linux facility pssDropAllCaps governs, which Windows pods do not have.
const capabilitiesFacility = "Linux capabilities"

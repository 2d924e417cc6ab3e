package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlUnsafeSysctls = &engine.Check{
	ID:    "wl-unsafe-sysctls",
	Title: "Pods set only safe sysctls",
	Description: "Sysctls outside the safe, namespaced set change kernel behaviour for the whole " +
		"node, beyond the pod's own boundary (CC6.1). " +
		"Pod Security Standards control: Sysctls (baseline)." +
		windowsNotApplicable(sysctlFacility) + pssDecided + supporting,
	Remediation: "Remove the unsafe sysctls from securityContext.sysctls; tune the node instead if it is really needed.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssUnsafeSysctls)
	},
}

// pssUnsafeSysctls decides wl-unsafe-sysctls: the Pod Security Standards control Sysctls
// (baseline).
var pssUnsafeSysctls = &pssControl{checks: []policy.CheckID{"sysctls"}, podLevel: true, linuxOnly: sysctlFacility}

// sysctlFacility is the Linux facility pssUnsafeSysctls governs, which Windows pods do not have.
const sysctlFacility = "Linux sysctls"

package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlWindowsHostprocess = &engine.Check{
	ID:    "wl-windows-hostprocess",
	Title: "Windows containers do not run as host processes",
	Description: "A Windows HostProcess container runs directly on the node with host access, the " +
		"Windows equivalent of a privileged container (CC6.1). " +
		"Pod Security Standards control: HostProcess (baseline)." + pssDecided + supporting,
	Remediation: "Remove windowsOptions.hostProcess: true.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssWindowsHostprocess)
	},
}

// pssWindowsHostprocess decides wl-windows-hostprocess: the Pod Security Standards control
// HostProcess (baseline).
var pssWindowsHostprocess = &pssControl{checks: []policy.CheckID{"windowsHostProcess"}}

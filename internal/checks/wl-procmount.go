package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlProcmount = &engine.Check{
	ID:    "wl-procmount",
	Title: "Containers keep /proc masked",
	Description: "procMount: Unmasked exposes kernel interfaces under /proc that the runtime hides " +
		"by default, which helps a process escape the container (CC6.1). " +
		"Pod Security Standards control: /proc Mount Type (baseline; restricted since v1.35)." +
		windowsNotApplicable(procMountFacility) + pssDecided + supporting,
	Remediation: "Remove securityContext.procMount, or set it to Default.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssProcmount)
	},
}

// pssProcmount decides wl-procmount: the Pod Security Standards control /proc Mount Type
// (baseline; restricted since v1.35).
var pssProcmount = &pssControl{checks: []policy.CheckID{"procMount", "procMount_restricted"}, linuxOnly: procMountFacility}

// procMountFacility is the Linux facility pssProcmount governs, which Windows pods do not have.
const procMountFacility = "/proc mount types (procMount)"

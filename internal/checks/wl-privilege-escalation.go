package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlPrivilegeEscalation = &engine.Check{
	ID:    "wl-privilege-escalation",
	Title: "Containers cannot gain more privileges than their parent process",
	Description: "Unless allowPrivilegeEscalation is false, a process can gain privileges through " +
		"setuid binaries or file capabilities, defeating least privilege (CC6.1). " +
		"Pod Security Standards control: Privilege Escalation (restricted)." +
		windowsNotApplicable(noNewPrivsFacility) + pssDecided + supporting,
	Remediation: "Set securityContext.allowPrivilegeEscalation: false on every container.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssPrivilegeEscalation)
	},
}

// pssPrivilegeEscalation decides wl-privilege-escalation: the Pod Security Standards control
// Privilege Escalation (restricted).
var pssPrivilegeEscalation = &pssControl{checks: []policy.CheckID{"allowPrivilegeEscalation"}, linuxOnly: noNewPrivsFacility}

// noNewPrivsFacility is the Linux facility pssPrivilegeEscalation governs, which Windows pods do not have.
const noNewPrivsFacility = "no_new_privs flag (allowPrivilegeEscalation)"

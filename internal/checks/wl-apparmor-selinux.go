package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlApparmorSelinux = &engine.Check{
	ID:    "wl-apparmor-selinux",
	Title: "Containers keep their AppArmor and SELinux confinement",
	Description: "An Unconfined AppArmor profile, or a custom SELinux user, role or type, removes " +
		"the mandatory access control that contains a compromised container (CC6.8). " +
		"Pod Security Standards control: AppArmor and SELinux (baseline)." +
		windowsNotApplicable(macFacility) + pssDecided + supporting,
	Remediation: "Remove AppArmor Unconfined settings and custom seLinuxOptions user, role and type.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssApparmorSelinux)
	},
}

// pssApparmorSelinux decides wl-apparmor-selinux: the Pod Security Standards control AppArmor and
// SELinux (baseline).
var pssApparmorSelinux = &pssControl{checks: []policy.CheckID{"appArmorProfile", "seLinuxOptions"}, linuxOnly: macFacility}

// macFacility is the Linux facility pssApparmorSelinux governs, which Windows pods do not have.
const macFacility = "AppArmor or SELinux"

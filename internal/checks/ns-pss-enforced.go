package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

const pssEnforceLabel = "pod-security.kubernetes.io/enforce"

var nsPssEnforced = &engine.Check{
	ID:    "ns-pss-enforced",
	Title: "Namespaces enforce a Pod Security Standard",
	Description: "Pod Security Admission at baseline or restricted stops privileged pods from being " +
		"admitted at all, a preventive control (CC6.8) applied to every change (CC8.1)." + supporting,
	Remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68, cc81},
	Targets:     []string{"Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch level := o.Labels()[pssEnforceLabel]; level {
		case "baseline", "restricted":
			ctx.Pass("")
		case "":
			ctx.Fail("", "no %s label: Pod Security Admission does not enforce any level", pssEnforceLabel)
		default:
			ctx.Fail("", "%s is %q; want baseline or restricted", pssEnforceLabel, level)
		}
	},
}

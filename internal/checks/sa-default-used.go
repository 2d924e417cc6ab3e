package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saDefaultUsed = &engine.Check{
	ID:    "sa-default-used",
	Title: "Workloads run under their own ServiceAccount",
	Description: "A pod that names no ServiceAccount runs as the namespace's default one, which it " +
		"shares with every other such pod: permissions cannot be granted to one workload alone " +
		"and access cannot be traced to it. A dedicated ServiceAccount per workload supports " +
		"logical access (CC6.1) and least-privilege authorisation (CC6.3)." + supporting,
	Remediation: "Create a ServiceAccount for the workload and set serviceAccountName in its pod spec.",
	Severity:    low,
	Criteria:    []v1alpha1.Criterion{cc61, cc63},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Workload.Pod().Mirror {
			ctx.NotApplicable("", "a mirror pod (a kubelet's static pod) runs as no ServiceAccount: the API server refuses one that names any")
			return
		}
		if podServiceAccount(o) == "default" {
			ctx.Fail("", "the pod runs as the namespace's default ServiceAccount (serviceAccountName is empty or \"default\")")
			return
		}
		ctx.Pass("")
	},
}

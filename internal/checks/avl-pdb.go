package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPdb = &engine.Check{
	ID:    "avl-pdb",
	Title: "Deployments and StatefulSets are covered by a PodDisruptionBudget",
	Description: "Without a PodDisruptionBudget, a node drain or a cluster upgrade may evict every replica " +
		"of a workload at once, and the service goes down during routine maintenance (A1.2). The check " +
		"looks for a budget in the workload's namespace whose selector selects its pod template's " +
		"labels; in a scan the budget must be among the manifests, since they are what ships." + supporting,
	Remediation: "Add a PodDisruptionBudget (policy/v1) in the same namespace whose selector matches the pod " +
		"template's labels, with maxUnavailable: 1 or a minAvailable below the replica count.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"PodDisruptionBudget"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if len(budgetsSelecting(ctx.Inventory, o.Namespace, podLabels(o))) > 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "no PodDisruptionBudget selects its pods")
	},
}

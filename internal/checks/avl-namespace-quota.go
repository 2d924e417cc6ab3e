package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlNamespaceQuota = &engine.Check{
	ID:    "avl-namespace-quota",
	Title: "Namespaces bound resource use with a ResourceQuota or LimitRange",
	Description: "Without a ResourceQuota or a LimitRange one namespace can claim the cluster's capacity " +
		"(a runaway scale-up, pods without requests) and starve every other team's workloads (A1.1). " +
		"In a scan the quota or limit range must be among the manifests, since they are what ships." + supporting,
	Remediation: "Add a ResourceQuota for requests.cpu, requests.memory and limits.memory sized for the " +
		"namespace, and a LimitRange with default requests and limits for containers that declare none.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  []string{"Namespace"},
	Reads:    []string{"ResourceQuota", "LimitRange"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if len(ctx.Inventory.List(o.Name, "ResourceQuota"))+len(ctx.Inventory.List(o.Name, "LimitRange")) > 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "neither a ResourceQuota nor a LimitRange bounds resource use in the namespace")
	},
}

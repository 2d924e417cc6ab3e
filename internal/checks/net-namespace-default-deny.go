package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netNamespaceDefaultDeny = &engine.Check{
	ID:    "net-namespace-default-deny",
	Title: "Namespaces deny ingress by default",
	Description: "A default-deny ingress NetworkPolicy (an empty podSelector, policy type Ingress, no " +
		"ingress rules) makes every pod of the namespace unreachable unless another policy allows the " +
		"traffic, so a new workload starts closed instead of open (CC6.6, CIS 5.3.2)." + supporting,
	Remediation: "Add a NetworkPolicy to the namespace with podSelector: {}, policyTypes: [Ingress] and no ingress rules, " +
		"then allow the traffic each workload needs with further policies.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  []string{"Namespace"},
	Reads:    []string{"NetworkPolicy"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		policies := networkPoliciesIn(ctx.Inventory, o.Name)
		if len(policies) == 0 {
			ctx.Fail("", "namespace has no NetworkPolicy at all: every pod accepts traffic from anywhere in the cluster")
			return
		}
		for _, p := range policies {
			if isDefaultDenyIngress(p.policy) {
				ctx.Pass("")
				return
			}
		}
		ctx.Fail("", "namespace has %s but none denies ingress by default (empty podSelector, policyTypes Ingress, no ingress rules)",
			pluralPolicies(len(policies)))
	},
}

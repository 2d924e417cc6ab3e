package checks

import (
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netNamespaceDefaultDeny = &engine.Check{
	ID:    "net-namespace-default-deny",
	Title: "Namespaces deny ingress by default",
	Description: "A default-deny ingress NetworkPolicy (an empty podSelector, policy type Ingress, no " +
		"ingress rules) makes every pod of the namespace unreachable unless another policy allows the " +
		"traffic, so a new workload starts closed instead of open (CC6.6, CIS 5.3.2). Policies add up: " +
		"one that selects every pod (podSelector {}, or one made only of exclusions, DoesNotExist or " +
		"NotIn, which selects every pod that does not opt out) and admits every source (no from, " +
		"peers that together select every pod of every namespace, or ipBlocks that add up to every " +
		"address) on every port (no ports, or ports that cover every TCP port) undoes the deny, as do several that do " +
		"so together; policies with too many rules, ports and addresses to judge (tens of " +
		"thousands) leave the namespace NotAssessed." + supporting,
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
		if !slices.ContainsFunc(policies, func(p namespacePolicy) bool { return isDefaultDenyIngress(p.policy) }) {
			ctx.Fail("", "namespace has %s but none denies ingress by default (empty podSelector, policyTypes Ingress, no ingress rules)",
				pluralPolicies(len(policies)))
			return
		}
		// A podSelector made only of exclusions selects every pod that does not opt out, as a new
		// workload does not.
		var governing []namespacePolicy
		for _, p := range policies {
			if p.selector.Matches(labels.Set{}) && governsIngress(p.policy) {
				governing = append(governing, p)
			}
		}
		single, why, together, judged := openIngressOf(ctx.Inventory, o.Name, governing)
		switch {
		case single != nil:
			selects := "every pod"
			if !selectsAll(&single.policy.Spec.PodSelector) {
				selects = "every pod without the labels its podSelector excludes"
			}
			ctx.Fail("", "NetworkPolicy %q selects %s and admits ingress from anywhere (%s): it undoes the default deny", single.obj.Name, selects, why)
			return
		case together != nil:
			ctx.Fail("", "NetworkPolicies %s select every pod and together admit ingress from anywhere (for every TCP port, rules that admit every source): they undo the default deny",
				quoteList(policyNames(together)))
			return
		}
		if !judged {
			ctx.NotAssessed("", "the NetworkPolicies that select every pod have too many ingress rules, ports and addresses to judge whether they undo the default deny")
			return
		}
		ctx.Pass("")
	},
}

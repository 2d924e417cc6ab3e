package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacWildcards = &engine.Check{
	ID:    "rbac-wildcards",
	Title: "Roles do not grant wildcard access",
	Description: "A \"*\" in a rule's verbs, resources, apiGroups (named resources in every API group) or nonResourceURLs grants everything that matches today and " +
		"whatever the API server or a CRD adds tomorrow, so nobody reviewed what the role allows. " +
		"Roles that list their verbs and resources support least-privilege authorisation (CC6.3)." + supporting,
	Remediation: "Replace \"*\" with the verbs, resources and API groups the role needs.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc63},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "wildcard rules", func(p *rolePerms) []string { return p.wildcards })
	},
}

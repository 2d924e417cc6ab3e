package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacSecretRead = &engine.Check{
	ID:    "rbac-secret-read",
	Title: "Roles do not grant read access to all Secrets",
	Description: "get, list, watch, patch (whose response is the stored object), delete (whose response, " +
		"dry-run and with propagationPolicy Orphan, is the stored object, which stays) or deletecollection " +
		"(whose response lists the deleted objects) on secrets reveals every " +
		"credential, key and token in scope, " +
		"ServiceAccount tokens included. Restricting who can read Secrets protects keys and data " +
		"(CC6.1) and credentials in movement (CC6.7). A rule limited by resourceNames to the " +
		"Secrets a workload needs is least privilege and passes." + supporting,
	Remediation: "Remove get, list, watch, patch, delete and deletecollection on secrets, or limit the rule with resourceNames to the Secrets the subject needs; mount Secrets into pods instead of reading them through the API.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61, cc67},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "reads Secrets", func(p *rolePerms) []string { return p.secretRead })
	},
}

package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacPrivilegeEscalation = &engine.Check{
	ID:    "rbac-privilege-escalation",
	Title: "Roles do not grant ways around RBAC",
	Description: "bind and escalate let a subject grant permissions it does not hold, impersonate, and " +
		"constrained impersonation's impersonate:user-info, impersonate:serviceaccount, " +
		"impersonate:arbitrary-node and impersonate:associated-node, let it act as another user, group, " +
		"ServiceAccount or node, and writing Roles, ClusterRoles or their " +
		"bindings lets it change who may do what. So does creating or changing what a GitOps controller " +
		"applies with its own identity (cluster-admin in its install) unless the object names a ServiceAccount to " +
		"act as, which may then be any of the namespace's: Flux's kustomizations and helmreleases, and Argo CD's " +
		"applications, applicationsets and appprojects. Each defeats logical access security (CC6.1) and " +
		"role-based authorisation (CC6.3). Rules limited by resourceNames still count: one named " +
		"role, identity or GitOps object is enough." + supporting,
	Remediation: "Remove bind, escalate, impersonate and the impersonate:<mode> verbs, and create, update and patch on roles, clusterroles, rolebindings and clusterrolebindings, and on Flux's and Argo CD's objects; leave RBAC and GitOps changes to the platform's deployment pipeline.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc63},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can escalate privileges", func(p *rolePerms) []string { return p.escalation })
	},
}

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
		"bindings lets it change who may do what. So does creating or changing the objects that a GitOps, " +
		"event or operator-install controller acts on with its own identity (cluster-admin in its install) or with a " +
		"ServiceAccount the object names, any of the namespace's: Flux's kustomizations and helmreleases (and " +
		"update or patch on the sources they read), Argo CD's applications, applicationsets and appprojects, Argo " +
		"Events' sensors, Tekton Triggers' eventlisteners and triggers, OLM's subscriptions, clusterserviceversions, " +
		"catalogsources, operatorgroups and clusterextensions, k3s' helmcharts, and Crossplane's providers and " +
		"configurations (and update or patch on the runtime configs they use). Each defeats logical access security (CC6.1) and " +
		"role-based authorisation (CC6.3). Rules limited by resourceNames still count: one named " +
		"role, identity or GitOps object is enough." + supporting,
	Remediation: "Remove bind, escalate, impersonate and the impersonate:<mode> verbs, and create, update and patch on roles, clusterroles, rolebindings and clusterrolebindings, and on those GitOps, event and operator-install objects; leave RBAC, GitOps and operator installs to the platform's deployment pipeline.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc63},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can escalate privileges", func(p *rolePerms) []string { return p.escalation })
	},
}

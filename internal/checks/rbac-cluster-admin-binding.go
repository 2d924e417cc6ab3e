package checks

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacClusterAdminBinding = &engine.Check{
	ID:    "rbac-cluster-admin-binding",
	Title: "Nobody outside the platform is bound to cluster-admin",
	Description: "cluster-admin, or any role that grants every verb on every resource, gives its " +
		"holders unrestricted control: over the whole cluster through a ClusterRoleBinding, over " +
		"a namespace and its Secrets through a RoleBinding. Binding it to users, groups or " +
		"ServiceAccounts defeats logical access security (CC6.1) and least privilege (CC6.3). " +
		"Group system:masters, which bypasses authorisation, gains nothing from it and is not judged here " +
		"(rbac-system-groups judges a binding to it), and neither are Kubernetes' own bindings as its bootstrap " +
		"policy creates them (cluster-admin to system:masters); a user added to one of those is judged. Any other " +
		"subject is, a system: name included: Group system:nodes is every kubelet (one compromised node would " +
		"become cluster admin, past the NodeRestriction admission plugin), Group system:bootstrappers everyone " +
		"holding a node bootstrap token, User system:kube-proxy a credential on every node." + bindingInFilesNote + supporting,
	Remediation: "Bind a role that grants only what the subject needs (edit, view or a custom role); keep cluster-admin for break-glass access outside everyday bindings.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc63},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeBinding(ctx, o, func(role boundRole, subjects []rbacv1.Subject) string {
			if !role.perms.clusterAdmin {
				return ""
			}
			var people []rbacv1.Subject
			for _, s := range subjects {
				if !holdsEveryPermission(s) {
					people = append(people, s)
				}
			}
			if len(people) == 0 {
				return ""
			}
			return fmt.Sprintf("binds %s, which grants every verb on every resource, %s to %s",
				role.ref, bindingScope(o), describeSubjects(o, people))
		})
	},
}

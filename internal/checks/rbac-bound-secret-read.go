package checks

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacBoundSecretRead = &engine.Check{
	ID:    "rbac-bound-secret-read",
	Title: "Nobody is bound to a role that reads all Secrets",
	Description: "Names who actually holds read access to Secrets: the subjects of bindings whose " +
		"role grants get, list, watch, patch, delete or deletecollection on secrets (the built-in admin and edit roles included). " +
		"Knowing and limiting who can read credentials supports the protection of keys and data " +
		"(CC6.1, CC6.7)." + bindingInFilesNote + supporting,
	Remediation: "Bind a role without read access to secrets (view, or a custom role), or limit the role's rule with resourceNames.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61, cc67},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeBinding(ctx, o, func(role boundRole, subjects []rbacv1.Subject) string {
			if len(role.perms.secretRead) == 0 {
				return ""
			}
			return fmt.Sprintf("%s can read Secrets %s through %s (%s)", describeSubjects(o, subjects),
				bindingScope(o), role.ref, few(role.perms.secretRead, "; "))
		})
	},
}

package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacDanglingBinding = &engine.Check{
	ID:    "rbac-dangling-binding",
	Title: "Bindings refer to roles that exist",
	Description: "A binding whose role does not exist grants nothing today, but whoever creates a " +
		"role of that name later grants its rules to the binding's subjects without anyone " +
		"reviewing the binding again. Removing latent grants supports least-privilege " +
		"authorisation (CC6.3). A binding the API server rejects (a ClusterRoleBinding that refers to a Role, a roleRef " +
		"apiGroup other than rbac.authorization.k8s.io, in scan a name, label or annotation it refuses, " +
		"a ServiceAccount subject of a ClusterRoleBinding without namespace, a subject kind other than User, Group " +
		"or ServiceAccount) is never created and fails here with the API server's reason; the other binding checks " +
		"do not judge it, as it grants nothing. In a scan, a RoleBinding on a ClusterRole of the files that is not Kubernetes' own is NotAssessed: " +
		"only cluster administrators create ClusterRoles, so the files' copy need not exist in the cluster." + supporting,
	Remediation: "Delete the binding, or create the role it refers to, or correct roleRef or the subject the API server rejects.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc63},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if why := refusedBinding(ctx.Inventory, o); why != "" {
			ctx.Fail("", "%s: the API server rejects the binding, which grants nothing", why)
			return
		}
		ref, _, ok := userBinding(ctx, o)
		if !ok {
			return
		}
		// The latent grant is every subject's, those Kubernetes' bootstrap policy gives one of
		// its own bindings too.
		_, subjects, _ := bindingOf(o)
		role := resolveRoleRef(ctx.Inventory, o, ref)
		where := ""
		if ref.Kind == "Role" {
			where = fmt.Sprintf(" in namespace %q", o.Namespace)
		}
		switch {
		case role.obj != nil && !ctx.Inventory.Complete && o.Kind == "RoleBinding" && ref.Kind == "ClusterRole" && !role.builtin:
			// A cluster without it leaves the binding dangling (clusterRoleInFiles).
			ctx.NotAssessed("", fmt.Sprintf("%s %s", role.ref, clusterRoleInFiles))
		case role.obj != nil:
			ctx.Pass("")
		case ctx.Inventory.Complete && len(subjects) == 0:
			ctx.Fail("", "%s does not exist%s", role.ref, where)
		case ctx.Inventory.Complete:
			ctx.Fail("", "%s does not exist%s: creating it would grant its rules to %s", role.ref, where, describeSubjects(o, subjects))
		case role.builtin:
			ctx.Pass("")
		default:
			ctx.NotAssessed("", roleNotInInput(ctx.Inventory, o, ref, role.ref))
		}
	},
}

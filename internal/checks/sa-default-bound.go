package checks

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saDefaultBound = &engine.Check{
	ID:    "sa-default-bound",
	Title: "No permissions are granted to default ServiceAccounts",
	Description: "Every pod that names no ServiceAccount runs as its namespace's default one, so a " +
		"role bound to a default ServiceAccount (directly, or through a group every ServiceAccount " +
		"is in: system:serviceaccounts, system:serviceaccounts:<namespace>, system:authenticated) " +
		"reaches every such pod, present and future. Kubernetes' own bindings are not judged, nor, where " +
		"someone added subjects to one, the subjects its bootstrap policy gives it (system:serviceaccounts " +
		"on system:service-account-issuer-discovery) unless rules were added to its role, which they hold. Granting permissions only to " +
		"dedicated ServiceAccounts supports least-privilege authorisation (CC6.3)." + supporting,
	Remediation: "Bind the role to a ServiceAccount created for the workload that needs it, and have that workload set serviceAccountName.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc63},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ref, subjects, ok := userBinding(ctx, o)
		if !ok {
			return
		}
		// The policy's own subjects (system:serviceaccounts on
		// system:service-account-issuer-discovery) hold the rules someone added to its role.
		judgeSubjects(ctx, o, ref, subjects, func(o *engine.Object, s rbacv1.Subject) string {
			if reachesDefaultServiceAccount(s) {
				return describeSubject(o, s)
			}
			return ""
		}, ", which reaches default ServiceAccounts")
	},
}

// reachesDefaultServiceAccount reports whether a subject is, or includes, a ServiceAccount
// named "default": the ServiceAccount itself, its user name, or a group its token
// authenticates in (all ServiceAccounts of a namespace or of the cluster, all authenticated
// users).
func reachesDefaultServiceAccount(s rbacv1.Subject) bool {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		return s.Name == "default"
	case rbacv1.UserKind:
		parts := strings.Split(s.Name, ":")
		return len(parts) == 4 && parts[0] == "system" && parts[1] == "serviceaccount" && parts[3] == "default"
	case rbacv1.GroupKind:
		return s.Name == "system:serviceaccounts" || strings.HasPrefix(s.Name, "system:serviceaccounts:") ||
			s.Name == "system:authenticated"
	}
	return false
}

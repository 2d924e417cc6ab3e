package checks

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// systemGroups are the built-in users and groups that stand for everybody, or for holders of
// unrestricted access, by subject kind and name, with who they are. The kind matters: the RBAC
// authoriser compares a User subject's name with the user's name and a Group subject's with the
// user's groups, and the anonymous request is User system:anonymous in Group
// system:unauthenticated (k8s.io/apiserver pkg/authentication/request/anonymous): no request
// is in a Group system:anonymous, and a User system:masters is one user of that name.
var systemGroups = map[rbacv1.Subject]string{
	{Kind: rbacv1.UserKind, Name: "system:anonymous"}:        "every unauthenticated request",
	{Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}: "every unauthenticated request",
	{Kind: rbacv1.GroupKind, Name: "system:authenticated"}:   "every authenticated user and ServiceAccount",
	{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts"}: "every ServiceAccount of the cluster, so every pod of every namespace",
	{Kind: rbacv1.GroupKind, Name: "system:masters"}:         "a group that bypasses authorisation",
}

var rbacSystemGroups = &engine.Check{
	ID:    "rbac-system-groups",
	Title: "Bindings do not grant permissions to everybody",
	Description: "User system:anonymous and Group system:unauthenticated are every request without credentials, " +
		"Group system:authenticated is every user and ServiceAccount of the cluster, Group system:serviceaccounts " +
		"every ServiceAccount of the cluster (every pod of every namespace), and Group system:masters " +
		"bypasses RBAC entirely (a subject of the other kind with one of these names is no one, or one user). A binding to one of them grants its role far beyond any " +
		"need-to-have (CC6.1), to callers from outside the system too (CC6.6). Kubernetes' own " +
		"bindings, as its bootstrap policy creates them, are not judged; a binding's name (system:...) or " +
		"its kubernetes.io/bootstrapping label does not make it Kubernetes' own. Of one with subjects added, " +
		"the added ones are judged, not those the policy gives it (system:authenticated on system:basic-user); " +
		"of one whose role has rules added to it, those the policy gives it are judged for the added rules, " +
		"which they hold (a rule added to system:public-info-viewer is every anonymous request's)." + supporting,
	Remediation: "Bind the role to the named users, groups or ServiceAccounts that need it.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc66},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ref, subjects, ok := userBinding(ctx, o)
		if !ok {
			return
		}
		// The policy's own subjects (system:public-info-viewer's everybody) hold the rules
		// someone added to its role.
		judgeSubjects(ctx, o, ref, subjects, func(o *engine.Object, s rbacv1.Subject) string {
			if who, bad := systemGroups[rbacv1.Subject{Kind: s.Kind, Name: s.Name}]; bad {
				return fmt.Sprintf("%s (%s)", describeSubject(o, s), who)
			}
			return ""
		}, "")
	},
}

package checks

import (
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacBoundExec = &engine.Check{
	ID:    "rbac-bound-exec",
	Title: "Nobody is bound to a role that can exec into pods",
	Description: "Names who actually holds exec, attach, port-forward or proxy access to pods: the subjects " +
		"of bindings whose role grants it (the built-in admin and edit roles included), or update or patch on " +
		"pods/ephemeralcontainers, which adds a container of the subject's choosing to a running pod " +
		"(kubectl debug), in its network namespace, with its volumes and ServiceAccount token; and of " +
		"ClusterRoleBindings whose role grants get or create on nodes/proxy, which the kubelet " +
		"checks for its own exec, attach and port-forward (a RoleBinding grants no node). Knowing " +
		"and limiting who can reach into running containers supports logical access security " +
		"(CC6.1)." + bindingInFilesNote + supporting,
	Remediation: "Bind a role without pods/exec, pods/attach, pods/portforward, pods/proxy, services/proxy and pods/ephemeralcontainers (view, or a custom role), and cluster-wide without nodes/proxy (nodes/metrics and nodes/stats serve metrics); grant them through a break-glass binding when needed.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     []string{"RoleBinding", "ClusterRoleBinding"},
	Reads:       []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeBinding(ctx, o, func(role boundRole, subjects []rbacv1.Subject) string {
			grants := slices.Clone(role.perms.exec)
			for _, d := range role.perms.podDebug {
				if !slices.Contains(grants, d) { // a wildcard rule is named once
					grants = append(grants, d+": an ephemeral container runs in the pod")
				}
			}
			if o.Kind == "ClusterRoleBinding" {
				for _, d := range role.perms.nodeExec {
					if !slices.Contains(grants, d) { // a wildcard rule is named once
						grants = append(grants, d+": the kubelet's exec, attach and port-forward")
					}
				}
			}
			if len(grants) == 0 {
				return ""
			}
			return fmt.Sprintf("%s can exec, attach or port-forward into pods %s through %s (%s)", describeSubjects(o, subjects),
				bindingScope(o), role.ref, few(grants, "; "))
		})
	},
}

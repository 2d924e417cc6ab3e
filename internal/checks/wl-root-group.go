package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlRootGroup = &engine.Check{
	ID:    "wl-root-group",
	Title: "Containers do not run with the root group",
	Description: "GID 0 as the primary group, a supplementary group or the fsGroup gives the " +
		"process the root group's access to files on shared volumes and the node (CC6.1). Without " +
		"runAsGroup the primary group is the image's (GID 0 for a user the image's /etc/passwd does " +
		"not list), which the spec cannot tell: NotAssessed. So are the supplementary groups unless " +
		"supplementalGroupsPolicy is Strict: the default, Merge, adds every group the image's " +
		"/etc/group lists the user in, GID 0 included: NotAssessed." + supporting,
	Remediation: "Set runAsGroup and fsGroup to a non-zero GID, remove 0 from supplementalGroups, and set " +
		"the pod's securityContext.supplementalGroupsPolicy to Strict so the image's /etc/group adds no groups.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc61},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(ctx, o) {
			ctx.NotApplicable("", "Windows pods have no Linux groups")
			return
		}
		psc := podSC(o)
		podProblem := ""
		if psc.FSGroup != nil && *psc.FSGroup == 0 {
			podProblem = "fsGroup is 0 (root)"
		}
		for _, g := range psc.SupplementalGroups {
			if g == 0 {
				podProblem = "supplementalGroups includes 0 (root)"
			}
		}
		strictGroups := psc.SupplementalGroupsPolicy != nil && *psc.SupplementalGroupsPolicy == corev1.SupplementalGroupsPolicyStrict
		for _, c := range o.Workload.Containers() {
			g, uid := effectiveRunAsGroup(o, c), effectiveRunAsUser(o, c)
			switch {
			case g != nil && *g == 0:
				ctx.Fail(c.Name, "runs with GID 0 (runAsGroup: 0)")
			case g == nil && isZero(uid):
				// The runtime takes the group of the user from the image's /etc/passwd (root's
				// is 0), or 0 when the image has none.
				ctx.Fail(c.Name, "runs with GID 0 (runAsUser: 0 without runAsGroup: root's group)")
			case podProblem != "":
				ctx.Fail(c.Name, "%s", podProblem)
			case g == nil:
				// The runtime takes the primary group from the image: the group of the image's
				// USER, or of runAsUser in the image's /etc/passwd, and GID 0 when the image has
				// no entry for it (containerd pkg/oci WithUserID, runc alike).
				ctx.NotAssessed(c.Name, "runAsGroup is not set: the primary group is the image's, which is GID 0 "+
					"when the image runs as root or has no /etc/passwd entry for the user")
			case !strictGroups:
				// Merge adds the groups the image's /etc/group lists the user in (containerd
				// pkg/oci WithAdditionalGIDs), which the spec cannot tell.
				ctx.NotAssessed(c.Name, "supplementalGroupsPolicy is not Strict: the runtime adds the groups the image's "+
					"/etc/group gives the user, which may include GID 0")
			default:
				ctx.Pass(c.Name)
			}
		}
		if len(o.Workload.Containers()) == 0 {
			ctx.NotApplicable("", "the pod spec has no containers")
		}
	},
}

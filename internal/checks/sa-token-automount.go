package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saTokenAutomount = &engine.Check{
	ID:    "sa-token-automount",
	Title: "Pods do not mount a service account token they do not need",
	Description: "Unless the pod or its ServiceAccount sets automountServiceAccountToken: false, every " +
		"container gets an API token: whoever compromises the container can act with the " +
		"ServiceAccount's permissions. A pod that turns automount off but projects a serviceAccountToken " +
		"volume for the API server's audience by hand holds the same token and fails too; one for " +
		"another audience is NotAssessed, since whether the API server accepts it depends on its " +
		"flags. Mounting credentials only where they are needed supports logical access security (CC6.1)." + supporting,
	Remediation: "Set automountServiceAccountToken: false on the ServiceAccount (or the pod spec), and set it to true only on pods that call the Kubernetes API.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Reads:       []string{"ServiceAccount"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch pod := o.Workload.Pod().AutomountServiceAccountToken; {
		case isFalse(pod):
			judgeProjectedTokens(ctx, o, "the pod sets automountServiceAccountToken: false")
			return
		case isTrue(pod):
			ctx.Fail("", "the pod spec sets automountServiceAccountToken: true")
			return
		}
		name := podServiceAccount(o)
		sa := ctx.Inventory.Get("ServiceAccount", o.Namespace, name)
		if sa == nil {
			absent := "is not in the scanned input"
			if ctx.Inventory.Complete {
				absent = "does not exist"
			}
			ctx.Fail("", "the pod does not set automountServiceAccountToken and ServiceAccount %q %s: the Kubernetes default (automount on) applies", name, absent)
			return
		}
		account, ok := sa.Obj.(*corev1.ServiceAccount)
		if !ok {
			ctx.NotApplicable("", "the ServiceAccount is not a core/v1 ServiceAccount")
			return
		}
		if isFalse(account.AutomountServiceAccountToken) {
			judgeProjectedTokens(ctx, o, fmt.Sprintf("ServiceAccount %q sets automountServiceAccountToken: false", name))
			return
		}
		ctx.Fail("", "neither the pod nor ServiceAccount %q sets automountServiceAccountToken: false", name)
	},
}

// judgeProjectedTokens judges a pod that automount gives no token (off says why): one that
// mounts a projected serviceAccountToken itself still holds a token. One with no audience is
// for the API server ("The audience defaults to the identifier of the apiserver",
// ServiceAccountTokenProjection, k8s.io/api v0.37.2 core/v1): the same credential automount
// would have mounted. One for an explicit audience is accepted by the API server when that is
// one of its --api-audiences (by default its --service-account-issuer), which no object shows.
func judgeProjectedTokens(ctx *engine.Context, o *engine.Object, off string) {
	var explicit []string
	for _, a := range o.Workload.Pod().TokenAudiences {
		if a == "" {
			ctx.Fail("", "%s, but it projects a ServiceAccount token for the API server's audience (a serviceAccountToken source with no audience) in a volume it mounts", off)
			return
		}
		explicit = append(explicit, a)
	}
	if len(explicit) > 0 {
		ctx.NotAssessed("", fmt.Sprintf("%s, but it projects a ServiceAccount token for audience %s: the API server accepts it if that is one of its --api-audiences (by default its --service-account-issuer), which no Kubernetes object shows",
			off, quoteList(explicit)))
		return
	}
	ctx.Pass("")
}

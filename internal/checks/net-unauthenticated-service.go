package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netUnauthenticatedService = &engine.Check{
	ID:    "net-unauthenticated-service",
	Title: "Services require authentication",
	Description: "A service that answers without authentication lets anyone who can reach it read or change " +
		"what it serves (CC6.6). Whether it does can only be learnt by probing it over the network; " +
		"no Kubernetes object says so, and this check reports NotAssessed until a probe provides the " +
		"answer." + supporting,
	Remediation: "Require authentication in the service itself or in front of it (mTLS from a service mesh, " +
		"an authenticating proxy or the ingress controller's auth), and restrict who can reach it with NetworkPolicies.",
	Severity:     high,
	Criteria:     []v1alpha1.Criterion{cc66},
	Targets:      []string{"Service"},
	Requires:     "a network probe of the service",
	Unassessable: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ctx.NotAssessed("", "needs a network probe of the service to learn whether it answers without authentication")
	},
}

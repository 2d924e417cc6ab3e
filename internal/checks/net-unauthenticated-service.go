package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netUnauthenticatedService = &engine.Check{
	ID:    "net-unauthenticated-service",
	Title: "Services require authentication",
	Description: "A service that answers without authentication lets anyone who can reach it read or change " +
		"what it serves (CC6.6). Whether it does can only be learnt by probing it over the network; " +
		"no Kubernetes object says so, and this check reports NotAssessed until a probe provides the " +
		"answer. An ExternalName Service is a DNS alias that nothing in the cluster answers on: not applicable." + supporting,
	Remediation: "Require authentication in the service itself or in front of it (mTLS from a service mesh, " +
		"an authenticating proxy or the ingress controller's auth), and restrict who can reach it with NetworkPolicies.",
	Severity:     high,
	Criteria:     []v1alpha1.Criterion{cc66},
	Targets:      []string{"Service"},
	Requires:     "a network probe of the service",
	Unassessable: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if svc, ok := o.Obj.(*corev1.Service); ok && svc.Spec.Type == corev1.ServiceTypeExternalName {
			ctx.NotApplicable("", "an ExternalName Service is a DNS alias of "+svc.Spec.ExternalName+": nothing in the cluster answers on it")
			return
		}
		ctx.NotAssessed("", "needs a network probe of the service to learn whether it answers without authentication")
	},
}

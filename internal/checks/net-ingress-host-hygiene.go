package checks

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netIngressHostHygiene = &engine.Check{
	ID:    "net-ingress-host-hygiene",
	Title: "Ingresses route named hosts only",
	Description: "A rule without a host, a wildcard host or a default backend routes traffic for any " +
		"name pointed at the load balancer to the backend, including names nobody reviewed, and can " +
		"capture traffic meant for other Ingresses; the boundary (CC6.6) should admit only the " +
		"hosts the service owns." + supporting,
	Remediation: "Give every rule an explicit, fully qualified host, and remove spec.defaultBackend.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     []string{"Ingress"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ing, ok := o.Obj.(*networkingv1.Ingress)
		if !ok {
			ctx.NotApplicable("", "not a networking.k8s.io Ingress")
			return
		}
		var found []string
		emptyHost := false
		for _, r := range ing.Spec.Rules {
			switch {
			case r.Host == "":
				if !emptyHost {
					found = append(found, "a rule without a host")
				}
				emptyHost = true
			case strings.HasPrefix(r.Host, "*"):
				found = append(found, "wildcard host \""+r.Host+"\"")
			}
		}
		if ing.Spec.DefaultBackend != nil {
			found = append(found, "spec.defaultBackend set")
		}
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "ingress accepts unnamed hosts: %s", few(found, ", "))
	},
}

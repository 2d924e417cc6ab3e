package checks

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netIngressHostHygiene = &engine.Check{
	ID:    "net-ingress-host-hygiene",
	Title: "Ingresses, Gateway API routes and OpenShift Routes route named hosts only",
	Description: "A rule without a host, a wildcard host or a default backend routes traffic for any " +
		"name pointed at the load balancer to the backend, including names nobody reviewed, and can " +
		"capture traffic meant for other Ingresses; the boundary (CC6.6) should admit only the " +
		"hosts the service owns. So does an ingress-nginx server alias " +
		"(nginx.ingress.kubernetes.io/server-alias) that is a wildcard or a regular expression: " +
		"ingress-nginx adds it to the server_name of the rule's host. A Gateway API HTTPRoute, GRPCRoute or TLSRoute " +
		"answers the hosts its spec.hostnames and the hostname of each listener it attaches to (those of its parent Gateways, and " +
		"of the default Gateways when it asks for them: spec.useDefaultGateways) have in common: " +
		"any host when neither names one, a wildcard when the route's hostname is one and the listener names no " +
		"single host, or when the route names none and the listener's hostname is a wildcard. A route that only " +
		"redirects to https on an HTTP listener routes nothing to a backend. Where the Gateway is not in the " +
		"input, the check cannot tell (NotAssessed). An OpenShift Route (route.openshift.io) answers its spec.host, or " +
		"the one the API server generates from the router's domain when it has none, and with spec.wildcardPolicy " +
		"Subdomain every host of that host's domain. An Istio Gateway's (networking.istio.io) HTTP, HTTPS and TLS servers answer " +
		"the hosts they list, each [namespace/]dnsName: a dnsName \"*\" (any host) or a wildcard (*.example.com), whatever " +
		"namespace part (\"*/\", \"./\" or a namespace, which says whose VirtualServices may bind it) fails; an HTTP server that " +
		"only redirects to https (tls.httpsRedirect) and a TCP server, which forwards every connection whatever its host, route no host." + supporting,
	Remediation: "Give every rule an explicit, fully qualified host, remove spec.defaultBackend, and " +
		"list only fully qualified names in nginx.ingress.kubernetes.io/server-alias. Give a Gateway API " +
		"route fully qualified spec.hostnames, or attach it to a listener whose hostname names one host. Give an " +
		"OpenShift Route wildcardPolicy None (the default). List fully qualified names in an Istio Gateway server's hosts.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  []string{"Ingress", "HTTPRoute", "GRPCRoute", "TLSRoute", "Route", "Gateway"},
	Reads:    []string{"Gateway", "ListenerSet", "Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "Route" {
			if !isOpenShiftRoute(o) {
				ctx.NotApplicable("", "not a "+openshiftRouteGroup+" Route")
				return
			}
			openshiftRouteHostHygiene(ctx, o)
			return
		}
		if o.Kind == "Gateway" {
			istioGatewayHostHygiene(ctx, o)
			return
		}
		if o.Kind != "Ingress" {
			routeHostHygiene(ctx, o)
			return
		}
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
		for _, a := range nginxPatternAliases(ing.Annotations) {
			found = append(found, nginxServerAlias+" \""+a+"\"")
		}
		// Those the operator's cache left out, after the first (ReduceIngressAnnotations).
		found = append(found, omittedAliases(o)...)
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "ingress accepts unnamed hosts: %s", few(found, ", "))
	},
}

// routeHostHygiene judges the hosts a Gateway API route answers on each listener it attaches to.
func routeHostHygiene(ctx *engine.Context, o *engine.Object) {
	ls, ok := attachedListeners(ctx, o)
	if !ok {
		return
	}
	var found []string
	for _, a := range ls.attached {
		if ls.redirects && a.listener.Protocol == "HTTP" {
			continue // it routes nothing to a backend there
		}
		for _, h := range unnamedHosts(a, ls.hostnames) {
			if !slices.Contains(found, h) {
				found = append(found, h)
			}
		}
	}
	switch {
	case len(found) > 0:
		ctx.Fail("", "route accepts unnamed hosts: %s", few(found, "; "))
	case len(ls.unknown) > 0:
		ctx.NotAssessed("", "which listeners serve the route is not known: "+few(ls.unknown, "; "))
	case len(ls.attached) > 0:
		ctx.Pass("")
	case ls.mesh > 0:
		ctx.NotApplicable("", "the route's parents are Services: it routes a service mesh's traffic inside the cluster, and no Gateway listener serves it")
	default:
		ctx.NotApplicable("", "the route attaches to no listener of its Gateways: nothing serves it")
	}
}

// nginxServerAlias is the ingress-nginx annotation that adds names to the server_name of the
// servers of an Ingress's rule hosts (internal/ingress/annotations/alias).
const nginxServerAlias = "nginx.ingress.kubernetes.io/server-alias"

// nginxPatternAliases returns the server aliases of an Ingress that name no single host: nginx
// server_name wildcards (*.example.com, www.example.*, .example.com) and regular expressions
// (~...), which ingress-nginx's validator for the annotation (ValidateArrayOfServerName)
// accepts. The annotation is a comma-separated list, each name trimmed.
func nginxPatternAliases(annotations map[string]string) []string {
	var out []string
	for _, a := range strings.Split(annotations[nginxServerAlias], ",") {
		a = strings.TrimSpace(a)
		if strings.HasPrefix(a, "*") || strings.HasSuffix(a, "*") || strings.HasPrefix(a, ".") || strings.HasPrefix(a, "~") {
			out = append(out, a)
		}
	}
	return out
}

// istioGatewayHostHygiene judges the hosts of an Istio Gateway's servers that route by host
// (HTTP, HTTPS, TLS): those the HTTP server that only redirects to https lists route nothing,
// and a stream server (TCP, MONGO, ...) forwards every connection whatever its host.
func istioGatewayHostHygiene(ctx *engine.Context, o *engine.Object) {
	gs, ok := readIstioGatewayJudged(ctx, o)
	if !ok {
		return
	}
	var found, unknown []string
	judged := 0
	for _, s := range gs.Servers {
		switch s.serving() {
		case istioRedirect, istioStream:
			continue
		case istioUnknown:
			unknown = append(unknown, s.describe())
			continue
		}
		judged++
		for _, h := range s.Hosts {
			if istioHostUnnamed(h) {
				found = append(found, fmt.Sprintf("%q on %s", h, s.describe()))
			}
		}
	}
	switch {
	case len(found) > 0:
		ctx.Fail("", "Istio Gateway accepts unnamed hosts: %s", few(found, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "Istio does not define the protocol of "+few(unknown, "; ")+": whether it routes by host the manifests do not tell")
	case judged > 0:
		ctx.Pass("")
	default:
		ctx.NotApplicable("", "no server of the Istio Gateway routes by host")
	}
}

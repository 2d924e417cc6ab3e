package checks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netIngressTLS = &engine.Check{
	ID:    "net-ingress-tls",
	Title: "Ingresses, Gateway API routes and OpenShift Routes serve every host over TLS",
	Description: "An Ingress without spec.tls, or with a host its TLS section does not list, serves that " +
		"host over plain HTTP: data crosses the boundary unencrypted and can be read or altered in " +
		"transit (CC6.6, CC6.7). So does one whose TLS hosts ingress-nginx is told not to redirect " +
		"from HTTP to HTTPS (nginx.ingress.kubernetes.io/ssl-redirect \"false\" without " +
		"force-ssl-redirect \"true\"): it serves them over plain HTTP as well. A wildcard TLS " +
		"host (*.example.com) covers one label; a rule without a host, and spec.defaultBackend (which answers any host no rule matches), are covered only " +
		"by a TLS entry without hosts. GKE's Ingress controller (kubernetes.io/ingress.class gce, gce-internal or gce-regional-external) " +
		"serves an Ingress over plain HTTP on port 80 beside HTTPS unless kubernetes.io/ingress.allow-http is \"false\" " +
		"or the FrontendConfig it names redirects to HTTPS (which the check does not read: NotAssessed); its " +
		"certificates may come from networking.gke.io/managed-certificates or ingress.gcp.kubernetes.io/pre-shared-cert " +
		"instead of spec.tls, and serve every host whatever the hosts of its TLS entries. The AWS Load Balancer Controller (class alb) listens on HTTPS only where " +
		"alb.ingress.kubernetes.io/listen-ports says so, or by default when alb.ingress.kubernetes.io/certificate-arn " +
		"names a certificate (spec.tls alone leaves it on plain HTTP; its certificates may come from that annotation " +
		"or be found in ACM by host), and serves an HTTP listener beside it " +
		"unless alb.ingress.kubernetes.io/ssl-redirect redirects it; where another Ingress of its IngressGroup, a custom " +
		"action or the IngressClassParams of the IngressClass named in spec.ingressClassName may decide instead, " +
		"the check cannot tell (NotAssessed). A Gateway API route (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute) is judged by the listeners of " +
		"its parent Gateways it attaches to (the one sectionName names, those on the parentRef's port, or every " +
		"listener whose allowedRoutes admit the route's kind and namespace and whose hostname meets the route's), and, " +
		"when it asks for the default Gateways (spec.useDefaultGateways), by those of every Gateway whose spec.defaultScope is that scope, " +
		"and, where its parent is a ListenerSet, by the ListenerSet's listeners when the ListenerSet's Gateway admits it " +
		"(spec.allowedListeners; by none when it does not): " +
		"an HTTP listener serves it in clear text unless every rule of the HTTPRoute redirects to https (a " +
		"RequestRedirect filter with scheme https), an HTTPS or TLS listener over TLS; a TCP or UDP listener forwards " +
		"what it receives, and whether that is encrypted the check cannot tell (NotAssessed). Where the Gateway, ListenerSet, or any default Gateway a route asks for, is not in the input, " +
		"or admits routes (or ListenerSets) by the labels of a Namespace not in the input, or the listener is " +
		"of a protocol of its implementation's own, the check cannot tell (NotAssessed), nor, in a scan, where the API server refuses the Gateway or " +
		"ListenerSet manifest (metadata it refuses, or listeners its CRD's schema and rules refuse: a port outside 1 to 65535, an HTTPS listener not in Terminate mode, a Terminate tls " +
		"without certificateRefs or options, a TLS listener without tls, tls on an HTTP listener, two listeners of one name), which neither creates " +
		"it nor changes one that exists; a route whose parents are " +
		"Services (a service mesh's) is not served by a listener (NotApplicable). An OpenShift Route (route.openshift.io) " +
		"without spec.tls is served by the cluster's router over plain HTTP only; with spec.tls (termination edge, " +
		"reencrypt or passthrough; edge when unset) over TLS, and over plain HTTP too where " +
		"spec.tls.insecureEdgeTerminationPolicy is Allow (None, the default, refuses plain HTTP, and Redirect redirects it " +
		"to HTTPS). OpenShift's ingress-to-route controller serves an Ingress of IngressClass openshift-default over TLS, " +
		"redirecting plain HTTP, where route.openshift.io/termination is edge, reencrypt or passthrough or a TLS entry names " +
		"neither hosts nor a Secret (the router's default certificate); of an Ingress that names no IngressClass and asks " +
		"for it so, whether OpenShift's controller or another takes it the check cannot tell (NotAssessed). " +
		"An Istio Gateway (networking.istio.io) is judged " +
		"by its servers, which serve the VirtualServices bound to it at the address of the gateway proxies its spec.selector " +
		"picks: an HTTP, HTTP2, GRPC or GRPC-WEB server serves them in clear text unless tls.httpsRedirect is true; an HTTPS server, " +
		"or a TLS server terminating TLS (SIMPLE, MUTUAL, ISTIO_MUTUAL, OPTIONAL_MUTUAL) or passing it through, over TLS; a TCP or " +
		"MONGO server forwards what it receives (NotAssessed). A VirtualService whose http routes bind to the HTTP server of " +
		"another namespace's Istio Gateway (spec.gateways: [infra/shared], on a server one of whose hosts admits its namespace " +
		"and meets its hosts) is served in clear text there, and fails in its own namespace as an HTTPRoute on a shared Gateway's " +
		"HTTP listener does; one on its own namespace's Gateway is judged on that Gateway (NotApplicable); one on an Istio Gateway not in the input, " +
		"or, in a scan, one the API server refuses for its metadata, cannot be judged (NotAssessed). A Gateway API Gateway " +
		"is judged by its routes (NotApplicable)." + supporting,
	Remediation: "Add a spec.tls entry whose hosts list every rule host, with a certificate Secret " +
		"(cert-manager can issue it), and redirect HTTP to HTTPS in the ingress controller (with " +
		"ingress-nginx, do not set nginx.ingress.kubernetes.io/ssl-redirect to \"false\"; with GKE, set " +
		"kubernetes.io/ingress.allow-http to \"false\" or redirect with a FrontendConfig; with the AWS Load " +
		"Balancer Controller, listen on HTTPS and set alb.ingress.kubernetes.io/ssl-redirect). Attach a Gateway API " +
		"route to the Gateway's HTTPS listener by sectionName, and serve the HTTP listener only an HTTPRoute that " +
		"redirects to https (a RequestRedirect filter with scheme https). Give an OpenShift Route spec.tls (termination " +
		"edge, reencrypt or passthrough) with insecureEdgeTerminationPolicy None or Redirect. Give an Istio Gateway's HTTP " +
		"server tls.httpsRedirect: true, and serve its hosts on an HTTPS server.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc66, cc67},
	Targets:  []string{"Ingress", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "Route", "Gateway", "VirtualService"},
	Reads:    []string{"Gateway", "ListenerSet", "Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch o.Kind {
		case "Route":
			if !isOpenShiftRoute(o) {
				ctx.NotApplicable("", "not a "+openshiftRouteGroup+" Route")
				return
			}
			openshiftRouteServedOverTLS(ctx, o)
			return
		case "Gateway":
			istioGatewayServedOverTLS(ctx, o)
			return
		case "VirtualService":
			virtualServiceServedOverTLS(ctx, o)
			return
		}
		if o.Kind != "Ingress" {
			routeServedOverTLS(ctx, o)
			return
		}
		ing, ok := o.Obj.(*networkingv1.Ingress)
		if !ok {
			ctx.NotApplicable("", "not a networking.k8s.io Ingress")
			return
		}
		if byClass := ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName == "alb"; byClass || ing.Annotations[ingressClassAnnotation] == "alb" {
			// The AWS Load Balancer Controller's listeners, not spec.tls, decide whether a rule is
			// served over HTTPS: spec.tls only names hosts to find certificates for.
			switch why, unknown := albServesPlainHTTP(ing.Annotations, byClass); {
			case why != "":
				ctx.Fail("", "%s: the AWS Load Balancer Controller serves the Ingress over plain HTTP", why)
			case unknown != "":
				ctx.NotAssessed("", unknown)
			default:
				ctx.Pass("")
			}
			return
		}
		if gceIngressClasses[ing.Annotations[ingressClassAnnotation]] {
			// GKE's load balancer terminates TLS for every host with all the certificates the
			// Ingress names (spec.tls secrets, whatever their hosts, and its annotations), choosing
			// by SNI: a host no TLS entry lists is still served over HTTPS. Only its HTTP
			// forwarding rule serves plain HTTP.
			allowHTTP, frontendConfig := gceServesHTTP(ing.Annotations)
			switch {
			case len(ing.Spec.TLS) == 0 && ing.Annotations[gceManagedCertificates] == "" && ing.Annotations[gcePreSharedCert] == "":
				ctx.Fail("", "no spec.tls, %s or %s: the Ingress serves plain HTTP", gceManagedCertificates, gcePreSharedCert)
			case allowHTTP && frontendConfig != "":
				ctx.NotAssessed("", fmt.Sprintf("%s is not \"false\": GKE serves the Ingress over plain HTTP on port 80 too unless FrontendConfig %q redirects HTTP to HTTPS (spec.redirectToHttps), which the check does not read",
					gceAllowHTTP, frontendConfig))
			case allowHTTP:
				ctx.Fail("", "%s is not \"false\" and no FrontendConfig redirects HTTP to HTTPS: GKE serves the Ingress over plain HTTP on port 80 too",
					gceAllowHTTP)
			default:
				ctx.Pass("")
			}
			return
		}
		switch openshiftTLS, unknown := openshiftIngressTLS(ing); {
		case openshiftTLS:
			ctx.Pass("")
			return
		case unknown != "":
			ctx.NotAssessed("", unknown)
			return
		}
		if len(ing.Spec.TLS) == 0 {
			ctx.Fail("", "no spec.tls: the Ingress serves plain HTTP")
			return
		}
		if uncovered := hostsWithoutTLS(ing); len(uncovered) > 0 {
			ctx.Fail("", "no spec.tls entry covers %s: served over plain HTTP", few(uncovered, ", "))
			return
		}
		if nginxServesPlainHTTP(ing.Annotations) {
			ctx.Fail("", "%s: %q turns off ingress-nginx's redirect from HTTP to HTTPS: the hosts are served over plain HTTP too",
				nginxSSLRedirect, ing.Annotations[nginxSSLRedirect])
			return
		}
		ctx.Pass("")
	},
}

// routeServedOverTLS judges a Gateway API route by the Gateway listeners it attaches to: an
// HTTP listener serves it in clear text (an HTTPRoute every rule of which redirects to https
// serves only the redirect), an HTTPS or TLS listener over TLS, and a TCP or UDP listener
// forwards what it receives, which may or may not be encrypted.
func routeServedOverTLS(ctx *engine.Context, o *engine.Object) {
	ls, ok := attachedListeners(ctx, o)
	if !ok {
		return
	}
	switch {
	case len(ls.plain) > 0 && o.Kind == "HTTPRoute":
		ctx.Fail("", "served over plain HTTP by %s: not every rule of the route redirects to https (a RequestRedirect filter with scheme https)",
			few(ls.plain, "; "))
	case len(ls.plain) > 0 && o.Kind == "GRPCRoute":
		ctx.Fail("", "served over plain HTTP (gRPC in clear text) by %s", few(ls.plain, "; "))
	case len(ls.plain) > 0:
		ctx.Fail("", "served over plain HTTP by %s", few(ls.plain, "; "))
	case len(ls.unknown) > 0:
		ctx.NotAssessed("", "which listeners serve the route, and how, is not known: "+few(ls.unknown, "; "))
	case len(ls.opaque) > 0:
		ctx.NotAssessed("", "forwarded as received by "+few(ls.opaque, "; ")+
			": whether the protocol it carries is encrypted the check cannot tell")
	case ls.tls > 0:
		ctx.Pass("")
	case ls.mesh > 0:
		ctx.NotApplicable("", "the route's parents are Services: it routes a service mesh's traffic inside the cluster, and no Gateway listener serves it")
	default:
		ctx.NotApplicable("", "the route attaches to no listener of its Gateways: nothing serves it")
	}
}

// hostsWithoutTLS are the rule hosts of an Ingress that no TLS entry lists, and its default
// backend when none covers it: the default backend answers whatever no rule matches, for any
// host, as a rule without a host does.
func hostsWithoutTLS(ing *networkingv1.Ingress) []string {
	var uncovered []string
	seen := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if seen[r.Host] || ingressHostHasTLS(ing.Spec.TLS, r.Host) {
			continue
		}
		seen[r.Host] = true
		if r.Host == "" {
			uncovered = append(uncovered, "the rule without a host")
		} else {
			uncovered = append(uncovered, "\""+r.Host+"\"")
		}
	}
	if ing.Spec.DefaultBackend != nil && !ingressHostHasTLS(ing.Spec.TLS, "") {
		uncovered = append(uncovered, "spec.defaultBackend")
	}
	return uncovered
}

// The ingress-nginx annotations that decide whether it redirects HTTP to HTTPS.
const (
	nginxSSLRedirect      = "nginx.ingress.kubernetes.io/ssl-redirect"
	nginxForceSSLRedirect = "nginx.ingress.kubernetes.io/force-ssl-redirect"
)

// The annotations that decide how GKE's Ingress controller (ingress-gce, pkg/annotations) serves
// an Ingress: which controller takes it, whether it has an HTTP forwarding rule beside the HTTPS
// one, the FrontendConfig that may redirect HTTP to HTTPS, and certificates it takes from
// elsewhere than spec.tls (Google-managed, or uploaded to the project).
const (
	ingressClassAnnotation = "kubernetes.io/ingress.class"
	gceAllowHTTP           = "kubernetes.io/ingress.allow-http"
	gceFrontendConfig      = "networking.gke.io/v1beta1.FrontendConfig"
	gceManagedCertificates = "networking.gke.io/managed-certificates"
	gcePreSharedCert       = "ingress.gcp.kubernetes.io/pre-shared-cert"
)

// gceIngressClasses are the values of kubernetes.io/ingress.class GKE's controller takes an
// Ingress for (IsGCEIngress; it takes none by spec.ingressClassName). An Ingress with neither is
// GKE's too on GKE, but not on other clusters, which the Ingress does not tell.
var gceIngressClasses = map[string]bool{"gce": true, "gce-internal": true, "gce-regional-external": true}

// gceServesHTTP reports whether GKE gives an Ingress an HTTP forwarding rule: unless
// allow-http is false (AllowHTTP, strconv.ParseBool, true when unset or unparsable); and the
// FrontendConfig it names, whose spec.redirectToHttps may turn that rule into a redirect.
func gceServesHTTP(annotations map[string]string) (allowHTTP bool, frontendConfig string) {
	allow, err := strconv.ParseBool(annotations[gceAllowHTTP])
	return err != nil || allow, annotations[gceFrontendConfig]
}

// The annotations that decide how the AWS Load Balancer Controller (class alb) serves an
// Ingress: its certificates, the listeners it adds the Ingress's rules to, the port HTTP is
// redirected to, the IngressGroup it shares a load balancer with, and custom actions.
const (
	albCertificateARN = "alb.ingress.kubernetes.io/certificate-arn"
	albListenPorts    = "alb.ingress.kubernetes.io/listen-ports"
	albSSLRedirect    = "alb.ingress.kubernetes.io/ssl-redirect"
	albGroupName      = "alb.ingress.kubernetes.io/group.name"
	albActions        = "alb.ingress.kubernetes.io/actions."
)

// albServesPlainHTTP says how the AWS Load Balancer Controller serves an Ingress's rules over
// plain HTTP, or "" when it does not; unknown says why that cannot be told from the Ingress. The
// rules go to the listeners listen-ports names (a JSON list of {"HTTP": 80} and {"HTTPS": 443}
// entries), by default HTTPS 443 when a certificate is named (certificate-arn) and HTTP 80
// otherwise (pkg/ingress computeIngressListenPorts: spec.tls does not make it listen on HTTPS,
// it only names hosts to discover certificates for, as the rules' hosts do; an HTTPS listener
// without a certificate fails to deploy). An HTTP listener beside an HTTPS one redirects when
// ssl-redirect names a port, which any Ingress of the same IngressGroup may set for all of them,
// and a custom action (actions.*) may redirect a path. byClass is an Ingress that names its
// IngressClass in spec.ingressClassName: the class's IngressClassParams, which the check does
// not read, may name the certificate (certificateArn), the redirect port (sslRedirectPort) and
// the group in the annotations' stead; the kubernetes.io/ingress.class annotation has none.
func albServesPlainHTTP(annotations map[string]string, byClass bool) (why, unknown string) {
	const params = "the IngressClassParams of IngressClass \"alb\" (which the check does not read)"
	listeners := []map[string]int64{{"HTTP": 80}}
	if annotations[albCertificateARN] != "" {
		listeners = []map[string]int64{{"HTTPS": 443}}
	} else if _, ok := annotations[albListenPorts]; !ok && byClass {
		return "", fmt.Sprintf("neither %s nor %s is set: the Ingress listens on HTTPS only if %s names a certificate (certificateArn), and on plain HTTP otherwise",
			albListenPorts, albCertificateARN, params)
	}
	if raw, ok := annotations[albListenPorts]; ok {
		listeners = nil
		if err := json.Unmarshal([]byte(raw), &listeners); err != nil {
			return "", fmt.Sprintf("%s %q is not a list of protocols and ports the check can read", albListenPorts, raw)
		}
	}
	var http, https bool
	for _, l := range listeners {
		_, h := l["HTTP"]
		_, s := l["HTTPS"]
		http, https = http || h, https || s
	}
	switch {
	case !https:
		return fmt.Sprintf("%s gives it no HTTPS listener (%s)", albListenPorts,
			cmp.Or(annotations[albListenPorts], "unset, and no "+albCertificateARN)), ""
	case !http:
		return "", ""
	}
	if _, err := strconv.ParseInt(annotations[albSSLRedirect], 10, 32); err == nil {
		return "", ""
	}
	undecided := "the Ingress listens on HTTP beside HTTPS (" + albListenPorts + ") without " + albSSLRedirect + ": whether HTTP is redirected depends on "
	if g := annotations[albGroupName]; g != "" {
		return "", undecided + fmt.Sprintf("the other Ingresses of IngressGroup %q (%s)", g, albGroupName)
	}
	for k := range annotations {
		if strings.HasPrefix(k, albActions) {
			return "", undecided + "its custom actions (" + albActions + "*)"
		}
	}
	if byClass {
		return "", undecided + params + " (sslRedirectPort, group)"
	}
	return fmt.Sprintf("it listens on HTTP beside HTTPS (%s) and %s does not redirect HTTP to HTTPS", albListenPorts, albSSLRedirect), ""
}

// nginxServesPlainHTTP reports whether an Ingress's annotations make ingress-nginx serve its TLS
// hosts over plain HTTP as well: it redirects HTTP to HTTPS when force-ssl-redirect is true, or
// the host has TLS and ssl-redirect is not false (internal/ingress/annotations/rewrite, which
// reads both with strconv.ParseBool, and the location's redirect in its nginx.tmpl).
func nginxServesPlainHTTP(annotations map[string]string) bool {
	redirect, err := strconv.ParseBool(annotations[nginxSSLRedirect])
	if err != nil || redirect {
		return false
	}
	force, err := strconv.ParseBool(annotations[nginxForceSSLRedirect])
	return err != nil || !force
}

// ingressHostHasTLS reports whether a rule host is listed by a TLS entry. A rule without a host
// takes the controller's default certificate, which only a TLS entry without hosts asks for.
func ingressHostHasTLS(tls []networkingv1.IngressTLS, host string) bool {
	for _, t := range tls {
		if host == "" {
			if len(t.Hosts) == 0 {
				return true
			}
			continue
		}
		for _, h := range t.Hosts {
			if tlsCovers(h, host) {
				return true
			}
		}
	}
	return false
}

// The IngressClass OpenShift creates for its default IngressController, whose controller
// (openshift.io/ingress-to-route) turns each Ingress it takes into Routes, and the annotation
// that asks it for TLS termination of the Routes.
const (
	openshiftDefaultIngressClass = "openshift-default"
	openshiftTermination         = "route.openshift.io/termination"
)

// openshiftIngressTLS says whether OpenShift's ingress-to-route controller serves every rule of
// an Ingress over TLS when it takes it: with route.openshift.io/termination edge, reencrypt or
// passthrough, or a TLS entry with neither hosts nor secret, it gives each Route spec.tls (the
// router's default certificate where no Secret names one) with insecureEdgeTerminationPolicy
// Redirect (route-controller-manager, tlsConfigForIngress and tlsEnabled). It takes the
// Ingresses of class openshift-default, and on OpenShift those that name no class; elsewhere
// the default IngressClass's controller takes those and ignores the annotation, which the
// Ingress does not tell (unknown). Otherwise its Routes have TLS for the hosts spec.tls lists,
// as other controllers serve them.
func openshiftIngressTLS(ing *networkingv1.Ingress) (tls bool, unknown string) {
	var asked string
	if t := ing.Annotations[openshiftTermination]; t == "edge" || t == "reencrypt" || t == "passthrough" {
		asked = fmt.Sprintf("%s %q", openshiftTermination, t)
	}
	for _, e := range ing.Spec.TLS {
		if asked == "" && len(e.Hosts) == 0 && e.SecretName == "" {
			asked = "a spec.tls entry with neither hosts nor secretName"
		}
	}
	if asked == "" {
		return false, ""
	}
	class := ing.Annotations[ingressClassAnnotation]
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	switch {
	case class == openshiftDefaultIngressClass:
		return true, ""
	case class == "" && (len(ing.Spec.TLS) == 0 || len(hostsWithoutTLS(ing)) > 0):
		return false, "the Ingress names no IngressClass: OpenShift's ingress-to-route controller serves it over TLS (" + asked +
			"), and the controller of another cluster's default IngressClass may serve it over plain HTTP; which takes it the Ingress does not tell"
	}
	return false, ""
}

// istioGatewayServedOverTLS judges an Istio Gateway by its servers: an HTTP server (HTTP, HTTP2,
// GRPC, GRPC-WEB) without tls.httpsRedirect serves in clear text; an HTTPS server and a TLS server
// receive TLS (terminated, or passed through by SNI); a stream server forwards what it receives.
// A Gateway API Gateway is not judged: its routes are.
func istioGatewayServedOverTLS(ctx *engine.Context, o *engine.Object) {
	gs, ok := readIstioGatewayJudged(ctx, o)
	if !ok {
		return
	}
	var plain, opaque, unknown []string
	tls := 0
	for _, s := range gs.Servers {
		switch s.serving() {
		case istioPlainHTTP:
			plain = append(plain, s.describe()+" without tls.httpsRedirect")
		case istioStream:
			opaque = append(opaque, s.describe())
		case istioUnknown:
			unknown = append(unknown, s.describe())
		default:
			tls++
		}
	}
	switch {
	case len(plain) > 0:
		ctx.Fail("", "Istio Gateway serves plain HTTP: %s", few(plain, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "Istio does not define the protocol of "+few(unknown, "; ")+": whether it is served over TLS the manifests do not tell")
	case len(opaque) > 0:
		ctx.NotAssessed("", "forwarded as received by "+few(opaque, "; ")+": whether the protocol it carries is encrypted the check cannot tell")
	case tls > 0:
		ctx.Pass("")
	default:
		ctx.NotApplicable("", "the Istio Gateway has no servers: it serves nothing")
	}
}

// virtualServiceServedOverTLS judges an Istio VirtualService's http routes by the servers of
// other namespaces' Istio Gateways they bind to (those of its own namespace's are judged on the
// Gateway): an HTTP server without tls.httpsRedirect serves them in clear text, an HTTPS server
// or a redirecting HTTP one over TLS.
func virtualServiceServedOverTLS(ctx *engine.Context, o *engine.Object) {
	vs, ok := readVirtualService(ctx, o)
	if !ok {
		return
	}
	if len(vs.HTTP) == 0 {
		ctx.NotApplicable("", "no http routes: the VirtualService binds no HTTP to a Gateway")
		return
	}
	bound, own, unknown := istioGatewaysOf(ctx.Inventory, o, vs)
	var plain []string
	tls := 0
	for _, gw := range bound {
		for _, s := range gw.spec.Servers {
			if !s.bindsHosts(gw.namespace, o.Namespace, vs.Hosts) {
				continue
			}
			switch s.serving() {
			case istioPlainHTTP:
				plain = append(plain, fmt.Sprintf("%s of Istio Gateway %s/%s without tls.httpsRedirect", s.describe(), gw.namespace, gw.name))
			case istioRedirect, istioHTTPS:
				tls++
			}
		}
	}
	switch {
	case len(plain) > 0:
		ctx.Fail("", "VirtualService served over plain HTTP by %s", few(plain, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "which servers serve the VirtualService is not known: "+few(unknown, "; "))
	case tls > 0:
		ctx.Pass("")
	case len(own) > 0:
		ctx.NotApplicable("", "the VirtualService is served through "+few(own, "; ")+", judged on that Gateway")
	default:
		ctx.NotApplicable("", "no HTTP or HTTPS server of another namespace's Istio Gateway binds the VirtualService")
	}
}

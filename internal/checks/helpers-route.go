package checks

import (
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// openshiftRouteGroup is the group of OpenShift's Route. Other kinds named Route are not served
// by OpenShift's router.
const openshiftRouteGroup = "route.openshift.io"

// The fields of OpenShift's Route (github.com/openshift/api route/v1) that decide how the
// cluster's router serves it. Routes are read unstructured, from manifests and from the cluster
// alike (OpenShift serves them; other clusters may have no Route CRD).
type (
	openshiftRouteSpec struct {
		Host string `json:"host"`
		// Subdomain is the host's first label when Host is empty: the router's domain is
		// appended to it.
		Subdomain string `json:"subdomain"`
		// WildcardPolicy None (the default) routes Host alone; Subdomain every host of its
		// domain.
		WildcardPolicy string             `json:"wildcardPolicy"`
		TLS            *openshiftRouteTLS `json:"tls"`
	}
	openshiftRouteTLS struct {
		// Termination is edge, passthrough or reencrypt; the API server defaults an empty one
		// to edge unless destinationCACertificate is set.
		Termination              string `json:"termination"`
		DestinationCACertificate string `json:"destinationCACertificate"`
		// InsecureEdgeTerminationPolicy says what the router does with plain HTTP: None (the
		// default) refuses it, Redirect redirects it to HTTPS, Allow serves it.
		InsecureEdgeTerminationPolicy string `json:"insecureEdgeTerminationPolicy"`
	}
)

// isOpenShiftRoute reports whether an object is an OpenShift Route.
func isOpenShiftRoute(o *engine.Object) bool {
	return o.Kind == "Route" && strings.HasPrefix(o.APIVersion, openshiftRouteGroup+"/")
}

// openshiftRouteTermination is a Route's TLS termination as OpenShift's API server stores it
// (openshift-apiserver SetDefaults_TLSConfig): empty is edge unless a destination CA
// certificate is set, and the capitalised spellings are lowered. ok is false for one it
// refuses.
func openshiftRouteTermination(tls *openshiftRouteTLS) (termination string, ok bool) {
	t := tls.Termination
	switch {
	case t == "" && tls.DestinationCACertificate == "":
		t = "edge"
	case t == "Edge", t == "Reencrypt", t == "Passthrough":
		t = strings.ToLower(t)
	}
	switch t {
	case "edge", "reencrypt", "passthrough":
		return t, true
	}
	return t, false
}

// openshiftRouteServedOverTLS judges how OpenShift's router serves a Route: without spec.tls
// over plain HTTP only; with it over TLS (terminated at the router, re-encrypted to the
// workload, or passed through), and over plain HTTP too where insecureEdgeTerminationPolicy
// is Allow.
func openshiftRouteServedOverTLS(ctx *engine.Context, o *engine.Object) {
	var spec openshiftRouteSpec
	if !readSpec(o, &spec) {
		ctx.NotAssessed("", "spec is not a Route's the check can read")
		return
	}
	if spec.TLS == nil {
		ctx.Fail("", "no spec.tls: the router serves the Route over plain HTTP")
		return
	}
	termination, ok := openshiftRouteTermination(spec.TLS)
	if !ok {
		ctx.NotAssessed("", "spec.tls.termination \""+termination+"\" is not edge, reencrypt or passthrough: OpenShift refuses the Route, and how it would be served the check cannot tell")
		return
	}
	switch p := spec.TLS.InsecureEdgeTerminationPolicy; p {
	case "", "None", "Redirect":
		ctx.Pass("")
	case "Allow":
		if termination == "passthrough" {
			ctx.NotAssessed("", "insecureEdgeTerminationPolicy Allow with passthrough termination: OpenShift refuses the Route, and how it would be served the check cannot tell")
			return
		}
		ctx.Fail("", "insecureEdgeTerminationPolicy Allow: the router serves the Route over plain HTTP beside HTTPS (%s termination)", termination)
	default:
		ctx.NotAssessed("", "insecureEdgeTerminationPolicy \""+p+"\" is not None, Redirect or Allow: OpenShift refuses the Route, and how it would be served the check cannot tell")
	}
}

// openshiftRouteHostHygiene judges the hosts OpenShift's router answers with a Route: its
// host, or the one the API server generates from the router's domain when it names none (a
// single host either way), and every host of the host's domain with wildcardPolicy Subdomain.
// OpenShift refuses a host that is not a DNS subdomain (a wildcard), and wildcardPolicy
// Subdomain without a host (the Route CRD's validation, as openshift-apiserver's).
func openshiftRouteHostHygiene(ctx *engine.Context, o *engine.Object) {
	var spec openshiftRouteSpec
	if !readSpec(o, &spec) {
		ctx.NotAssessed("", "spec is not a Route's the check can read")
		return
	}
	refused := func(why string) {
		ctx.NotAssessed("", why+": OpenShift refuses the Route, and which hosts it would answer the check cannot tell")
	}
	switch {
	case strings.Contains(spec.Host, "*"):
		refused("spec.host \"" + spec.Host + "\" is not a DNS subdomain")
	case spec.WildcardPolicy == "Subdomain" && spec.Host == "":
		refused("wildcardPolicy Subdomain without spec.host")
	case spec.WildcardPolicy == "Subdomain":
		domain := spec.Host
		if _, d, ok := strings.Cut(spec.Host, "."); ok {
			domain = d
		}
		ctx.Fail("", "route accepts unnamed hosts: wildcardPolicy Subdomain: the router answers every host of *.%s", domain)
	case spec.WildcardPolicy != "" && spec.WildcardPolicy != "None":
		refused("wildcardPolicy \"" + spec.WildcardPolicy + "\" is not None or Subdomain")
	default:
		ctx.Pass("")
	}
}

package checks

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netIngressTLS = &engine.Check{
	ID:    "net-ingress-tls",
	Title: "Ingresses serve every host over TLS",
	Description: "An Ingress without spec.tls, or with a host its TLS section does not list, serves that " +
		"host over plain HTTP: data crosses the boundary unencrypted and can be read or altered in " +
		"transit (CC6.6, CC6.7). So does one whose TLS hosts ingress-nginx is told not to redirect " +
		"from HTTP to HTTPS (nginx.ingress.kubernetes.io/ssl-redirect \"false\" without " +
		"force-ssl-redirect \"true\"): it serves them over plain HTTP as well. A wildcard TLS " +
		"host (*.example.com) covers one label; a rule without a host, and spec.defaultBackend (which answers any host no rule matches), are covered only " +
		"by a TLS entry without hosts." + supporting,
	Remediation: "Add a spec.tls entry whose hosts list every rule host, with a certificate Secret " +
		"(cert-manager can issue it), and redirect HTTP to HTTPS in the ingress controller (with " +
		"ingress-nginx, do not set nginx.ingress.kubernetes.io/ssl-redirect to \"false\").",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc66, cc67},
	Targets:  []string{"Ingress"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ing, ok := o.Obj.(*networkingv1.Ingress)
		if !ok {
			ctx.NotApplicable("", "not a networking.k8s.io Ingress")
			return
		}
		if len(ing.Spec.TLS) == 0 {
			ctx.Fail("", "no spec.tls: the Ingress serves plain HTTP")
			return
		}
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
		// The default backend answers whatever no rule matches, for any host, as a rule without a
		// host does.
		if ing.Spec.DefaultBackend != nil && !ingressHostHasTLS(ing.Spec.TLS, "") {
			uncovered = append(uncovered, "spec.defaultBackend")
		}
		if len(uncovered) > 0 {
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

// The ingress-nginx annotations that decide whether it redirects HTTP to HTTPS.
const (
	nginxSSLRedirect      = "nginx.ingress.kubernetes.io/ssl-redirect"
	nginxForceSSLRedirect = "nginx.ingress.kubernetes.io/force-ssl-redirect"
)

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

package controllers

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestIngressSetHeaderQuoteFailsTheReport: the HAProxy Kubernetes Ingress Controller puts each
// value of an Ingress's request-set-header and response-set-header between double quotes as it
// is, before the condition that keeps the rule to the Ingress's hosts and paths; a " and a #
// make that condition a comment, and the header is set on every host's traffic. A namespace
// admin's Ingress with one passed, and the cache dropped the annotation when it trimmed the
// Ingress's annotations. One fails the report, so does one whose 20 KiB of padding and 900 tiny
// annotations make the cache trim the others (a bare response-set-header); one whose values
// stay inside the quotes passes. Its set-host and path-rewrite go into rules as they are, unquoted,
// with the same condition after them: a # comments it out. One set-host with a # fails, so does a
// bare path-rewrite on an Ingress the cache trims, one request-redirect, one request-capture and
// one bare auth-realm.
// Its cors-allow-headers goes between quotes, its cors-allow-origin into an ACL of that condition:
// one that ends the quotes fails, so does a bare cors-allow-origin with a } of its own on an
// Ingress the cache trims; web's plain ones (and its src-ip-header, a quantifier's braces and
// header names it quoted itself) pass.
func TestIngressSetHeaderQuoteFailsTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "ing-set-header", "ingsetheader"
	createNamespace(t, ns, map[string]string{"ingsetheader": "true"})
	padded := trimPadded(map[string]string{"response-set-header": `Set-Cookie session=attacker" #`})
	paddedRewrite := trimPadded(map[string]string{"path-rewrite": "(.*) /login#"})
	paddedCORS := trimPadded(map[string]string{"cors-enable": "true", "cors-allow-origin": `^https://a$ } || { always_true`})
	ingresses := map[string]map[string]string{
		"quote":          {"haproxy.org/request-set-header": "X-Remote-User admin\" #"},
		"padded":         padded,
		"host":           {"haproxy.org/set-host": "internal.example.com #"},
		"padded-rewrite": paddedRewrite,
		"redirect":       {"haproxy.org/request-redirect": "https://shop.example.net #"},
		"capture":        {"haproxy.org/request-capture": "req.hdr(authorization) len 512 #"},
		"realm":          {"haproxy.org/auth-type": "basic-auth", "auth-realm": "Corporate-SSO#"},
		"cors-headers":   {"haproxy.org/cors-enable": "true", "haproxy.org/cors-allow-headers": `X-Tenant"#`},
		"padded-cors":    paddedCORS,
		"web": {"haproxy.org/request-set-header": `X-Tenant shop`, "haproxy.org/set-host": "shop.internal",
			"haproxy.org/path-rewrite": `^/api/(.*) /\1`, "haproxy.org/src-ip-header": "X-Real-IP",
			"haproxy.org/request-capture": "req.hdr(user-agent)", "haproxy.org/cors-enable": "true", "haproxy.org/auth-realm": "Shop Admin",
			"haproxy.org/cors-allow-origin": `^https://[a-z]{3}\.example\.com$`, "haproxy.org/cors-allow-headers": `"X-Tenant, Authorization"`},
	}
	prefix := networkingv1.PathTypePrefix
	for name, a := range ingresses {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: a},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
		if err := k8s.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "ingsetheader", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "quote",
		"ingress injects configuration into its controller: haproxy.org/request-set-header ends its quoted HAProxy value")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "padded",
		"ingress injects configuration into its controller: response-set-header ends its quoted HAProxy value")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "host",
		"ingress injects configuration into its controller: haproxy.org/set-host comments out its HAProxy rule's condition")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "padded-rewrite",
		"ingress injects configuration into its controller: path-rewrite comments out its HAProxy rule's condition")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "redirect",
		"ingress injects configuration into its controller: haproxy.org/request-redirect comments out its HAProxy rule's condition")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "capture",
		"ingress injects configuration into its controller: haproxy.org/request-capture comments out its HAProxy rule's condition")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "cors-headers",
		"ingress injects configuration into its controller: haproxy.org/cors-allow-headers ends its quoted HAProxy value")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "padded-cors",
		"ingress injects configuration into its controller: cors-allow-origin closes its HAProxy ACL")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "realm",
		"ingress injects configuration into its controller: auth-realm comments out its HAProxy rule's condition")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 9 {
		t.Errorf("want the 2 Ingresses whose set-header ends its quotes, the 5 whose set-host, path-rewrite, request-redirect, request-capture or auth-realm comments out its condition, the one whose cors-allow-headers ends its quotes and the one whose cors-allow-origin closes its ACL failing and web passing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
}

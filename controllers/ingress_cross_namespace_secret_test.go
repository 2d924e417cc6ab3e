package controllers

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestCrossNamespaceSecretFailsTheReport: a namespace admin's Ingress that names another
// namespace's Secret in ingress-nginx's auth-tls-secret (auth-secret, proxy-ssl-secret) or the
// HAProxy Kubernetes Ingress Controller's auth-secret (server-crt, server-ca) has the shared
// controller, which reads every namespace's Secrets, use another team's CA, key or users on its
// behalf; such an Ingress passed. One fails the report, so does one whose 20 KiB of padding and
// 900 tiny annotations make the cache trim the others (a bare auth-secret), and a Service whose
// server-crt names another namespace's; an Ingress and a Service that name their own
// namespace's (or a bare name) pass. Alike, an Ingress whose ingress-nginx auth-proxy-set-headers
// names another namespace's ConfigMap (padded, so the cache trims), one whose HAProxy Ingress
// secure-crt-secret names another namespace's Secret, and a padded Service whose
// secure-verify-ca-secret does: until December 2026 all three passed.
func TestCrossNamespaceSecretFailsTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "ing-xns-secret", "ingxnssecret"
	createNamespace(t, ns, map[string]string{"ingxnssecret": "true"})
	ingresses := map[string]map[string]string{
		"mtls":   {"nginx.ingress.kubernetes.io/auth-tls-secret": "payments/client-ca"},
		"padded": trimPadded(map[string]string{"haproxy.org/auth-type": "basic-auth", "auth-secret": "payments/basic-auth"}),
		// ingress-nginx sends the named ConfigMap's values as headers to the auth-url service;
		// HAProxy Ingress presents the named client certificate to the backend.
		"headers": trimPadded(map[string]string{"nginx.ingress.kubernetes.io/auth-url": "http://collector." + ns + ".svc/",
			"nginx.ingress.kubernetes.io/auth-proxy-set-headers": "payments/settings"}),
		"secure": {"haproxy-ingress.github.io/secure-crt-secret": "bank/mtls-client"},
		"web": {"nginx.ingress.kubernetes.io/auth-tls-secret": ns + "/client-ca", "nginx.ingress.kubernetes.io/auth-secret": "basic-auth",
			"haproxy.org/server-crt": ns + "/mtls-client"},
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
	createServices(t, ns, map[string]map[string]string{
		"backend":     {"haproxy.org/server-crt": "bank/mtls-client"},
		"tls-backend": trimPadded(map[string]string{"haproxy-ingress.github.io/secure-verify-ca-secret": "bank/backend-ca"}),
		"web":         {"haproxy.org/server-ca": ns + "/backend-ca"},
	})
	createProfile(t, profile, "ingxnssecret", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "mtls",
		"ingress injects configuration into its controller: nginx.ingress.kubernetes.io/auth-tls-secret names a Secret of namespace payments")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "padded",
		"ingress injects configuration into its controller: auth-secret names a Secret of namespace payments")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "backend",
		"service injects configuration into its controller: haproxy.org/server-crt names a Secret of namespace bank")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "headers",
		"ingress injects configuration into its controller: nginx.ingress.kubernetes.io/auth-proxy-set-headers names a ConfigMap of namespace payments")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "secure",
		"ingress injects configuration into its controller: haproxy-ingress.github.io/secure-crt-secret names a Secret of namespace bank")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "tls-backend",
		"service injects configuration into its controller: haproxy-ingress.github.io/secure-verify-ca-secret names a Secret of namespace bank")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 6 {
		t.Errorf("want the 4 Ingresses and the 2 Services that name another namespace's Secret (ConfigMap) failing and the web ones passing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
	if rep.Status.Summary.Failing > 0 {
		for _, f := range rep.Status.Findings {
			if f.Resource.Name == "web" {
				t.Errorf("web names its own namespace's Secrets, got a finding: %+v", f)
			}
		}
	}
}

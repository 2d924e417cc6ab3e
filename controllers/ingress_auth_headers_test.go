package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAuthProxySetHeadersValueFailsTheReport (CVE-2025-15566): ingress-nginx writes each entry of
// the ConfigMap an Ingress's auth-proxy-set-headers names as proxy_set_header '<name>' '<value>';
// into the shared nginx.conf, the value unchecked, so a namespace admin's own ConfigMap whose
// value ends its quotes injects configuration. Such an Ingress passed: the check read no
// ConfigMap. It fails the report now, with the ConfigMap over 16 KiB (the cache keeps a digest
// of it) and the Ingress padded (the cache trims its annotations); an Ingress naming a ConfigMap
// of plain header values passes; and once the tenant rewrites the value, the finding goes.
func TestAuthProxySetHeadersValueFailsTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "ing-auth-headers", "ingauthheaders"
	createNamespace(t, ns, map[string]string{"ingauthheaders": "true"})
	filler := strings.Repeat("x", 20<<10)
	headers := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "auth-headers"},
		Data: map[string]string{"X-Filler": filler, "X-Pwn": "x'; } location /t { alias /var/run/secrets/; } location /u { set $x '"}}
	plain := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain-headers"},
		Data: map[string]string{"X-Filler": filler, "X-Uri": "$request_uri", "X-Quoted": `"shop"`}}
	for _, cm := range []*corev1.ConfigMap{headers, plain} {
		if err := k8s.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	prefix := networkingv1.PathTypePrefix
	for name, cm := range map[string]string{"headers": "auth-headers", "web": ns + "/plain-headers"} {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: trimPadded(map[string]string{"nginx.ingress.kubernetes.io/auth-url": "http://auth." + ns + ".svc/",
				"nginx.ingress.kubernetes.io/auth-proxy-set-headers": cm})},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
		if err := k8s.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "ingauthheaders", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "headers",
		"nginx.ingress.kubernetes.io/auth-proxy-set-headers names ConfigMap "+ns+"/auth-headers, whose X-Pwn ends its quotes in nginx's configuration (CVE-2025-15566)")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 1 {
		t.Errorf("want only the Ingress naming the ConfigMap that ends its quotes failing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
	headers.Data["X-Pwn"] = "shop"
	if err := k8s.Update(ctx, headers); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the finding goes once the value is plain", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if n := rep.Status.Summary.Failing; n != 0 {
			return fmt.Errorf("%d failing findings: %+v", n, rep.Status.Findings)
		}
		return nil
	})
}

package controllers

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTraefikCrossNamespaceMiddlewareFailsTheReport: Traefik's Kubernetes Ingress provider
// applies the Middlewares an Ingress's traefik.ingress.kubernetes.io/router.middlewares names
// (<namespace>-<name>@kubernetescrd) and the ServersTransport a Service's
// service.serversTransport names from any namespace unless its administrators set
// crossProviderNamespaces: a namespace admin puts another team's basicAuth Middleware in front of
// a backend of theirs (and reads that team's users' passwords), or has Traefik present another
// team's client certificate. Such an Ingress and Service passed. One fails the report, so does
// one whose padding makes the cache trim its annotations; an Ingress that names its own
// namespace's, kube-system's and traefik's Middlewares (and @file ones) passes.
func TestTraefikCrossNamespaceMiddlewareFailsTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "ing-traefik-mw", "ingtraefikmw"
	createNamespace(t, ns, map[string]string{"ingtraefikmw": "true"})
	const key = "traefik.ingress.kubernetes.io/router.middlewares"
	ingresses := map[string]map[string]string{
		"auth":   {key: ns + "-redirect@kubernetescrd,payments-basic-auth@kubernetescrd"},
		"padded": trimPadded(map[string]string{key: "payments_basic-auth@kubernetescrd"}),
		"web": {key: ns + "-redirect@kubernetescrd,kube-system-ratelimit@kubernetescrd,traefik-redirect-https@kubernetescrd," +
			"headers@file"},
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
		"backend": {"traefik.ingress.kubernetes.io/service.serversTransport": "bank-mtls-client@kubernetescrd"},
		"web":     {"traefik.ingress.kubernetes.io/service.serverstransport": ns + "-backend-tls@kubernetescrd"},
	})
	createProfile(t, profile, "ingtraefikmw", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "auth",
		"ingress injects configuration into its controller: "+key+" names a Middleware of namespace payments")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "padded",
		"ingress injects configuration into its controller: "+key+" names a Middleware of namespace payments")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "backend",
		"service injects configuration into its controller: traefik.ingress.kubernetes.io/service.serversTransport names a ServersTransport of namespace bank")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 3 {
		t.Errorf("want the 2 Ingresses and the Service that name another namespace's Middleware (ServersTransport) failing and the web ones passing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
	for _, f := range rep.Status.Findings {
		if f.Resource.Name == "web" {
			t.Errorf("web names its own namespace's and shared Middlewares, got a finding: %+v", f)
		}
	}
}

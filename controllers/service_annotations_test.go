package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestServiceSnippetsFailTheReport: both HAProxy ingress controllers copy raw configuration from
// the annotations of the Services their Ingresses route to into the controller's shared
// configuration (HAProxy Ingress's config-backend, the HAProxy Kubernetes Ingress Controller's
// backend-config-snippet), and a namespace admin's Service with one passed, as no Service was
// judged. Each now fails the report: one with a small snippet, one whose 20 KiB of padding and
// 900 tiny annotations make the cache trim the others (inventory.TrimAnnotations), and one of
// 234 KiB with a 100 KiB snippet among 10, which the cache keeps bounded (under 24 KiB) with the
// message the whole Service gives; a Service without one passes. Emissary-ingress reads
// getambassador.io/config on every Service as its own resources, without RBAC on its CRDs: one
// declaring an AuthService, which validates every request of every host, on a Service the cache
// trims, fails; one with a Mapping, the annotation's ordinary use, passes. A Service of 55
// server-crts (220 KiB) naming other namespaces' Secrets fails, kept under 24 KiB; one whose
// 55 name its own namespace's passes.
func TestServiceSnippetsFailTheReport(t *testing.T) {
	const ns, profile = "svc-snippets", "svcsnippets"
	createNamespace(t, ns, map[string]string{"svcsnippets": "true"})
	padded := trimPadded(map[string]string{"haproxy-ingress.github.io/config-backend": "http-request set-header X-Tenant shop"})
	many := map[string]string{"haproxy.org/backend-config-snippet": "http-request set-header X-Tenant shop\n" + strings.Repeat("# padding\n", 10<<10)}
	for j := range 9 {
		many[fmt.Sprintf("z%d.example.com/config-backend", j)] = "http-request return status 200"
	}
	for j := range 34 {
		many[fmt.Sprintf("tenant.example.com/blob-%02d", j)] = strings.Repeat(fmt.Sprint(j%10), 4000)
	}
	// 55 server-crts of 4000 bytes, naming other namespaces' Secrets (crts) or the Service's own
	// (own-crts): the cache keeps the first 5 of the former as stand-ins and drops the latter.
	crts, ownCrts := map[string]string{}, map[string]string{}
	for j := range 55 {
		crts[fmt.Sprintf("tenant-%02d.example.com/server-crt", j)] = fmt.Sprintf("bank-%02d/", j) + strings.Repeat("c", 4000)
		ownCrts[fmt.Sprintf("tenant-%02d.example.com/server-crt", j)] = ns + "/" + strings.Repeat("c", 4000)
	}
	services := map[string]map[string]string{
		"crts":     crts,
		"own-crts": ownCrts,
		"snippet":  {"haproxy.org/backend-config-snippet": "http-request set-header X-Debug 1"},
		"padded":   padded,
		"many":     many,
		"web":      {"haproxy.org/check": "true"},
		"emissary": trimPadded(map[string]string{"getambassador.io/config": "apiVersion: getambassador.io/v3alpha1\n" +
			"kind: AuthService\nname: authentication\nauth_service: \"auth.svc-snippets:3000\"\n"}),
		"mapping": {"getambassador.io/config": "apiVersion: getambassador.io/v3alpha1\nkind: Mapping\nname: web\nprefix: /\nservice: web:80\n"},
	}
	createServices(t, ns, services)
	createProfile(t, profile, "svcsnippets", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Service", "snippet",
		"service injects configuration into its controller: haproxy.org/backend-config-snippet")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "padded",
		"service injects configuration into its controller: haproxy-ingress.github.io/config-backend")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "many",
		"service injects configuration into its controller: haproxy.org/backend-config-snippet, z0.example.com/config-backend, "+
			"z1.example.com/config-backend, z2.example.com/config-backend, z3.example.com/config-backend and 5 more")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "emissary",
		"service injects configuration into its controller: getambassador.io/config configures Emissary for every host (AuthService)")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "crts",
		"service injects configuration into its controller: tenant-00.example.com/server-crt names a Secret of namespace bank-00, "+
			"tenant-01.example.com/server-crt names a Secret of namespace bank-01, tenant-02.example.com/server-crt names a Secret of namespace bank-02, "+
			"tenant-03.example.com/server-crt names a Secret of namespace bank-03, tenant-04.example.com/server-crt names a Secret of namespace bank-04 and 50 more")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 5 {
		t.Errorf("want the 3 Services with snippets, the one with an Emissary AuthService and the one naming other namespaces' Secrets failing, web, mapping and own-crts passing, got %d failing findings: %+v", got, rep.Status.Findings)
	}

	// What the cache holds of the Services, as JSON.
	list := &corev1.ServiceList{}
	sizes, total := cachedJSON(t, list, ns, len(services))
	for i, n := range sizes {
		if n > 24<<10 {
			t.Errorf("the cache holds %d KiB of Service %s: want at most 24 KiB", n>>10, list.Items[i].Name)
		}
	}
	t.Logf("the cache holds %d KiB of %d Services", total>>10, len(services))
}

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// TestTenantIngressAnnotationsDoNotGrowTheCache: the operator's informer cache kept every
// Ingress's annotations whole (net-ingress-snippets reads them), so a namespace admin sized
// the operator's memory with them, up to 256 KiB an Ingress. It now keeps, past 16 KiB, what
// the checks read of them, bounded: 12 Ingresses of 60 annotations of 4000 bytes (234 KiB
// each) stay under 24 KiB each in the cache, and the snippet of one (a 100 KiB
// configuration-snippet among 10 snippet annotations and 34 others), the auth-url injection of
// another, the permanent-redirect injection (CVE-2023-5044) of a third and the 60 auth-secrets
// naming other namespaces' Secrets of a fourth still fail, with the message the whole Ingress
// gives, while the others, one with a plain redirect URL whose fragment has a #, one with 60
// auth-secrets naming its own namespace's, pass.
func TestTenantIngressAnnotationsDoNotGrowTheCache(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "ing-large", "inglarge"
	createNamespace(t, ns, map[string]string{"inglarge": "true"})
	const count = 12
	for i := range count {
		a := map[string]string{}
		blobs := 60
		if i == 0 {
			blobs = 34 // and the 100 KiB snippet: under the API server's 256 KiB
		}
		for j := range blobs {
			key := fmt.Sprintf("tenant.example.com/blob-%02d", j)
			switch i {
			case 4, 5:
				// auth-secrets the check reads: naming another namespace's Secret (4), or the
				// Ingress's own (5).
				key = fmt.Sprintf("tenant-%02d.example.com/auth-secret", j)
			}
			a[key] = strings.Repeat(fmt.Sprint((i+j)%10), 4000)
			if i == 4 {
				a[key] = fmt.Sprintf("payments-%02d/", j) + a[key]
			}
		}
		name := fmt.Sprintf("web-%d", i)
		switch i {
		case 0:
			name = "snippets"
			a["nginx.ingress.kubernetes.io/configuration-snippet"] = "more_set_headers \"X-Tenant: 1\";\n" + strings.Repeat("# padding\n", 10<<10)
			for j := range 9 {
				a[fmt.Sprintf("nginx.ingress.kubernetes.io/z%d-snippet", j)] = "return 200;"
			}
		case 1:
			name = "injection"
			a["nginx.ingress.kubernetes.io/auth-url"] = "http://auth.example/ok;\n" + strings.Repeat("x", 2000)
		case 2:
			name = "redirect"
			a["nginx.ingress.kubernetes.io/permanent-redirect"] = "https://shop.example.com/; } location /t { return 200 " + strings.Repeat("x", 2000)
		case 3:
			a["nginx.ingress.kubernetes.io/permanent-redirect"] = "https://docs.example.com/guide#install"
		case 4:
			name = "secrets"
		}
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: a},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: name + ".example.com"}}}}
		if err := k8s.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "inglarge", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "snippets",
		"ingress injects configuration into its controller: nginx.ingress.kubernetes.io/configuration-snippet, "+
			"nginx.ingress.kubernetes.io/z0-snippet, nginx.ingress.kubernetes.io/z1-snippet, nginx.ingress.kubernetes.io/z2-snippet, "+
			"nginx.ingress.kubernetes.io/z3-snippet and 5 more")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "injection",
		"nginx.ingress.kubernetes.io/auth-url carries nginx configuration syntax")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "redirect",
		"nginx.ingress.kubernetes.io/permanent-redirect carries nginx configuration syntax")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Ingress", "secrets",
		"ingress injects configuration into its controller: tenant-00.example.com/auth-secret names a Secret of namespace payments-00, "+
			"tenant-01.example.com/auth-secret names a Secret of namespace payments-01, tenant-02.example.com/auth-secret names a Secret of namespace payments-02, "+
			"tenant-03.example.com/auth-secret names a Secret of namespace payments-03, tenant-04.example.com/auth-secret names a Secret of namespace payments-04 and 55 more")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 4 {
		t.Errorf("want the 4 Ingresses with snippets, injections or other namespaces' Secrets failing and %d passing, got %d failing findings: %+v", count-4, got, rep.Status.Findings)
	}

	// What the cache holds of the Ingresses, as JSON.
	list := &networkingv1.IngressList{}
	sizes, total := cachedJSON(t, list, ns, count)
	for i, n := range sizes {
		if n > 24<<10 {
			t.Errorf("the cache holds %d KiB of Ingress %s: want at most 24 KiB", n>>10, list.Items[i].Name)
		}
	}
	t.Logf("the cache holds %d KiB of %d Ingresses with 234 KiB of annotations", total>>10, count)
}

// TestNoIngressCarriesTheCachesCounts: the operator's cache counts, in annotations, the snippet
// annotations and server aliases of an Ingress it left out, which the checks then count as
// findings, and the auth-proxy-set-headers references it left out, which leave the check
// NotAssessed. The API server refuses those annotations' keys, so that a tenant cannot write a
// count (nor, in scan, does a check read one: only the inventory turns them into a digest).
func TestNoIngressCarriesTheCachesCounts(t *testing.T) {
	for _, key := range []string{checks.IngressSnippetsOmittedAnnotation, checks.IngressAliasesOmittedAnnotation,
		checks.IngressConfigMapsOmittedAnnotation} {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "forged-count",
			Annotations: map[string]string{key: "1"}},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "forged.example.com"}}}}
		if err := k8s.Create(context.Background(), ing); !apierrors.IsInvalid(err) {
			t.Errorf("want the API server to refuse an Ingress with annotation %q, got %v", key, err)
		}
	}
}

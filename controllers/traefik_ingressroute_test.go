package controllers

import (
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTraefikIngressRouteCrossNamespaceFailsTheReport: a namespace admin's Traefik IngressRoute
// that names another namespace's Middleware (middlewares[].namespace) or ServersTransport
// (<namespace>-<name>@kubernetescrd) has Traefik, which reads every namespace's, use them on its
// behalf while its CRD provider's allowCrossNamespace is on; the kind was not read, and such an
// IngressRoute passed. One fails the report; one that names its own namespace's and traefik's
// passes.
func TestTraefikIngressRouteCrossNamespaceFailsTheReport(t *testing.T) {
	const ns, profile = "traefik-ir", "traefikir"
	createNamespace(t, ns, map[string]string{"traefikir": "true"})
	applyYAML(t, `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: harvest
  namespace: traefik-ir
spec:
  routes:
  - match: Host(`+"`harvest.example.com`"+`)
    kind: Rule
    middlewares:
    - name: basic-auth
      namespace: payments
    services:
    - name: web
      port: 443
      serversTransport: bank-mtls-client@kubernetescrd
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: web
  namespace: traefik-ir
spec:
  routes:
  - match: Host(`+"`web.example.com`"+`)
    kind: Rule
    middlewares:
    - name: auth
    - name: compress
      namespace: traefik
    services:
    - name: web
      port: 443
      serversTransport: backend-tls
`)
	createProfile(t, profile, "traefikir", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "IngressRoute", "harvest",
		"IngressRoute has Traefik use another namespace's objects on its behalf: spec.routes[0].middlewares[0] names a Middleware of namespace payments, "+
			"spec.routes[0].services[0].serversTransport names a ServersTransport of namespace bank")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 1 {
		t.Errorf("want harvest alone failing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
}

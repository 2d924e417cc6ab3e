package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAnIstioGatewaysHTTPServerIsJudged: a tenant's Istio Gateway (networking.istio.io), read
// beside the Gateway API's Gateways of the same kind name, with an HTTP server and no redirect
// fails net-ingress-tls in the tenant's report; when the tenant sets tls.httpsRedirect, the
// Gateway's change alone re-evaluates the namespace and the finding goes, and a TCP server added
// then fails net-service-exposure.
func TestAnIstioGatewaysHTTPServerIsJudged(t *testing.T) {
	createNamespace(t, "istio-tenant", map[string]string{"istiotest": "true"})
	const gateway = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: web
  namespace: istio-tenant
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
`
	applyYAML(t, gateway)
	createProfile(t, "istiotest", "istiotest", nil)
	findingSays := func(check, want string) func() error {
		return func() error {
			rep, err := getReport("istio-tenant", "istiotest")
			if err != nil {
				return err
			}
			f := finding(rep, check, "web", "")
			switch {
			case f == nil && want != "":
				return fmt.Errorf("no %s finding yet", check)
			case f == nil:
				return nil
			case want == "":
				return fmt.Errorf("%s finding still there: %q", check, f.Message)
			case !strings.Contains(f.Message, want):
				return fmt.Errorf("finding says %q", f.Message)
			}
			return nil
		}
	}
	eventually(t, 20*time.Second, "the Istio Gateway's net-ingress-tls finding",
		findingSays("net-ingress-tls", "server http (HTTP, port 80) without tls.httpsRedirect"))

	applyYAML(t, strings.Replace(gateway, "    hosts: [shop.example.com]\n", "    hosts: [shop.example.com]\n    tls: {httpsRedirect: true}\n", 1))
	eventually(t, 15*time.Second, "no net-ingress-tls finding once the server redirects", findingSays("net-ingress-tls", ""))

	applyYAML(t, gateway+`  - port: {number: 5432, name: postgres, protocol: TCP}
    hosts: ["*"]
`)
	eventually(t, 15*time.Second, "the Istio Gateway's net-service-exposure finding",
		findingSays("net-service-exposure", "server postgres (TCP, port 5432)"))
}

// TestAVirtualServiceOnAnotherNamespacesIstioGatewayIsJudgedAgainWhenItChanges: tenant
// istiovs-app's VirtualService binds a tcp route to the platform's shared Istio Gateway in
// istiovs-infra, read from the other namespace, which serves HTTPS only (no finding); when the
// platform team adds a TCP server open to every namespace, the Gateway's change alone
// re-evaluates the tenant's namespace, and its report lists the VirtualService's exposure.
func TestAVirtualServiceOnAnotherNamespacesIstioGatewayIsJudgedAgainWhenItChanges(t *testing.T) {
	createNamespace(t, "istiovs-infra", nil)
	createNamespace(t, "istiovs-app", map[string]string{"istiovstest": "true"})
	const gateway = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: istiovs-infra
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*/shop.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
`
	applyYAML(t, gateway)
	applyYAML(t, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: db
  namespace: istiovs-app
spec:
  hosts: ["*"]
  gateways: [istiovs-infra/shared]
  tcp:
  - route:
    - destination: {host: db.istiovs-app.svc.cluster.local}
`)
	createProfile(t, "istiovstest", "istiovstest", nil)
	eventually(t, 20*time.Second, "the tenant's report, without an exposure", func() error {
		rep, err := getReport("istiovs-app", "istiovstest")
		if err != nil {
			return err
		}
		if f := finding(rep, "net-service-exposure", "db", ""); f != nil {
			return fmt.Errorf("finding already: %q", f.Message)
		}
		return nil
	})
	applyYAML(t, gateway+`  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
`)
	eventuallyFinding(t, 15*time.Second, "istiovs-app", "istiovstest", "net-service-exposure", "", "db", "server tcp (TCP, port 31400) of Istio Gateway istiovs-infra/shared")
}

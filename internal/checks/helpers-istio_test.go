package checks

import (
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestIstioServerAdmitsNamespace: a server's hosts say whose VirtualServices may bind to it
// ([namespace/]dnsName, Istio's Gateway reference): none of the namespace's when every host
// names another one, so a tenant's tcp route on another namespace's stream server it cannot
// bind to publishes nothing.
func TestIstioServerAdmitsNamespace(t *testing.T) {
	tests := map[string]struct {
		hosts []string
		want  bool
	}{
		"a host without a namespace part admits every namespace": {hosts: []string{"db.example.com"}, want: true},
		"*/ admits every namespace":                              {hosts: []string{"*/*"}, want: true},
		"the tenant's own namespace part admits it":              {hosts: []string{"infra/*", "shop/db.example.com"}, want: true},
		"another namespace's part does not":                      {hosts: []string{"infra/*"}, want: false},
		"./ admits the Gateway's namespace only":                 {hosts: []string{"./*"}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (istioServer{Hosts: tc.hosts}).admitsNamespace("infra", "shop"); got != tc.want {
				t.Errorf("admitsNamespace(%v) = %v, want %v", tc.hosts, got, tc.want)
			}
		})
	}
	if !(istioServer{Hosts: []string{"./*"}}).admitsNamespace("infra", "infra") {
		t.Error("./ does not admit the Gateway's own namespace")
	}
}

// TestIstioServerBindsHosts: a VirtualService binds to a server where one host admits its
// namespace and meets one of its hosts; a server for other names, or for another namespace's
// VirtualServices only, serves none of it.
func TestIstioServerBindsHosts(t *testing.T) {
	tests := map[string]struct {
		hosts []string
		want  bool
	}{
		"a wildcard below which the host lies":     {hosts: []string{"*/*.example.com"}, want: true},
		"any host":                                 {hosts: []string{"*"}, want: true},
		"another name":                             {hosts: []string{"*/legacy.example.com"}, want: false},
		"the host, for another namespace only":     {hosts: []string{"infra/shop.example.com"}, want: false},
		"the host, for the Gateway's namespace":    {hosts: []string{"./shop.example.com"}, want: false},
		"the host, for the tenant's namespace":     {hosts: []string{"shop/shop.example.com"}, want: true},
		"another name, then a wildcard for others": {hosts: []string{"*/legacy.example.com", "infra/*"}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (istioServer{Hosts: tc.hosts}).bindsHosts("infra", "shop", []string{"shop.example.com"}); got != tc.want {
				t.Errorf("bindsHosts(%v) = %v, want %v", tc.hosts, got, tc.want)
			}
		})
	}
}

// TestVirtualServiceOnARefusedIstioGateway: the shared Istio Gateway a tenant's VirtualService
// binds to serves HTTPS only, as written, but the API server refuses it for its label value
// (ValidateObjectMeta, as k8s.io/apiextensions-apiserver v0.37.2 validates every custom
// resource's metadata, on create and on update): the manifest neither creates Gateway
// infra/shared nor changes one that exists, whose servers may serve plain HTTP. In a scan
// net-ingress-tls cannot tell (it passed); in the operator's view the Gateway exists as read.
func TestVirtualServiceOnARefusedIstioGateway(t *testing.T) {
	const docs = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: infra
  labels: {owner: "platform team!"}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*/*.example.com"]
    tls: {mode: SIMPLE, credentialName: cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
  namespace: shop
spec:
  hosts: [shop.example.com]
  gateways: [infra/shared]
  http:
  - route:
    - destination: {host: web.shop.svc.cluster.local}
`
	holdResult(t, netIngressTLS, docs, false, "VirtualService", engine.StatusNotAssessed, "Istio Gateway infra/shared, which the API server refuses (metadata.labels")
	holdResult(t, netIngressTLS, docs, true, "VirtualService", engine.StatusPass, "")
}

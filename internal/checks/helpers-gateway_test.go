package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestGatewayHostnamesIntersect holds hostnameIntersects to the Gateway API's hostname
// intersection (a wildcard is a suffix match over any number of labels, never the suffix itself).
func TestGatewayHostnamesIntersect(t *testing.T) {
	cases := map[string]struct {
		listener, route string
		want            bool
	}{
		"the same host":                                {"shop.example.com", "shop.example.com", true},
		"hosts differ in case only":                    {"Shop.Example.com", "shop.example.com", true},
		"two hosts":                                    {"shop.example.com", "api.example.com", false},
		"a listener wildcard over one label":           {"*.example.com", "shop.example.com", true},
		"a listener wildcard over two labels":          {"*.example.com", "a.shop.example.com", true},
		"a listener wildcard and its suffix":           {"*.example.com", "example.com", false},
		"a route wildcard over the listener's host":    {"shop.example.com", "*.example.com", true},
		"a route wildcard and the listener's suffix":   {"example.com", "*.example.com", false},
		"a wildcard inside another":                    {"*.example.com", "*.shop.example.com", true},
		"the other wildcard inside":                    {"*.shop.example.com", "*.example.com", true},
		"two wildcards apart":                          {"*.example.com", "*.example.org", false},
		"a wildcard whose suffix ends another's label": {"*.ample.com", "shop.example.com", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := hostnameIntersects(c.listener, c.route); got != c.want {
				t.Errorf("hostnameIntersects(%q, %q) = %v, want %v", c.listener, c.route, got, c.want)
			}
		})
	}
}

// TestGatewayUnnamedHosts holds unnamedHosts to the host a route answers on one listener: the
// narrower of its hostname and the listener's.
func TestGatewayUnnamedHosts(t *testing.T) {
	cases := map[string]struct {
		listener  string
		protocol  string
		hostnames []string
		want      string
	}{
		"neither names a host":                          {"", "HTTPS", nil, "neither the route nor listener l names a host: it answers any host"},
		"the listener names one host":                   {"shop.example.com", "HTTPS", nil, ""},
		"the listener's wildcard":                       {"*.example.com", "HTTPS", nil, `wildcard hostname "*.example.com" of listener l`},
		"the route names one host":                      {"", "HTTPS", []string{"shop.example.com"}, ""},
		"the route's wildcard on any host":              {"", "HTTPS", []string{"*.example.com"}, `wildcard hostname "*.example.com"`},
		"the route's wildcard on one host":              {"shop.example.com", "HTTPS", []string{"*.example.com"}, ""},
		"the route's wildcard inside the listener's":    {"*.example.com", "HTTPS", []string{"*.shop.example.com"}, `wildcard hostname "*.shop.example.com"`},
		"the listener's wildcard inside the route's":    {"*.shop.example.com", "HTTPS", []string{"*.example.com"}, `wildcard hostname "*.shop.example.com" of listener l`},
		"a wildcard the listener does not serve":        {"*.example.org", "HTTPS", []string{"*.example.com", "shop.example.org"}, ""},
		"a TCP listener, which matches no host name":    {"", "TCP", nil, ""},
		"a TLS listener, whose SNI names a host or not": {"", "TLS", nil, "neither the route nor listener l names a host: it answers any host"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := gatewayListener{Name: "l", Protocol: c.protocol}
			if c.listener != "" {
				l.Hostname = &c.listener
			}
			got := strings.Join(unnamedHosts(routeAttachment{listener: l, where: "listener l"}, c.hostnames), "; ")
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestListenerSetOfARefusedGateway: a ListenerSet's parent Gateway, as written, admits no
// ListenerSet (spec.allowedListeners from None, the default), but the API server refuses it for
// its annotation key, which is not a qualified name (ValidateObjectMeta, as
// k8s.io/apiextensions-apiserver v0.37.2 validates every custom resource's metadata, on create
// and on update): the manifest neither creates Gateway infra/shared nor changes one that exists,
// which may admit the set's TCP listener. In a scan net-service-exposure cannot tell (it said
// NotApplicable: the set adds nothing); in the operator's view the Gateway exists as read.
func TestListenerSetOfARefusedGateway(t *testing.T) {
	const docs = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: infra
  annotations: {"owner team": platform}
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs:
      - name: shared-tls
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: db
  namespace: shop
spec:
  parentRef:
    name: shared
    namespace: infra
  listeners:
  - name: postgres
    protocol: TCP
    port: 5432
`
	for _, c := range []struct {
		complete bool
		want     engine.Status
		message  string
	}{
		{false, engine.StatusNotAssessed, "Gateway infra/shared, which the API server refuses (metadata.annotations"},
		{true, engine.StatusNotApplicable, "does not admit the ListenerSets of namespace shop"},
	} {
		holdResult(t, netServiceExposure, docs, c.complete, "ListenerSet", c.want, c.message)
	}
}

// holdResult judges docs with check c alone, in a scan (complete false) or as the operator does,
// and holds the one result on an object of kind to status want with a message containing message.
func holdResult(t *testing.T, c *engine.Check, docs string, complete bool, kind string, want engine.Status, message string) {
	t.Helper()
	objs, errs := manifest.Decode("objects.yaml", []byte(docs))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	plan := engine.Compile([]*engine.Check{c}, nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	found := 0
	for _, r := range plan.Evaluate(engine.NewInventory(objs, complete), nil, opts).Results {
		if r.Object == nil || r.Object.Kind != kind {
			continue
		}
		found++
		if r.Status != want || !strings.Contains(r.Message, message) {
			t.Errorf("complete %v: %s %s: got %s %q, want %s containing %q", complete, kind, r.Object.Name, r.Status, r.Message, want, message)
		}
	}
	if found != 1 {
		t.Errorf("complete %v: %d results for a %s, want 1", complete, found, kind)
	}
}

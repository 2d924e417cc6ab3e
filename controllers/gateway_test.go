package controllers

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// applyYAML creates or replaces an object the test writes as YAML (the Gateway API's kinds have
// no Go type here).
func applyYAML(t *testing.T, doc string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(u.GroupVersionKind())
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(u), existing); err == nil {
		u.SetResourceVersion(existing.GetResourceVersion())
		if err := k8s.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := k8s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// eventuallyAssessedPass waits until criterion passes in namespace's report of profile with every
// check that supports it assessed (unassessedChecks 0): a pass not resting on part of them.
func eventuallyAssessedPass(t *testing.T, timeout time.Duration, namespace, profile string, criterion v1alpha1.Criterion) {
	t.Helper()
	eventually(t, timeout, string(criterion)+" passes, fully assessed", func() error {
		rep, err := getReport(namespace, profile)
		if err != nil {
			return err
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == criterion {
				if c.Status != v1alpha1.CriterionPass || c.UnassessedChecks != 0 {
					return fmt.Errorf("%s is %s with %d unassessed checks", criterion, c.Status, c.UnassessedChecks)
				}
				return nil
			}
		}
		return fmt.Errorf("no %s in the report", criterion)
	})
}

// eventuallyFinding waits until namespace's report of profile lists check's finding on the
// resource name (of kind, or of any kind for ""), its message holding want.
func eventuallyFinding(t *testing.T, timeout time.Duration, namespace, profile, check, kind, name, want string) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%s's %s finding on %s", namespace, check, name), func() error {
		rep, err := getReport(namespace, profile)
		if err != nil {
			return err
		}
		f := finding(rep, check, name, "")
		if f == nil {
			return fmt.Errorf("not yet")
		}
		if (kind != "" && f.Resource.Kind != kind) || !strings.Contains(f.Message, want) {
			return fmt.Errorf("finding on %s says %q, want %s %q", f.Resource.Kind, f.Message, cmp.Or(kind, "a resource"), want)
		}
		return nil
	})
}

const sharedGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gw-infra
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
    allowedRoutes:
      namespaces: {from: All}
`

// TestARouteIsJudgedByTheSharedGatewayOfAnotherNamespace: a tenant's HTTPRoute attaches to a
// shared Gateway in another namespace, which the evaluation of the tenant's namespace reads
// (CC6.7 Pass while the Gateway listens on HTTPS only, not NotAssessed); when the platform team
// adds an HTTP listener open to every namespace, the change alone re-evaluates the tenant's
// namespace and its report lists the route served over plain HTTP.
func TestARouteIsJudgedByTheSharedGatewayOfAnotherNamespace(t *testing.T) {
	createNamespace(t, "gw-infra", nil)
	createNamespace(t, "gw-tenant", map[string]string{"gwtest": "true"})
	applyYAML(t, sharedGateway)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: gw-tenant
spec:
  parentRefs:
  - name: shared
    namespace: gw-infra
  rules:
  - backendRefs:
    - name: web
      port: 80
`)
	createProfile(t, "gwtest", "gwtest", nil)
	passesThenFailsOverHTTP(t, "gw-tenant", "gwtest", sharedGateway, "listener http (HTTP, port 80) of Gateway gw-infra/shared")
}

// TestARouteAskingForTheDefaultGatewaysIsJudgedAgainWhenOneChanges: with the Gateway API's
// experimental fields (spec.defaultScope on Gateways, spec.useDefaultGateways on routes, GEP-3793),
// a tenant's HTTPRoute that names no parent but asks for the default Gateways is served by the
// platform's default Gateway in another namespace; when the platform team adds an HTTP listener
// open to every namespace, the change alone re-evaluates the tenant's namespace, and its report
// lists the route served over plain HTTP.
func TestARouteAskingForTheDefaultGatewaysIsJudgedAgainWhenOneChanges(t *testing.T) {
	createNamespace(t, "gwdef-infra", nil)
	createNamespace(t, "gwdef-tenant", map[string]string{"gwdeftest": "true"})
	const defaultGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: default
  namespace: gwdef-infra
spec:
  gatewayClassName: example
  defaultScope: All
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
    allowedRoutes:
      namespaces: {from: All}
`
	const route = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: gwdef-tenant
spec:
  useDefaultGateways: All
  hostnames: [shop.example.com]
  rules:
  - backendRefs:
    - name: web
      port: 80
`
	// The suite installs the experimental CRDs: the API server keeps both fields (under the
	// standard ones it would prune them, and the test would fail here).
	kept := func(kind, ns, name string, path ...string) func() error {
		return func() error {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("gateway.networking.k8s.io/v1")
			u.SetKind(kind)
			if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
				return err
			}
			if _, ok, _ := unstructured.NestedString(u.Object, path...); !ok {
				return fmt.Errorf("%s %s/%s has no %s", kind, ns, name, strings.Join(path, "."))
			}
			return nil
		}
	}
	applyYAML(t, defaultGateway)
	applyYAML(t, route)
	for _, err := range []error{
		kept("Gateway", "gwdef-infra", "default", "spec", "defaultScope")(),
		kept("HTTPRoute", "gwdef-tenant", "web", "spec", "useDefaultGateways")(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, "gwdeftest", "gwdeftest", nil)
	passesThenFailsOverHTTP(t, "gwdef-tenant", "gwdeftest", defaultGateway, "listener http (HTTP, port 80) of default Gateway gwdef-infra/default")
}

// passesThenFailsOverHTTP waits until CC6.7 passes, fully assessed, in namespace ns's report of
// profile, whose HTTPRoute web the Gateway of gateway (YAML) serves over HTTPS; then adds to that
// Gateway an HTTP listener open to every namespace and waits until the report lists the route's
// net-ingress-tls finding naming where: the Gateway's change alone re-evaluates the namespace.
func passesThenFailsOverHTTP(t *testing.T, ns, profile, gateway, where string) {
	t.Helper()
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "CC6.7")

	applyYAML(t, strings.Replace(gateway, "  listeners:\n", `  listeners:
  - name: http
    protocol: HTTP
    port: 80
    allowedRoutes:
      namespaces: {from: All}
`, 1))
	eventuallyFinding(t, 15*time.Second, ns, profile, "net-ingress-tls", "", "web", where)
}

// TestATenantsGatewayWithATCPListenerIsAnExposure: a tenant's own Gateway whose listeners are
// HTTPS only is the Ingress layer (CC6.6 passes, fully assessed, beside a ClusterIP Service); when
// the tenant adds a TCP listener, which the Gateway's controller publishes at its address and
// forwards unopened as a LoadBalancer Service would, the Gateway's change alone re-evaluates the
// namespace and its report lists the Gateway's net-service-exposure finding.
func TestATenantsGatewayWithATCPListenerIsAnExposure(t *testing.T) {
	createNamespace(t, "gwexp-tenant", map[string]string{"gwexptest": "true"})
	applyYAML(t, `
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: gwexp-tenant
spec:
  selector: {app: db}
  ports:
  - {name: postgres, port: 5432}
`)
	const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: gwexp-tenant
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
`
	applyYAML(t, gateway)
	createProfile(t, "gwexptest", "gwexptest", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-service-exposure") })
	eventuallyAssessedPass(t, 20*time.Second, "gwexp-tenant", "gwexptest", "CC6.6")
	applyYAML(t, gateway+`  - name: postgres
    protocol: TCP
    port: 5432
`)
	eventuallyFinding(t, 15*time.Second, "gwexp-tenant", "gwexptest", "net-service-exposure", "Gateway", "edge", "listener postgres (TCP, port 5432)")
}

// TestATenantsRouteThroughASharedGatewaysTCPListenerIsTheTenantsExposure: a tenant's TCPRoute
// names the platform's shared Gateway in another namespace, whose listeners are HTTPS only: it
// attaches to none, and the tenant's CC6.6 passes, fully assessed. When the platform team adds a
// TCP listener open to every namespace, the Gateway's change alone re-evaluates the tenant's
// namespace, and the tenant's report (not only the platform's) lists the route, which now
// publishes the tenant's database at the Gateway's address.
func TestATenantsRouteThroughASharedGatewaysTCPListenerIsTheTenantsExposure(t *testing.T) {
	createNamespace(t, "gwshr-infra", nil)
	createNamespace(t, "gwshr-tenant", map[string]string{"gwshrtest": "true"})
	applyYAML(t, `
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: gwshr-tenant
spec:
  selector: {app: db}
  ports:
  - {name: postgres, port: 5432}
`)
	const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gwshr-infra
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
    allowedRoutes:
      namespaces: {from: All}
`
	applyYAML(t, gateway)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata:
  name: db
  namespace: gwshr-tenant
spec:
  parentRefs:
  - name: shared
    namespace: gwshr-infra
  rules:
  - backendRefs:
    - name: db
      port: 5432
`)
	createProfile(t, "gwshrtest", "gwshrtest", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-service-exposure") })
	eventuallyAssessedPass(t, 20*time.Second, "gwshr-tenant", "gwshrtest", "CC6.6")
	applyYAML(t, gateway+`  - name: postgres
    protocol: TCP
    port: 5432
    allowedRoutes:
      namespaces: {from: All}
`)
	eventually(t, 15*time.Second, "the tenant's TCPRoute's net-service-exposure finding", func() error {
		rep, err := getReport("gwshr-tenant", "gwshrtest")
		if err != nil {
			return err
		}
		f := finding(rep, "net-service-exposure", "db", "")
		if f == nil {
			return fmt.Errorf("not yet")
		}
		if want := "listener postgres (TCP, port 5432) of Gateway gwshr-infra/shared"; !strings.Contains(f.Message, want) || f.Resource.Kind != "TCPRoute" {
			return fmt.Errorf("finding on %s says %q, want %q", f.Resource.Kind, f.Message, want)
		}
		if s := criterionStatus(rep.Status.Criteria, "CC6.6"); s != v1alpha1.CriterionFail {
			return fmt.Errorf("CC6.6 is %s", s)
		}
		return nil
	})
}

// TestATenantsListenerSetIsJudgedWhenTheSharedGatewayAdmitsIt: a tenant's ListenerSet adds a TCP
// listener to the platform's shared Gateway in another namespace, which admits no ListenerSets:
// it adds nothing, and the tenant's CC6.6 passes, fully assessed. When the platform team lets
// every namespace's ListenerSets attach (spec.allowedListeners from All), the Gateway's change
// alone re-evaluates the tenant's namespace, and the tenant's report lists the ListenerSet, whose
// TCP listener the Gateway now serves at its address.
func TestATenantsListenerSetIsJudgedWhenTheSharedGatewayAdmitsIt(t *testing.T) {
	createNamespace(t, "gwls-infra", nil)
	createNamespace(t, "gwls-tenant", map[string]string{"gwlstest": "true"})
	const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gwls-infra
spec:
  gatewayClassName: example
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
`
	applyYAML(t, gateway)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: db
  namespace: gwls-tenant
spec:
  parentRef:
    name: shared
    namespace: gwls-infra
  listeners:
  - name: postgres
    protocol: TCP
    port: 5432
`)
	applyYAML(t, `
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: gwls-tenant
spec:
  selector: {app: db}
  ports:
  - {name: postgres, port: 5432}
`)
	createProfile(t, "gwlstest", "gwlstest", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-service-exposure") })
	eventually(t, 20*time.Second, "CC6.6 passes while the shared Gateway admits no ListenerSets", func() error {
		rep, err := getReport("gwls-tenant", "gwlstest")
		if err != nil {
			return err
		}
		if s := criterionStatus(rep.Status.Criteria, "CC6.6"); s != v1alpha1.CriterionPass {
			return fmt.Errorf("CC6.6 is %s", s)
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "CC6.6" && c.UnassessedChecks != 0 {
				return fmt.Errorf("CC6.6 has %d unassessed checks", c.UnassessedChecks)
			}
		}
		return nil
	})
	applyYAML(t, strings.Replace(gateway, "  listeners:\n", "  allowedListeners:\n    namespaces: {from: All}\n  listeners:\n", 1))
	eventuallyFinding(t, 15*time.Second, "gwls-tenant", "gwlstest", "net-service-exposure", "ListenerSet", "db", "listener postgres (TCP, port 5432)")
}

// TestARouteOnAnotherNamespacesListenerSetIsJudgedAgainWhenItChanges: an HTTPRoute attaches to
// the ListenerSet of another namespace, which adds an HTTPS listener open to every namespace to
// the shared Gateway of a third (which admits every namespace's ListenerSets): the evaluation of
// the route's namespace reads the ListenerSet there, and CC6.7 passes, fully assessed. When the
// ListenerSet's owners add an HTTP listener open to every namespace, the ListenerSet's change
// alone re-evaluates the route's namespace, and its report lists the route served over plain HTTP.
func TestARouteOnAnotherNamespacesListenerSetIsJudgedAgainWhenItChanges(t *testing.T) {
	createNamespace(t, "gwlsr-infra", nil)
	createNamespace(t, "gwlsr-team", nil)
	createNamespace(t, "gwlsr-app", map[string]string{"gwlsrtest": "true"})
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gwlsr-infra
spec:
  gatewayClassName: example
  allowedListeners:
    namespaces: {from: All}
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
`)
	const listenerSet = `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: team
  namespace: gwlsr-team
spec:
  parentRef:
    name: shared
    namespace: gwlsr-infra
  listeners:
  - name: https
    protocol: HTTPS
    port: 8443
    tls:
      certificateRefs: [{name: cert}]
    allowedRoutes:
      namespaces: {from: All}
`
	applyYAML(t, listenerSet)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: gwlsr-app
spec:
  parentRefs:
  - kind: ListenerSet
    name: team
    namespace: gwlsr-team
  rules:
  - backendRefs:
    - name: web
      port: 80
`)
	createProfile(t, "gwlsrtest", "gwlsrtest", nil)
	passesThenFailsOverHTTP(t, "gwlsr-app", "gwlsrtest", listenerSet, "listener http (HTTP, port 80) of ListenerSet gwlsr-team/team")
}

// TestARouteOnAListenerSetIsJudgedAgainWhenItsGatewayStopsAdmittingIt: an HTTPRoute attaches to
// the HTTP listener of another namespace's ListenerSet, which the shared Gateway of a third
// admits: the route is served over plain HTTP and its report says so. When the platform team stops
// admitting ListenerSets (spec.allowedListeners from None), the Gateway's change alone
// re-evaluates the route's namespace, two references away (route to ListenerSet to Gateway), and
// the finding goes: nothing serves the route any more.
func TestARouteOnAListenerSetIsJudgedAgainWhenItsGatewayStopsAdmittingIt(t *testing.T) {
	createNamespace(t, "gwls2-infra", nil)
	createNamespace(t, "gwls2-team", nil)
	createNamespace(t, "gwls2-app", map[string]string{"gwls2test": "true"})
	const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gwls2-infra
spec:
  gatewayClassName: example
  allowedListeners:
    namespaces: {from: All}
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      certificateRefs: [{name: cert}]
`
	applyYAML(t, gateway)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: team
  namespace: gwls2-team
spec:
  parentRef:
    name: shared
    namespace: gwls2-infra
  listeners:
  - name: http
    protocol: HTTP
    port: 8080
    allowedRoutes:
      namespaces: {from: All}
`)
	applyYAML(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: gwls2-app
spec:
  parentRefs:
  - kind: ListenerSet
    name: team
    namespace: gwls2-team
  rules:
  - backendRefs:
    - name: web
      port: 80
`)
	createProfile(t, "gwls2test", "gwls2test", nil)
	eventually(t, 20*time.Second, "the route's net-ingress-tls finding", func() error {
		rep, err := getReport("gwls2-app", "gwls2test")
		if err != nil {
			return err
		}
		if f := finding(rep, "net-ingress-tls", "web", ""); f == nil || !strings.Contains(f.Message, "listener http (HTTP, port 8080) of ListenerSet gwls2-team/team") {
			return fmt.Errorf("finding %+v", f)
		}
		return nil
	})
	applyYAML(t, strings.Replace(gateway, "{from: All}", "{from: None}", 1))
	eventually(t, 15*time.Second, "the finding goes", func() error {
		rep, err := getReport("gwls2-app", "gwls2test")
		if err != nil {
			return err
		}
		if f := finding(rep, "net-ingress-tls", "web", ""); f != nil {
			return fmt.Errorf("still %q", f.Message)
		}
		return nil
	})
}

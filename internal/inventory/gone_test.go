package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAnAddOnVersionNoLongerServedIsUnseen: a real API server whose Gateway API serves TCPRoutes
// at v1alpha2 alone when the operator starts, so that it watches them there; then the CRD is
// upgraded to serve v1 only. The operator's informer can no longer list or watch v1alpha2 and its
// cache holds the TCPRoutes as they were (a route made since, at v1, is never read), while the
// evaluations read the cache. The next Recheck finds TCPRoute no longer served at the version
// read and keeps it unseen, naming the restart it takes, so what TCPRoutes decide is NotAssessed
// rather than judged on a cache that stopped. (Before the evaluations read the cache, a LIST of
// v1alpha2 failed every evaluation instead.) Without Discovery, Recheck did not notice.
func TestAnAddOnVersionNoLongerServedIsUnseen(t *testing.T) {
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crd := tcpRouteCRD(t, "v1alpha2")
	if err := c.Create(ctx, crd); err != nil {
		t.Fatal(err)
	}
	waitServed(t, disco, "gateway.networking.k8s.io/v1alpha2", true)

	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	kinds, err := inventory.AvailableKinds(mapper)
	if err != nil {
		t.Fatal(err)
	}
	informers, err := cache.New(cfg, cache.Options{Mapper: mapper})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = informers.Start(ctx) }()
	g := &inventory.Gatherer{Reader: informers, Kinds: kinds, Client: c, Mapper: mapper, Discovery: disco}
	watched := false
	for _, k := range kinds {
		watched = watched || k.GVK.Kind == "TCPRoute" && k.GVK.Version == "v1alpha2"
	}
	if !watched {
		t.Fatal("the operator does not read TCPRoutes at v1alpha2")
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "echo"}}); err != nil {
		t.Fatal(err)
	}
	route := &unstructured.Unstructured{}
	route.SetAPIVersion("gateway.networking.k8s.io/v1alpha2")
	route.SetKind("TCPRoute")
	route.SetNamespace("echo")
	route.SetName("tcp-echo")
	if err := c.Create(ctx, route); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the cache holding TCPRoute tcp-echo", func() error {
		if !gathers(t, g, "tcp-echo") {
			return fmt.Errorf("not gathered")
		}
		return nil
	})
	if err := g.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	if u, ok := g.AllUnseen()["TCPRoute"]; ok {
		t.Fatalf("TCPRoute is unseen while served: %+v", u)
	}

	// The upgrade: v1 served and stored, v1alpha2 no longer served.
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(crd.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(crd), current); err != nil {
		t.Fatal(err)
	}
	upgraded := tcpRouteCRD(t, "v1")
	upgraded.SetResourceVersion(current.GetResourceVersion())
	if err := c.Update(ctx, upgraded); err != nil {
		t.Fatal(err)
	}
	waitServed(t, disco, "gateway.networking.k8s.io/v1alpha2", false)
	if err := g.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	u, ok := g.AllUnseen()["TCPRoute"]
	if !ok {
		t.Fatalf("TCPRoute, no longer served at v1alpha2, is not unseen: %v", g.AllUnseen())
	}
	if !u.Namespaced || !strings.Contains(u.Reason, "no longer serves TCPRoute gateway.networking.k8s.io/v1alpha2") || !strings.Contains(u.Reason, "restart") {
		t.Errorf("TCPRoute: %+v", u)
	}
}

// gathers reports whether g's gathering of namespace echo holds the TCPRoute name.
func gathers(t *testing.T, g *inventory.Gatherer, name string) bool {
	t.Helper()
	objs, err := g.Gather(context.Background(), inventory.Scope{Namespaces: map[string]bool{"echo": true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Kind == "TCPRoute" && o.Name == name {
			return true
		}
	}
	return false
}

// tcpRouteCRD is a TCPRoute CRD (schema left open) serving only version served; v1alpha2 stays
// listed, unserved, as the stored version an upgrade must keep.
func tcpRouteCRD(t *testing.T, served string) *unstructured.Unstructured {
	t.Helper()
	version := func(name string) string {
		return fmt.Sprintf(`
  - name: %s
    served: %t
    storage: %t
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true`, name, name == served, name == served)
	}
	versions := version("v1alpha2")
	if served != "v1alpha2" {
		versions += version(served)
	}
	crd := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: tcproutes.gateway.networking.k8s.io
  annotations:
    api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/1
spec:
  group: gateway.networking.k8s.io
  scope: Namespaced
  names:
    kind: TCPRoute
    listKind: TCPRouteList
    plural: tcproutes
    singular: tcproute
  versions:`+versions+"\n"), &crd.Object); err != nil {
		t.Fatal(err)
	}
	return crd
}

// waitServed waits until discovery says whether gv serves TCPRoute.
func waitServed(t *testing.T, d discovery.ServerResourcesInterface, gv string, want bool) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("discovery of %s serving TCPRoute: %t", gv, want), func() error {
		list, err := d.ServerResourcesForGroupVersion(gv)
		served := false
		if err == nil {
			for _, r := range list.APIResources {
				served = served || r.Kind == "TCPRoute"
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		if served != want {
			return fmt.Errorf("TCPRoute served %t", served)
		}
		return nil
	})
}

// TestGoneAsksDiscoveryOncePerGroupVersion: optional kinds the API server serves at the version
// read are not gone; a kind missing from its group version's resources, or whose group version
// the API server does not know, is; built-in kinds are not asked about. An error other than not
// found is returned (Recheck keeps the last answer), never read as gone.
func TestGoneAsksDiscoveryOncePerGroupVersion(t *testing.T) {
	kind := func(group, version, name string) inventory.Kind {
		k, ok := inventory.ByKind(name)
		if !ok {
			t.Fatalf("no kind %s", name)
		}
		k.GVK = schema.GroupVersionKind{Group: group, Version: version, Kind: name}
		return k
	}
	gw := "gateway.networking.k8s.io"
	kinds := []inventory.Kind{
		kind(gw, "v1", "HTTPRoute"), kind(gw, "v1", "Gateway"),
		kind("aquasecurity.github.io", "v1alpha1", "VulnerabilityReport"),
		kind("apps", "v1", "Deployment"),
	}
	d := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}
	d.Resources = []*metav1.APIResourceList{{GroupVersion: gw + "/v1", APIResources: []metav1.APIResource{
		{Name: "httproutes", Kind: "HTTPRoute"}, {Name: "httproutes/status", Kind: "HTTPRoute"},
		{Name: "gateways/status", Kind: "Gateway"}}}}
	gone, err := inventory.Gone(d, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gone["HTTPRoute"]; ok {
		t.Errorf("HTTPRoute, served, is gone: %v", gone)
	}
	for _, k := range []string{"Gateway", "VulnerabilityReport"} {
		if _, ok := gone[k]; !ok {
			t.Errorf("%s, not served, is not gone: %v", k, gone)
		}
	}
	if _, ok := gone["Deployment"]; ok {
		t.Errorf("a built-in kind is gone: %v", gone)
	}
	if n := len(d.Actions()); n != 2 {
		t.Errorf("discovery asked %d times, want once per group version (2)", n)
	}

	d.PrependReactor("*", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd is down")
	})
	if _, err := inventory.Gone(d, kinds); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("an unavailable API server: err %v, want it returned", err)
	}
}

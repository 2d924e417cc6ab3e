package inventory_test

import (
	"context"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestTheOperatorReadsTCPRoutesOfAnOlderGatewayAPI: a real API server with the Gateway API
// v1.5.0's experimental CRDs, which serve TCPRoutes at v1alpha2 only. The kinds the operator
// reads include TCPRoute at v1alpha2, and a namespace's gathering holds the TCPRoute (before,
// the operator read no TCPRoute of such a cluster: its v1 was not served).
func TestTheOperatorReadsTCPRoutesOfAnOlderGatewayAPI(t *testing.T) {
	mod, err := testenv.GatewayAPIModule("v1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	env, cfg, err := testenv.Start(func(e *envtest.Environment) {
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, filepath.Join(mod, "config", "crd", "experimental"))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
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
	c, err := client.New(cfg, client.Options{Mapper: mapper})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "echo"}}); err != nil {
		t.Fatal(err)
	}
	route := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(`
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: tcp-echo
  namespace: echo
spec:
  parentRefs:
  - name: gateway
    sectionName: tcp
  rules:
  - backendRefs:
    - name: tcp-echo
      port: 9000
`), &route.Object); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, route); err != nil {
		t.Fatal(err)
	}
	objs, err := (&inventory.Gatherer{Reader: c, Kinds: kinds}).Gather(ctx, inventory.Scope{Namespaces: map[string]bool{"echo": true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Kind == "TCPRoute" && o.Name == "tcp-echo" {
			if o.APIVersion != "gateway.networking.k8s.io/v1alpha2" {
				t.Errorf("TCPRoute tcp-echo is read as %s", o.APIVersion)
			}
			return
		}
	}
	var read []string
	for _, k := range kinds {
		if k.Optional {
			read = append(read, k.GVK.String())
		}
	}
	t.Errorf("the namespace's gathering holds no TCPRoute tcp-echo (optional kinds read: %v)", read)
}

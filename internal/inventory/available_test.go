package inventory

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestAvailableKindsReadsTheGatewayAPIsOlderVersions: a cluster with the Gateway API v1.5.0's
// experimental CRDs serves TCPRoutes and UDPRoutes at v1alpha2 only, and one older than v1.5.0
// serves TLSRoutes at v1alpha3 and v1alpha2 only. The operator reads them at the version the API
// server serves (their specs are the same for the checks), not at none: net-ingress-tls judged no
// TCPRoute of such a cluster, and CC6.7 said nothing of what they expose.
func TestAvailableKindsReadsTheGatewayAPIsOlderVersions(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, k := range Kinds {
		switch k.GVK.Kind {
		case "TCPRoute", "UDPRoute", "TLSRoute":
			continue
		}
		scope := meta.RESTScopeNamespace
		if !k.Namespaced {
			scope = meta.RESTScopeRoot
		}
		mapper.Add(k.GVK, scope)
	}
	gw := "gateway.networking.k8s.io"
	mapper.Add(schema.GroupVersionKind{Group: gw, Version: "v1alpha2", Kind: "TCPRoute"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: gw, Version: "v1alpha2", Kind: "UDPRoute"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: gw, Version: "v1alpha2", Kind: "TLSRoute"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: gw, Version: "v1alpha3", Kind: "TLSRoute"}, meta.RESTScopeNamespace)

	kinds, err := AvailableKinds(mapper)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"TCPRoute": "v1alpha2", "UDPRoute": "v1alpha2", "TLSRoute": "v1alpha3", "HTTPRoute": "v1", "Gateway": "v1"}
	for _, k := range kinds {
		v, ok := want[k.GVK.Kind]
		if !ok {
			continue
		}
		delete(want, k.GVK.Kind)
		if k.GVK.Version != v {
			t.Errorf("%s is read at %s, want %s", k.GVK.Kind, k.GVK.Version, v)
		}
		if k.GVK.Kind != "Gateway" && !k.Route || !k.Optional || !k.Namespaced {
			t.Errorf("%s read at %s lost what it is: %+v", k.GVK.Kind, k.GVK.Version, k)
		}
		if got := k.New().GetObjectKind().GroupVersionKind(); got != k.GVK {
			t.Errorf("%s: New makes a %v", k.GVK, got)
		}
		if got := k.NewList().(*unstructured.UnstructuredList).GroupVersionKind(); got != k.GVK.GroupVersion().WithKind(k.GVK.Kind+"List") {
			t.Errorf("%s: NewList makes a %v", k.GVK, got)
		}
	}
	for kind := range want {
		t.Errorf("%s is not read", kind)
	}
}

// TestAvailableKindsReadsTheClusterNetworkPolicyAtTheVersionServed: the Network Policy API's
// v0.2.0 serves ClusterNetworkPolicy at v1alpha2 only, v0.3.0 on at v1beta1 and v1alpha2 (the
// same schema). The operator reads it, cluster-scoped, at v1beta1 where served and at v1alpha2
// otherwise, and not at all where neither is: before, it read none, and an Admin-tier Accept
// from every namespace left a tenant's default deny passing.
func TestAvailableKindsReadsTheClusterNetworkPolicyAtTheVersionServed(t *testing.T) {
	const group = "policy.networking.k8s.io"
	for name, tc := range map[string]struct {
		served []string
		want   string
	}{
		"v0.2.0, v1alpha2 only":        {served: []string{"v1alpha2"}, want: "v1alpha2"},
		"v0.3.0, v1beta1 and v1alpha2": {served: []string{"v1beta1", "v1alpha2"}, want: "v1beta1"},
		"not installed":                {},
	} {
		t.Run(name, func(t *testing.T) {
			mapper := meta.NewDefaultRESTMapper(nil)
			for _, k := range Kinds {
				if k.GVK.Kind == "ClusterNetworkPolicy" {
					continue
				}
				scope := meta.RESTScopeNamespace
				if !k.Namespaced {
					scope = meta.RESTScopeRoot
				}
				mapper.Add(k.GVK, scope)
			}
			for _, v := range tc.served {
				mapper.Add(schema.GroupVersionKind{Group: group, Version: v, Kind: "ClusterNetworkPolicy"}, meta.RESTScopeRoot)
			}
			kinds, err := AvailableKinds(mapper)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, k := range kinds {
				if k.GVK.GroupKind() == (schema.GroupKind{Group: group, Kind: "ClusterNetworkPolicy"}) {
					got = k.GVK.Version
					if k.Namespaced || !k.Optional {
						t.Errorf("read at %s as %+v, want optional and cluster-scoped", got, k)
					}
				}
			}
			if got != tc.want {
				t.Errorf("read at %q, want %q", got, tc.want)
			}
		})
	}
}

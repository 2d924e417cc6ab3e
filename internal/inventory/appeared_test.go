package inventory

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAnAddOnInstalledSinceTheOperatorStartedIsUnseen: the operator watches the kinds the API
// server serves when it starts. The Gateway API installed after it (HTTPRoutes now served, none
// read) left net-ingress-tls with nothing to judge and CC6.7 reading Pass beside a workload
// published over plain HTTP. A kind served now that the operator did not start reading is
// unseen, with the restart it takes, whatever version the API server serves it at; a kind it
// reads, one already unseen and one still not served are not.
func TestAnAddOnInstalledSinceTheOperatorStartedIsUnseen(t *testing.T) {
	started, err := AvailableKinds(servingBuiltins())
	if err != nil {
		t.Fatal(err)
	}
	now := servingBuiltins()
	gw := "gateway.networking.k8s.io"
	now.Add(schema.GroupVersionKind{Group: gw, Version: "v1", Kind: "HTTPRoute"}, meta.RESTScopeNamespace)
	now.Add(schema.GroupVersionKind{Group: gw, Version: "v1", Kind: "Gateway"}, meta.RESTScopeNamespace)
	now.Add(schema.GroupVersionKind{Group: gw, Version: "v1alpha2", Kind: "TCPRoute"}, meta.RESTScopeNamespace)
	now.Add(schema.GroupVersionKind{Group: "aquasecurity.github.io", Version: "v1alpha1", Kind: "VulnerabilityReport"}, meta.RESTScopeNamespace)
	unseen := map[string]engine.Unseen{"VulnerabilityReport": {Namespaced: true, Reason: "the operator may not list it"}}

	got := Appeared(now, started, unseen)
	for _, kind := range []string{"HTTPRoute", "Gateway", "TCPRoute"} {
		u, ok := got[kind]
		if !ok {
			t.Errorf("%s, served since the operator started, is not unseen (got %v)", kind, got)
			continue
		}
		if !u.Namespaced || !strings.Contains(u.Reason, "since the operator started") || !strings.Contains(u.Reason, "restart") {
			t.Errorf("%s: %+v", kind, u)
		}
	}
	if !strings.Contains(got["TCPRoute"].Reason, "tcproutes.gateway.networking.k8s.io") {
		t.Errorf("TCPRoute's reason does not name the resource: %q", got["TCPRoute"].Reason)
	}
	for _, kind := range []string{"VulnerabilityReport", "ExposedSecretReport", "UDPRoute", "Deployment"} {
		if u, ok := got[kind]; ok {
			t.Errorf("%s is unseen as appeared: %+v", kind, u)
		}
	}
	if got := Appeared(now, append(started, mustKind(t, "HTTPRoute"), mustKind(t, "Gateway"), mustKind(t, "TCPRoute").atVersion("v1alpha2")), unseen); len(got) != 0 {
		t.Errorf("kinds the operator reads are unseen: %v", got)
	}
}

// servingBuiltins is a RESTMapper serving the operator's built-in kinds only.
func servingBuiltins() *meta.DefaultRESTMapper {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, k := range Kinds {
		if k.Optional {
			continue
		}
		scope := meta.RESTScopeNamespace
		if !k.Namespaced {
			scope = meta.RESTScopeRoot
		}
		mapper.Add(k.GVK, scope)
	}
	return mapper
}

func mustKind(t *testing.T, kind string) Kind {
	t.Helper()
	k, ok := ByKind(kind)
	if !ok {
		t.Fatalf("no kind %s", kind)
	}
	return k
}

// TestIstiosGatewayInstalledSinceTheOperatorStartedIsUnseen: Istio's Gateway shares its kind's
// name with the Gateway API's. With the Gateway API read since the start, Istio installed after
// the operator (networking.istio.io Gateways now served, none read) left a tenant's Gateway with
// an HTTP server unjudged and its report reading Pass, as the kind name was read already. Kinds
// are told apart by group: the kind is unseen, with the restart it takes.
func TestIstiosGatewayInstalledSinceTheOperatorStartedIsUnseen(t *testing.T) {
	now := servingBuiltins()
	gw := "gateway.networking.k8s.io"
	now.Add(schema.GroupVersionKind{Group: gw, Version: "v1", Kind: "Gateway"}, meta.RESTScopeNamespace)
	now.Add(schema.GroupVersionKind{Group: gw, Version: "v1", Kind: "HTTPRoute"}, meta.RESTScopeNamespace)
	started, err := AvailableKinds(now)
	if err != nil {
		t.Fatal(err)
	}
	now.Add(schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1beta1", Kind: "Gateway"}, meta.RESTScopeNamespace)
	got := Appeared(now, started, nil)
	u, ok := got["Gateway"]
	if !ok || !strings.Contains(u.Reason, ".networking.istio.io") || !strings.Contains(u.Reason, "restart") {
		t.Errorf("Istio's Gateway, served since the operator started, is not unseen: %v", got)
	}
	if _, ok := got["HTTPRoute"]; ok {
		t.Errorf("HTTPRoute, read since the start, is unseen: %v", got)
	}
}

// TestCalicosNetworkPolicyInstalledSinceTheOperatorStartedIsUnseen: Calico's NetworkPolicy shares
// its kind's name with Kubernetes' NetworkPolicy, read since the start. Calico installed after the
// operator (projectcalico.org NetworkPolicies now served, none read) would leave an Allow from
// everywhere unjudged beside a tenant's default deny: the kind is unseen, with the restart it
// takes, and CiliumNetworkPolicy likewise.
func TestCalicosNetworkPolicyInstalledSinceTheOperatorStartedIsUnseen(t *testing.T) {
	now := servingBuiltins()
	started, err := AvailableKinds(now)
	if err != nil {
		t.Fatal(err)
	}
	now.Add(schema.GroupVersionKind{Group: "projectcalico.org", Version: "v3", Kind: "NetworkPolicy"}, meta.RESTScopeNamespace)
	now.Add(schema.GroupVersionKind{Group: "cilium.io", Version: "v2", Kind: "CiliumNetworkPolicy"}, meta.RESTScopeNamespace)
	got := Appeared(now, started, nil)
	if u, ok := got["NetworkPolicy"]; !ok || !strings.Contains(u.Reason, "networkpolicies.projectcalico.org") || !strings.Contains(u.Reason, "restart") {
		t.Errorf("Calico's NetworkPolicy, served since the operator started, is not unseen: %v", got)
	}
	if u, ok := got["CiliumNetworkPolicy"]; !ok || !strings.Contains(u.Reason, "ciliumnetworkpolicies.cilium.io") {
		t.Errorf("CiliumNetworkPolicy, served since the operator started, is not unseen: %v", got)
	}
}

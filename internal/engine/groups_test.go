package engine_test

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// sameNameGateways are shop's Gateway API Gateway edge and Istio Gateway edge, each publishing a
// TCP port (net-service-exposure fails both).
func sameNameGateways() []*engine.Object {
	gateway := func(apiVersion string, spec map[string]any) *engine.Object {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": "Gateway",
			"metadata": map[string]any{"name": "edge", "namespace": "shop"}, "spec": spec}}
		return engine.NewObject(u, apiVersion, "Gateway")
	}
	return []*engine.Object{
		gateway("gateway.networking.k8s.io/v1", map[string]any{"gatewayClassName": "example",
			"listeners": []any{map[string]any{"name": "postgres", "protocol": "TCP", "port": int64(5432)}}}),
		gateway("networking.istio.io/v1", map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
			"servers": []any{map[string]any{"port": map[string]any{"number": int64(5432), "name": "postgres", "protocol": "TCP"},
				"hosts": []any{"*"}}}}),
	}
}

// TestAnExceptionMayNameAKindInOneGroup: match.kinds [Gateway] waives both Gateways edge, as it
// always has; [Gateway.networking.istio.io] waives Istio's alone and
// [Gateway.gateway.networking.k8s.io] the Gateway API's alone; a group that serves neither
// waives nothing.
func TestAnExceptionMayNameAKindInOneGroup(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), &v1alpha1.ComplianceProfile{})
	for kind, want := range map[string][]string{
		"Gateway":                           {"gateway.networking.k8s.io/v1", "networking.istio.io/v1"},
		"Gateway.networking.istio.io":       {"networking.istio.io/v1"},
		"Gateway.gateway.networking.k8s.io": {"gateway.networking.k8s.io/v1"},
		"Gateway.example.com":               nil,
	} {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "shop", CreationTimestamp: metav1.NewTime(groupsNow.Add(-time.Hour))},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"net-service-exposure"}, Reason: "r", Owner: "o@example.com",
				Expires: metav1.NewTime(groupsNow.Add(time.Hour)), RequestedBy: "alice@example.com",
				Match: v1alpha1.ResourceMatch{Kinds: []string{kind}, Names: []string{"edge"}}},
			Approval: &v1alpha1.ExceptionApproval{ApprovedBy: "bob@example.com"},
		}
		ev := plan.Evaluate(engine.NewInventory(sameNameGateways(), true), []*v1alpha1.ControlException{ex},
			engine.Options{Now: groupsNow, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
		var excepted []string
		for _, r := range ev.Results {
			if r.Check.ID == "net-service-exposure" && r.Status == engine.StatusExcepted {
				excepted = append(excepted, r.Object.APIVersion)
			}
		}
		slices.Sort(excepted)
		if !slices.Equal(excepted, want) {
			t.Errorf("kinds [%s]: excepted %v, want %v", kind, excepted, want)
		}
	}
}

var groupsNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// TestAPopulationListsObjectsOfOneKindNameInTwoGroupsApart: the Gateway API's Gateway edge and
// Istio's Gateway edge in one namespace are two objects net-service-exposure judged; the
// population an auditor samples from lists both, not one entry "Gateway/edge".
func TestAPopulationListsObjectsOfOneKindNameInTwoGroupsApart(t *testing.T) {
	gateway := func(apiVersion string, spec map[string]any) *engine.Object {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": "Gateway",
			"metadata": map[string]any{"name": "edge", "namespace": "shop"}, "spec": spec}}
		return engine.NewObject(u, apiVersion, "Gateway")
	}
	objs := []*engine.Object{
		gateway("gateway.networking.k8s.io/v1", map[string]any{"gatewayClassName": "example",
			"listeners": []any{map[string]any{"name": "postgres", "protocol": "TCP", "port": int64(5432)}}}),
		gateway("networking.istio.io/v1", map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
			"servers": []any{map[string]any{"port": map[string]any{"number": int64(443), "name": "https", "protocol": "HTTPS"},
				"hosts": []any{"shop.example.com"}, "tls": map[string]any{"mode": "SIMPLE", "credentialName": "cert"}}}}),
	}
	plan := engine.Compile(checks.Catalogue(), &v1alpha1.ComplianceProfile{})
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{})
	c := ev.Plan.Checks[slices.IndexFunc(ev.Plan.Checks, func(c *engine.PlannedCheck) bool { return c.ID == "net-service-exposure" })]
	pop := ev.Summary("shop").Population(c)
	if want := []string{"Gateway.networking.istio.io/edge", "Gateway/edge"}; !slices.Equal(pop, want) {
		t.Errorf("population %q, want %q", pop, want)
	}
}

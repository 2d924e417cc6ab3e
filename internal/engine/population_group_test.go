package engine_test

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

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

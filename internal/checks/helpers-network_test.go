package checks

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

func TestTLSCovers(t *testing.T) {
	tests := map[string]struct {
		tlsHost, host string
		want          bool
	}{
		"the same host":                           {"shop.example.com", "shop.example.com", true},
		"hosts compare without case":              {"Shop.Example.com", "shop.example.com", true},
		"a wildcard covers one label":             {"*.example.com", "shop.example.com", true},
		"a wildcard does not cover two labels":    {"*.example.com", "a.shop.example.com", false},
		"a wildcard does not cover the apex":      {"*.example.com", "example.com", false},
		"a wildcard rule needs the same wildcard": {"*.example.com", "*.example.com", true},
		"a named entry does not cover a wildcard": {"shop.example.com", "*.example.com", false},
		"another host is not covered":             {"shop.example.com", "api.example.com", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tlsCovers(tc.tlsHost, tc.host); got != tc.want {
				t.Errorf("tlsCovers(%q, %q) = %v, want %v", tc.tlsHost, tc.host, got, tc.want)
			}
		})
	}
}

// TestNetworkPolicyIndexFindsEverySelectingPolicy checks the label index of a namespace's
// NetworkPolicies against trying every policy, for selectors of every shape and pods with and
// without the labels they require: the same policies, in the namespace's order.
func TestNetworkPolicyIndexFindsEverySelectingPolicy(t *testing.T) {
	policy := func(name, ns string, sel metav1.LabelSelector) *engine.Object {
		return engine.NewObject(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: sel},
		}, "networking.k8s.io/v1", "NetworkPolicy")
	}
	req := func(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	exprs := func(rs ...metav1.LabelSelectorRequirement) metav1.LabelSelector {
		return metav1.LabelSelector{MatchExpressions: rs}
	}
	objs := []*engine.Object{
		policy("web-front", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}),
		policy("everything", "shop", metav1.LabelSelector{}),
		policy("single-in", "shop", exprs(req("app", metav1.LabelSelectorOpIn, "web"))),
		policy("multi-in", "shop", exprs(req("app", metav1.LabelSelectorOpIn, "web", "db"))),
		policy("not-in", "shop", exprs(req("app", metav1.LabelSelectorOpNotIn, "web"))),
		policy("exists", "shop", exprs(req("tier", metav1.LabelSelectorOpExists))),
		policy("does-not-exist", "shop", exprs(req("tier", metav1.LabelSelectorOpDoesNotExist))),
		policy("labels-and-expressions", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"},
			MatchExpressions: []metav1.LabelSelectorRequirement{req("app", metav1.LabelSelectorOpIn, "web", "api")}}),
		policy("invalid", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "not a valid value"}}),
		policy("db", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}),
		policy("web-again", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		policy("other-namespace", "shop-staging", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
	}
	inv := engine.NewInventory(objs, true)
	ps := networkPolicyIndex(inv, "shop")
	if len(ps.items) != 11 {
		t.Fatalf("%d policies in shop, want 11", len(ps.items))
	}
	for _, set := range []labels.Set{
		{"app": "web", "tier": "front"},
		{"app": "web", "track": "canary"},
		{"app": "db", "tier": "data"},
		{"app": "api", "tier": "front"},
		{"team": "data"},
		{"app": "not a valid value"},
		nil,
	} {
		var want, got []string
		for _, p := range ps.items {
			if p.selector.Matches(set) {
				want = append(want, p.obj.Name)
			}
		}
		for _, p := range ps.selecting("shop", set) {
			got = append(got, p.obj.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("pod labels {%s}: the index finds %v, trying every policy %v", set, got, want)
		}
	}
}

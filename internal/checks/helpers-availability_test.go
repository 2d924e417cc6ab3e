package checks

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestBudgetIndexMatchesEveryBudget checks the label index of PodDisruptionBudgets against
// trying every budget of the namespace, for selectors of every shape.
func TestBudgetIndexMatchesEveryBudget(t *testing.T) {
	budget := func(name, ns, apiVersion string, sel *metav1.LabelSelector) *engine.Object {
		return engine.NewObject(&policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel},
		}, apiVersion, "PodDisruptionBudget")
	}
	deployment := func(name, ns string, podLabels map[string]string) *engine.Object {
		return engine.NewObject(&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			}},
		}, "apps/v1", "Deployment")
	}
	in := func(key string, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: values}
	}
	objs := []*engine.Object{
		budget("match-labels", "shop", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}),
		budget("single-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{in("app", "web")}}),
		budget("multi-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{in("app", "web", "db")}}),
		budget("not-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}}}}),
		budget("exists", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}),
		budget("everything", "shop", "policy/v1", &metav1.LabelSelector{}),
		budget("v1beta1-empty", "shop", "policy/v1beta1", &metav1.LabelSelector{}),
		budget("no-selector", "shop", "policy/v1", nil),
		budget("invalid", "shop", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "not a valid value"}}),
		budget("other-namespace", "shop-staging", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		deployment("web", "shop", map[string]string{"app": "web", "tier": "front"}),
		deployment("web-canary", "shop", map[string]string{"app": "web", "track": "canary"}),
		deployment("db", "shop", map[string]string{"app": "db", "tier": "data"}),
		deployment("batch", "shop", map[string]string{"team": "data"}),
		deployment("unlabelled", "shop", nil),
	}
	inv := engine.NewInventory(objs, true)

	want := map[string][]string{
		"web":        {"everything", "exists", "match-labels", "multi-in", "single-in"},
		"web-canary": {"everything", "multi-in", "single-in"},
		"db":         {"everything", "exists", "multi-in", "not-in"},
		"batch":      {"everything", "not-in"},
		"unlabelled": {"everything", "not-in"},
	}
	for _, w := range inv.List("shop", "Deployment") {
		var got []string
		for _, b := range budgetsSelecting(inv, w.Namespace, podLabels(w)) {
			got = append(got, b.obj.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want[w.Name]) {
			t.Errorf("budgets selecting %s = %q, want %q", w.Name, got, want[w.Name])
		}
	}

	// The reverse direction: the workloads each budget selects, against every workload.
	for _, o := range inv.ListKind("PodDisruptionBudget") {
		b := budgetOf(inv, o)
		var got, brute []string
		for _, w := range selectedWorkloads(inv, b) {
			got = append(got, w.Name)
		}
		for _, w := range inv.List(o.Namespace, "Deployment") {
			if b.selector.Matches(podLabels(w)) {
				brute = append(brute, w.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(brute)
		if !slices.Equal(got, brute) {
			t.Errorf("workloads selected by %s = %q, want %q", o.Name, got, brute)
		}
	}
}

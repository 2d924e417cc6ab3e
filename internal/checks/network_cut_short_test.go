package checks

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// manyNotInPolicies is a namespace admin's shop: n NetworkPolicies whose pod selectors each
// hold 20 NotIn expressions (the first excluding the Deployment's pods: app NotIn [web]),
// then, last in the namespace's order, a default deny that selects every pod; and the
// Deployment web. Read whole, the default deny covers web (Pass); read in part, nothing does.
func manyNotInPolicies(n int) (objs []*engine.Object, web *engine.Object) {
	for i := range n {
		exprs := []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}}}
		for j := range 19 {
			exprs = append(exprs, metav1.LabelSelectorRequirement{Key: fmt.Sprintf("k%d", j), Operator: metav1.LabelSelectorOpNotIn, Values: []string{fmt.Sprintf("v%d", i)}})
		}
		objs = append(objs, engine.NewObject(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("np-%05d", i), Namespace: "shop"},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: exprs}},
		}, "networking.k8s.io/v1", "NetworkPolicy"))
	}
	objs = append(objs, engine.NewObject(&networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "zz-default-deny", Namespace: "shop"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}, "networking.k8s.io/v1", "NetworkPolicy"))
	web = engine.NewObject(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0.0"}}},
		}},
	}, "apps/v1", "Deployment")
	return append(objs, web), web
}

// TestANamespaceOfManyPoliciesStopsWhenItsCallerHasGone: the admission webhook answers at the
// API server's deadline and holds the namespace's judging slot until its judgement ends.
// net-pod-policy-coverage indexes the namespace's NetworkPolicies once per evaluation
// (inv.Memo), parsing and checking every selector, and that work never asked whether anyone
// still waited: a namespace admin's 5,000 policies of 20 NotIn expressions each kept it going
// after the answer (Enforce: the namespace's other requests refused busy; Warn: admitted
// unjudged). The index now asks at each policy (Inventory.Stopped): here the caller gives up
// at its first question, and only a few more may follow, not one per policy.
//
// What was cut short is remembered nowhere: the same inventory judged again, by a caller that
// waits or by none (the reports), reads every policy and finds the default deny at the end.
func TestANamespaceOfManyPoliciesStopsWhenItsCallerHasGone(t *testing.T) {
	objs, web := manyNotInPolicies(5000)
	inv := engine.NewInventory(objs, true)
	plan := engine.Compile([]*engine.Check{netPodPolicyCoverage}, nil)

	gone := newGivesUpWhenAsked()
	ev := plan.Evaluate(inv, nil, engine.Options{Now: fixtureNow, KeepPassing: true, Only: web, Context: gone})
	if !ev.Stopped {
		t.Errorf("the caller gave up while the check ran: want the evaluation Stopped, got Stopped false and %+v (asked %d times)", ev.Results, gone.asked.Load())
	}
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !strings.HasPrefix(ev.Results[0].Message, engine.CutShort) {
		t.Errorf("cut short: want one NotAssessed result saying %q, got %+v", engine.CutShort, ev.Results)
	}
	if n := gone.asked.Load(); n > 16 {
		t.Errorf("the check asked %d times whether its caller had gone, the first answer yes: it read on through the policies", n)
	}

	for name, opts := range map[string]engine.Options{
		"without a caller":         {Now: fixtureNow, KeepPassing: true, Only: web},
		"with a caller that waits": {Now: fixtureNow, KeepPassing: true, Only: web, Context: context.Background()},
	} {
		ev = plan.Evaluate(inv, nil, opts)
		if ev.Stopped || len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusPass {
			t.Errorf("the same inventory judged again %s after a judgement cut short: want Pass (zz-default-deny selects web), got stopped=%v %+v", name, ev.Stopped, ev.Results)
		}
	}
}

// BenchmarkANamespaceOfManyPoliciesJudged is one judgement of a Deployment beside 5,000
// NetworkPolicies of 20 NotIn expressions each (manyNotInPolicies): whole, and by a caller
// that gives up at the check's first question (the admission webhook's request answered at
// its deadline), which is how long the namespace's judging slot stays held after the answer.
func BenchmarkANamespaceOfManyPoliciesJudged(b *testing.B) {
	objs, web := manyNotInPolicies(5000)
	plan := engine.Compile([]*engine.Check{netPodPolicyCoverage}, nil)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, Only: web})
		}
	})
	b.Run("caller gone", func(b *testing.B) {
		for b.Loop() {
			plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, Only: web, Context: newGivesUpWhenAsked()})
		}
	})
}

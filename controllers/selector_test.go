package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestABrokenSelectorLeavesNoVerdict: a namespace selector that the API server stores but that
// does not parse (In with no values) selects no namespace known to be unselected either: the
// profile must say Unknown, not the verdict of the cluster-scoped objects it still sees, and its
// reports are kept, marked stale (deleting them would lose the last evidence over a typo),
// until the selector is fixed.
func TestABrokenSelectorLeavesNoVerdict(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "badsel", map[string]string{"badsel": "true"})
	if err := k8s.Create(ctx, deployment("badsel", "web", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "badsel", "badsel", nil)
	waitWritten(t, "badsel", "badsel")

	updateProfile(t, "badsel", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "badsel", Operator: metav1.LabelSelectorOpIn}}}
	})
	eventually(t, 20*time.Second, "the profile says its selector does not parse and has no verdict", func() error {
		got := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "badsel"}, got); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Reason != v1alpha1.ReasonInvalidSelector || ready.ObservedGeneration != got.Generation {
			return fmt.Errorf("Ready %+v", ready)
		}
		if got.Status.Result != v1alpha1.Unknown {
			return fmt.Errorf("result %s with %d namespaces evaluated, want Unknown", got.Status.Result, got.Status.NamespacesEvaluated)
		}
		rep, err := getReport("badsel", "badsel")
		if err != nil {
			return fmt.Errorf("the report of namespace badsel: %v", err)
		}
		stale := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale)
		if rep.Status.Result != v1alpha1.Unknown || stale == nil || stale.Status != metav1.ConditionTrue || stale.Reason != v1alpha1.ReasonInvalidSelector {
			return fmt.Errorf("report result %s, Stale %+v; want Unknown, stale for %s", rep.Status.Result, stale, v1alpha1.ReasonInvalidSelector)
		}
		return nil
	})

	// Fixed: the report is current again.
	updateProfile(t, "badsel", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"badsel": "true"}}
	})
	eventually(t, 20*time.Second, "the report is current again once the selector parses", func() error {
		rep, err := getReport("badsel", "badsel")
		if err != nil {
			return err
		}
		if stale := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); rep.Status.Result == v1alpha1.Unknown || stale == nil || stale.Status != metav1.ConditionFalse {
			return fmt.Errorf("report result %s, Stale %+v", rep.Status.Result, stale)
		}
		return nil
	})
}

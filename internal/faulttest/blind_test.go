//go:build e2e

package faulttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// trimShippedRole removes resources from the rules of the shipped manager ClusterRole, as a
// cluster admin trimming the operator's permissions would, and puts them back at the end.
func trimShippedRole(t *testing.T, remove ...string) {
	t.Helper()
	ctx := context.Background()
	key := types.NamespacedName{Name: "soc2-operator-manager-role"}
	role := &rbacv1.ClusterRole{}
	if err := k8s.Get(ctx, key, role); err != nil {
		t.Fatal(err)
	}
	original := slices.Clone(role.Rules)
	for i := range role.Rules {
		role.Rules[i] = *role.Rules[i].DeepCopy()
		role.Rules[i].Resources = slices.DeleteFunc(role.Rules[i].Resources, func(r string) bool { return slices.Contains(remove, r) })
	}
	role.Rules = slices.DeleteFunc(role.Rules, func(r rbacv1.PolicyRule) bool { return len(r.Resources) == 0 && len(r.NonResourceURLs) == 0 })
	if err := k8s.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r := &rbacv1.ClusterRole{}
		if err := k8s.Get(ctx, key, r); err != nil {
			t.Error(err)
			return
		}
		r.Rules = original
		if err := k8s.Update(ctx, r); err != nil {
			t.Error(err)
		}
	})
}

// TestWhatTheOperatorMayNotListIsNotAssessed: a cluster admin trimmed the operator's ClusterRole
// of networkpolicies and rolebindings. The operator used to wait for informers that could never
// sync and stop after two minutes, again at each restart, while every report kept the verdict
// it had before, Ready and not Stale. Now it evaluates what it may read: the checks that judge
// RoleBindings or read NetworkPolicies are NotAssessed in the namespace's criteria (a RoleBinding
// granting every Secret to every authenticated user, which it cannot see, does not leave CC6.7
// unmentioned, nor a NetworkPolicy it cannot see CC6.6 judged), and the profile is not Ready,
// with reason KindsUnreadable naming what to grant.
func TestWhatTheOperatorMayNotListIsNotAssessed(t *testing.T) {
	ctx := context.Background()
	const name = "fault-trimmed"
	asOperator := shippedRoles(t)
	scenario(t, name)
	if err := k8s.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: name},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secrets", Namespace: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "everyone-reads-secrets", Namespace: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secrets"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"}}}); err != nil {
		t.Fatal(err)
	}
	trimShippedRole(t, "networkpolicies", "rolebindings")
	startManagerAs(t, asOperator)

	criteriaOf := func(id string) []v1alpha1.Criterion {
		for _, c := range checks.Catalogue() {
			if c.ID == id {
				return c.Criteria
			}
		}
		t.Fatalf("no check %s", id)
		return nil
	}
	eventually(t, 60*time.Second, "the report is written, with what the operator cannot read NotAssessed", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if privilegedFinding(rep) != v1alpha1.ResultFail {
			return errors.New("wl-privileged's finding not listed yet")
		}
		if ready := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse ||
			ready.Reason != v1alpha1.ReasonKindsUnreadable || !strings.Contains(ready.Message, "NetworkPolicy, RoleBinding") {
			return fmt.Errorf("the report's Ready condition %+v does not say it is no complete evaluation", ready)
		}
		for _, check := range []string{"net-namespace-default-deny", "rbac-bound-secret-read"} {
			for _, id := range criteriaOf(check) {
				for _, c := range rep.Status.Criteria {
					if c.ID == id && c.UnassessedChecks == 0 {
						return fmt.Errorf("%s %s on %d checks with none unassessed, though %s cannot see what it needs", c.ID, c.Status, c.Checks, check)
					}
				}
			}
		}
		return nil
	})
	// The admission policies the operator writes at start are a problem of their own until they
	// are in force; then the profile's Ready condition is about what the operator cannot read.
	eventually(t, 60*time.Second, "the profile's Ready condition names the kinds the operator may not list", func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonKindsUnreadable ||
			!strings.Contains(ready.Message, "networkpolicies.networking.k8s.io") || !strings.Contains(ready.Message, "rolebindings.rbac.authorization.k8s.io") {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
}

// TestPermissionRevokedWhileRunningIsNotAssessed: the operator may list NetworkPolicies when it
// starts, and a cluster admin trims them from its ClusterRole while it runs. Once its watch ends
// (here the API server restarts; in a cluster at the latest when the watch times out) its
// informer cannot relist, and its cache keeps the NetworkPolicies as they were, still reporting
// itself synced: the default-deny policy deleted since kept net-namespace-default-deny passing,
// CC6.6 fully assessed, at every evaluation after. Now each full evaluation asks whether the
// operator may still read what it reads: the checks that read NetworkPolicies are NotAssessed
// and the profile says KindsUnreadable.
func TestPermissionRevokedWhileRunningIsNotAssessed(t *testing.T) {
	ctx := context.Background()
	const name = "fault-revoked"
	asOperator := shippedRoles(t)
	scenario(t, name)
	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: name},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}
	if err := k8s.Create(ctx, deny); err != nil {
		t.Fatal(err)
	}
	startManagerAs(t, asOperator)
	cc66 := func() (v1alpha1.CriterionStatus, error) {
		rep, err := report(name)
		if err != nil {
			return v1alpha1.CriterionStatus{}, err
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "CC6.6" {
				return c, nil
			}
		}
		return v1alpha1.CriterionStatus{}, errors.New("no CC6.6 in the report")
	}
	eventually(t, 60*time.Second, "CC6.6 assessed in full with the default-deny policy in view", func() error {
		c, err := cc66()
		if err != nil {
			return err
		}
		if c.Status != v1alpha1.CriterionPass || c.UnassessedChecks != 0 {
			return fmt.Errorf("CC6.6 %+v", c)
		}
		return nil
	})

	trimShippedRole(t, "networkpolicies")
	// The operator's watch on NetworkPolicies ends with the API server; it cannot start another.
	if err := killAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatalf("restarting the API server: %v", err)
	}
	if err := k8s.Delete(ctx, deny); err != nil {
		t.Fatal(err)
	}
	// A spec change evaluates the whole profile now.
	p := &v1alpha1.ComplianceProfile{}
	eventually(t, 30*time.Second, "the profile's spec changed", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		p.Spec.EvaluationInterval = &metav1.Duration{Duration: 2 * time.Hour}
		return k8s.Update(ctx, p)
	})
	eventually(t, 60*time.Second, "the checks that read NetworkPolicies are NotAssessed", func() error {
		c, err := cc66()
		if err != nil {
			return err
		}
		if c.UnassessedChecks == 0 {
			return fmt.Errorf("CC6.6 %+v: assessed in full on NetworkPolicies the operator may no longer list", c)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the profile says the operator may no longer list NetworkPolicies", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Reason != v1alpha1.ReasonKindsUnreadable || !strings.Contains(ready.Message, "networkpolicies.networking.k8s.io") {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
}

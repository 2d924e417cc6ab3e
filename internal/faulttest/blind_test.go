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

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

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
	evaluateNow(t, name)
	p := &v1alpha1.ComplianceProfile{}
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

// TestTheOperatorAsksWhatItMayReadWithItsOwnRole: a cluster admin hardening the cluster takes
// system:authenticated out of system:basic-user's binding, which is what let every user ask
// the API server what it may do (SelfSubjectAccessReview). The operator asks that at start, of
// every kind it reads, and its own role did not grant it: it stopped at once, "asking whether
// the operator may list namespaces: selfsubjectaccessreviews.authorization.k8s.io is
// forbidden", at every restart, though its role grants everything it reads. It needs the
// permission, so its role says so, as it does for selfsubjectreviews.
func TestTheOperatorAsksWhatItMayReadWithItsOwnRole(t *testing.T) {
	ctx := context.Background()
	const name = "fault-no-basic-user"
	asOperator := shippedRoles(t)
	scenario(t, name)
	key := types.NamespacedName{Name: "system:basic-user"}
	binding := &rbacv1.ClusterRoleBinding{}
	if err := k8s.Get(ctx, key, binding); err != nil {
		t.Fatal(err)
	}
	original := slices.Clone(binding.Subjects)
	binding.Subjects = nil
	if err := k8s.Update(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b := &rbacv1.ClusterRoleBinding{}
		if err := k8s.Get(ctx, key, b); err != nil {
			t.Error(err)
			return
		}
		b.Subjects = original
		if err := k8s.Update(ctx, b); err != nil {
			t.Error(err)
		}
	})
	startManagerAs(t, asOperator)
	eventually(t, 60*time.Second, "the report is written, complete", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if privilegedFinding(rep) != v1alpha1.ResultFail {
			return errors.New("wl-privileged's finding not listed yet")
		}
		if ready := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("the report's Ready condition %+v", ready)
		}
		return nil
	})
}

// refuseReports is an admission policy that refuses every write of a report's status in one
// namespace, as a namespace's own admission rules might (a policy engine's namespaced policy).
const refuseReports = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: refuse-reports
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [compliance.soc2-operator.io]
        apiVersions: [v1alpha1]
        operations: [UPDATE]
        resources: [compliancereports/status]
  validations:
    - expression: "false"
      message: this namespace keeps its report as it is
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: refuse-reports
spec:
  policyName: refuse-reports
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: fault-refused-all
`

// TestReportsRefusedEveryWriteAreNamedOnTheProfile: once its namespace's report listed no
// privileged finding, an admission policy refuses every write of the report's status, and the
// namespace's workload turns privileged. The report cannot say anything else (nor even that it
// is stale: that is a write refused too), so it keeps its old verdict, Ready and not Stale (a
// namespace that read Compliant keeps reading Compliant); the profile's status,
// which the operator can still write, read Ready, 'Evaluated 1 namespaces', beside the
// NonCompliant result it counts. Now its Ready condition is False with reason WriteFailed,
// naming the namespace and the API server's answer.
func TestReportsRefusedEveryWriteAreNamedOnTheProfile(t *testing.T) {
	ctx := context.Background()
	const name = "fault-refused-all"
	scenario(t, name)
	setPrivileged := func(privileged bool) {
		t.Helper()
		eventually(t, 30*time.Second, "the agent's privileged set", func() error {
			d := &appsv1.Deployment{}
			if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: "agent"}, d); err != nil {
				return err
			}
			d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &privileged
			return k8s.Update(ctx, d)
		})
	}
	setPrivileged(false)
	mgr := startManager(t)
	eventually(t, 60*time.Second, "the report lists no privileged finding", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if got := privilegedFinding(rep); got != "" {
			return fmt.Errorf("wl-privileged %q", got)
		}
		return nil
	})
	var objs []client.Object
	for _, doc := range strings.Split(refuseReports, "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
	}
	t.Cleanup(func() {
		for _, o := range objs {
			_ = k8s.Delete(ctx, o)
		}
	})
	// The policy takes a moment to reach the admission chain: change the workload's replicas
	// (a change avl-replicas judges) until the operator's write of the report is refused.
	replicas := int32(1)
	eventually(t, 60*time.Second, "the operator's write of the report is refused", func() error {
		replicas = 3 - replicas
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: "agent"}, d); err != nil {
			return err
		}
		d.Spec.Replicas = &replicas
		if err := k8s.Update(ctx, d); err != nil {
			return err
		}
		time.Sleep(time.Second)
		refused, err := mgr.Metric(ctx, fmt.Sprintf(`soc2_operator_report_writes_total{operation="update",profile=%q,result="error"}`, name))
		if err != nil || refused == 0 {
			return fmt.Errorf("no write refused yet (%v)", err)
		}
		return nil
	})
	setPrivileged(true)
	privileged := false
	eventually(t, 60*time.Second, "the profile names the namespace whose report the API server refuses", func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonWriteFailed ||
			!strings.Contains(ready.Message, name+": ") || !strings.Contains(ready.Message, "this namespace keeps its report as it is") {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
	// What the operator cannot change: the report reads as it last could be written.
	rep, err := report(name)
	if err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	if got := privilegedFinding(rep); got != "" || p.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("the report lists wl-privileged %q and the profile reads %s, want none (the report as last written) and NonCompliant (as evaluated)", got, p.Status.Result)
	}
	for _, o := range objs {
		if err := k8s.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	objs = nil
	eventually(t, 90*time.Second, "once the report is written again the profile is Ready", func() error {
		setPrivileged(privileged)
		privileged = !privileged
		time.Sleep(time.Second)
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		if ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Reason == v1alpha1.ReasonWriteFailed {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
}

// evaluateNow changes profile name's spec (its evaluation interval, to two hours), which has the
// operator evaluate the whole profile at once.
func evaluateNow(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	eventually(t, 30*time.Second, "the profile's spec changed", func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		p.Spec.EvaluationInterval = &metav1.Duration{Duration: 2 * time.Hour}
		return k8s.Update(ctx, p)
	})
}

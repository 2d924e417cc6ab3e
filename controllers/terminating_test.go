package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestANamespaceBeingDeletedIsStillEvaluated: a namespace being deleted (Terminating) still
// holds what runs in it until each object is gone, and an object with a finalizer (anyone who may
// update it can add one) keeps the namespace Terminating for as long as the finalizer stays. Its
// pods run until their own grace period ends (terminationGracePeriodSeconds, which the pod's
// author sets, without an upper bound), its RoleBindings still grant (the RBAC authorizer does
// not look at deletionTimestamp), and its objects may still be updated: the NamespaceLifecycle
// admission plugin refuses only creates there, and Pod Security admission keeps enforcing
// (k8s.io/apiserver v0.37.2 pkg/admission/plugin/namespace/lifecycle, k8s.io/pod-security-admission
// v0.37.2 admission). The report used to be deleted the moment the namespace was marked for
// deletion, and the namespace dropped from the profile's roll-up: a privileged workload in a
// namespace held Terminating ran with no finding anywhere. It is evaluated while it exists.
//
// envtest runs no namespace controller, so the namespace stays Terminating here until the test
// finalizes it. The namespace controller deletes the report with the rest of the namespace's
// content, and the API server then refuses to create it again: the profile's roll-up still
// counts the namespace's failures, and its Ready condition names the namespace whose report
// cannot be written.
func TestANamespaceBeingDeletedIsStillEvaluated(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "term-a", "term"
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "agent", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, nil)
	waitWritten(t, ns, profile)

	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: objectMeta(ns)}); err != nil {
		t.Fatal(err)
	}
	// The namespace's objects may still be changed: a second privileged container in the
	// Deployment is judged and reported.
	updateDeployment(t, ns, "agent", func(d *appsv1.Deployment) {
		yes := true
		d.Spec.Template.Spec.InitContainers = append(d.Spec.Template.Spec.InitContainers, corev1.Container{
			Name: "later", Image: "registry.example.com/later:1.0.0",
			SecurityContext: &corev1.SecurityContext{Privileged: &yes},
		})
	})
	eventually(t, 20*time.Second, "the Terminating namespace's report judges the change", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if finding(rep, "wl-privileged", "agent", "later") == nil {
			return fmt.Errorf("no wl-privileged finding on container later; result %s, findings %d", rep.Status.Result, len(rep.Status.Findings))
		}
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", rep.Status.Result)
		}
		return nil
	})
	profileSays := func(check func(*v1alpha1.ComplianceProfile) error) func() error {
		return func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: profile}, p); err != nil {
				return err
			}
			return check(p)
		}
	}
	eventually(t, 10*time.Second, "the profile counts the Terminating namespace", profileSays(func(p *v1alpha1.ComplianceProfile) error {
		if p.Status.NamespacesEvaluated != 1 || p.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("namespacesEvaluated %d, result %s", p.Status.NamespacesEvaluated, p.Status.Result)
		}
		return nil
	}))

	// As the namespace controller would: the report is deleted with the namespace's content, and
	// the API server refuses to create it again. The failure stays in the profile's roll-up, and
	// the profile names the namespace.
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the profile names the namespace whose report cannot be written", profileSays(func(p *v1alpha1.ComplianceProfile) error {
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || !strings.Contains(ready.Message, ns) || !strings.Contains(ready.Message, "being terminated") {
			return fmt.Errorf("Ready %+v", ready)
		}
		if p.Status.NamespacesEvaluated != 1 || p.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("namespacesEvaluated %d, result %s", p.Status.NamespacesEvaluated, p.Status.Result)
		}
		return nil
	}))
	if _, err := getReport(ns, profile); !apierrors.IsNotFound(err) {
		t.Errorf("a report was created in the Terminating namespace: %v", err)
	}

	// Once the namespace is gone, it is no longer evaluated or named.
	gone := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, gone); err != nil {
		t.Fatal(err)
	}
	gone.Spec.Finalizers = nil
	if err := k8s.SubResource("finalize").Update(ctx, gone); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the profile counts no namespace", profileSays(func(p *v1alpha1.ComplianceProfile) error {
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || strings.Contains(ready.Message, ns) {
			return fmt.Errorf("Ready %+v", ready)
		}
		if p.Status.NamespacesEvaluated != 0 {
			return fmt.Errorf("namespacesEvaluated %d", p.Status.NamespacesEvaluated)
		}
		return nil
	}))
}

// TestADeletedExceptionHeldByAFinalizerWaivesNothing: deleting an exception is how it is
// revoked, by a person or by GitOps pruning what was removed from Git. A finalizer (anyone who
// may update the exception can add one) keeps the object, with a deletionTimestamp, for as long
// as it stays: the exception went on waiving, Active and approved, and the report went on
// reading the finding Excepted. It ends when it is deleted: Expired, reason Deleted.
func TestADeletedExceptionHeldByAFinalizerWaivesNothing(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "exdel", "exdel-a"
	privilegedUnderWaivableProfile(t, profile, ns, "web")
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: ns, Finalizers: []string{"example.com/keep"}}}
	ex.Spec.Checks = []string{"wl-privileged"}
	ex.Spec.Reason, ex.Spec.Owner = "The setup container needs it until PLAT-7 lands.", "platform@example.com"
	ex.Spec.Expires = metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour))
	createApproved(t, ex)
	t.Cleanup(func() {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err == nil {
			got.Finalizers = nil
			_ = k8s.Update(ctx, got)
		}
	})
	waitFinding(t, ns, profile, v1alpha1.ResultExcepted)

	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	rep := waitFinding(t, ns, profile, v1alpha1.ResultFail)
	if rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("report reads %s with the deleted exception's finding no longer waived", rep.Status.Result)
	}
	eventually(t, 20*time.Second, "the exception says it was deleted", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		if got.Status.State != v1alpha1.ExceptionExpired || ready == nil || ready.Reason != v1alpha1.ReasonDeleted ||
			!strings.Contains(got.Status.Message, "held by finalizer example.com/keep") || got.Status.MatchedFindings != 0 {
			return fmt.Errorf("state %s, matched %d, Ready %+v", got.Status.State, got.Status.MatchedFindings, ready)
		}
		return nil
	})
}

package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestApprovalWrittenBeforeThePoliciesIsNotTrustedInReports: an exception created before the
// admission policies came into force may carry an approval nobody checked (a tenant typed a
// security lead's name into it on a fresh install, before the operator wrote its policies). The
// exception reconciler marks it status.unverifiedApprovalGeneration, but the profiles are
// evaluated at the same moment (both are resynced when the policies come into force): an
// evaluation that runs first must not waive findings with that approval, nor show its approver
// in the report.
func TestApprovalWrittenBeforeThePoliciesIsNotTrustedInReports(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "predates-a", map[string]string{"predates": "true"})
	if err := k8s.Create(ctx, deployment("predates-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "predates", "predates", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	waitWritten(t, "predates-a", "predates")
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: "predates-a"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "Approved by the security lead, honestly.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	since := approval.InForceSince()
	if since.IsZero() {
		t.Fatal("the suite's admission policies are not in force")
	}

	var mu sync.Mutex
	var written *v1alpha1.ComplianceReport
	c := failing(t, interceptor.Funcs{
		// The exception as it would be had it been created, and "approved" by its author, before
		// the policies came into force, and not yet judged by the exception reconciler.
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := cl.List(ctx, list, opts...); err != nil {
				return err
			}
			if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
				for i := range l.Items {
					if it := &l.Items[i]; it.Namespace == "predates-a" {
						it.CreationTimestamp = metav1.NewTime(since.Add(-time.Minute))
						it.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: "security-lead@example.com"}
						it.Status = v1alpha1.ControlExceptionStatus{}
					}
				}
			}
			return nil
		},
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if rep, ok := obj.(*v1alpha1.ComplianceReport); ok && rep.Namespace == "predates-a" {
				mu.Lock()
				written = rep.DeepCopy()
				mu.Unlock()
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Deployment")
	r.Approval, r.Clock = approval, clk
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "predates-a", Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if written == nil {
		t.Fatal("the evaluation wrote no report")
	}
	for _, u := range written.Status.Exceptions {
		if u.Name == "predates-a/forged" && (u.State == v1alpha1.ExceptionActive || u.ApprovedBy != "") {
			t.Errorf("the report lists the exception as %s approved by %q, trusting an approval written before the policies", u.State, u.ApprovedBy)
		}
	}
	if written.Status.Summary.Excepted != 0 {
		t.Errorf("%d findings excepted by an approval written before the policies", written.Status.Summary.Excepted)
	}
}

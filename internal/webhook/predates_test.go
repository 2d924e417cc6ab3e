package webhook_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAnApprovalWrittenBeforeThePoliciesAdmitsNothing: an exception created before the
// operator's admission policies came into force (a fresh install, or GitOps not yet applied)
// may carry an approval nobody checked, a namespace admin's own name for a security lead's.
// The reconcilers do not trust it until it is approved again under the policies; neither may
// the webhook, or a tenant could waive a Critical finding under Enforce with it.
func TestAnApprovalWrittenBeforeThePoliciesAdmitsNothing(t *testing.T) {
	const ns = "enforce-predates"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"agent"}},
			Reason: "Approved by the security lead, honestly.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
	if err := k.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	since := approval.InForceSince()
	if since.IsZero() {
		t.Fatal("the suite's admission policies are not in force")
	}
	w, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	// The exception as the webhook would read it had its author created and "approved" it before
	// the policies came into force, and the exception reconciler not yet marked it.
	forged := func(created time.Time) client.Client {
		return interceptor.NewClient(w, interceptor.Funcs{
			List: testenv.ListedExceptions(func(it *v1alpha1.ControlException) {
				if it.Namespace == ns && it.Name == "forged" {
					it.CreationTimestamp = metav1.NewTime(created)
					it.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: "security-lead@example.com"}
					it.Status = v1alpha1.ControlExceptionStatus{}
				}
			}),
		})
	}
	req := admission.Request{AdmissionRequest: *creatingDeployment(t, deployment(ns, "agent", true))}

	// Approved under the policies (created after they came into force), it admits agent: the
	// test can tell a waiver from a denial.
	v, err := validator(forged(since.Add(time.Minute)), k)
	if err != nil {
		t.Fatal(err)
	}
	v.Approval = approval
	if resp := v.Handle(ctx, req); !resp.Allowed {
		t.Fatalf("an exception approved under the policies did not admit the Deployment it waives: %+v", resp.Result)
	}

	v, err = validator(forged(since.Add(-time.Minute)), k)
	if err != nil {
		t.Fatal(err)
	}
	v.Approval = approval
	if resp := v.Handle(ctx, req); resp.Allowed {
		t.Error("an approval written before the admission policies came into force admitted a privileged Deployment under Enforce")
	}
}

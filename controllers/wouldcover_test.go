package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAPendingExceptionShowsWhatItsApprovalWouldCover: a PendingApproval exception waives
// nothing, so before this its status showed an approver nothing of what an approval would
// waive. It now shows wouldCover and wouldCoverDigest (what coveredDigest will be once
// approved), which follow a tenant's relabelling; the approval's baseline equals the digest the
// approver read; and an approver who pins that digest (approval.coveredDigest) is told at once
// when the tenant relabelled between their reading and their approval. The requester cannot
// write the pin: it is part of the approval, which only an approver writes.
func TestAPendingExceptionShowsWhatItsApprovalWouldCover(t *testing.T) {
	ctx := context.Background()
	const ns, prof = "exwould-a", "exwould"
	createNamespace(t, ns, map[string]string{prof: "true"})
	for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
		if err := k8s.Create(ctx, deployment(ns, name, true)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, prof, prof, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	waitWritten(t, ns, prof)
	label := func(name, key, value string) {
		t.Helper()
		d := deployment(ns, name, true)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(d.DeepCopy())
		d.Labels[key] = value
		if err := k8s.Patch(ctx, d, patch); err != nil {
			t.Fatal(err)
		}
	}
	byLabel := func(name, key string) *v1alpha1.ControlException {
		return &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
				Match:  v1alpha1.ResourceMatch{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "yes"}}},
				Reason: "The labelled workload loads a kernel module.", Owner: "team-a@example.com",
				Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
	}
	wait := func(ex *v1alpha1.ControlException, what string, ok func(st *v1alpha1.ControlExceptionStatus) error) *v1alpha1.ControlExceptionStatus {
		t.Helper()
		return waitExceptionStatus(t, ex, what, ok)
	}
	pendingCovering := func(not string) func(st *v1alpha1.ControlExceptionStatus) error {
		return func(st *v1alpha1.ControlExceptionStatus) error {
			if st.State != v1alpha1.ExceptionPendingApproval || st.MatchedFindings != 0 || st.CoveredDigest != "" {
				return fmt.Errorf("state %s, covers %d findings (%q)", st.State, st.MatchedFindings, st.CoveredDigest)
			}
			if st.WouldCover == nil || *st.WouldCover != 1 || st.WouldCoverDigest == "" || st.WouldCoverDigest == noneCovered || st.WouldCoverDigest == not {
				return fmt.Errorf("would cover %v findings, digest %q (not %q)", st.WouldCover, st.WouldCoverDigest, not)
			}
			return nil
		}
	}
	// approve approves the exception as the approver, in one write, pinned to pin unless "".
	approve := func(ex *v1alpha1.ControlException, pin string) {
		t.Helper()
		if pin == "" {
			if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
				t.Fatal(err)
			}
			return
		}
		got := &v1alpha1.ControlException{}
		if err := approver.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(got.DeepCopy())
		got.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: testenv.ApproverName, CoveredDigest: pin}
		if err := approver.Patch(ctx, got, patch); err != nil {
			t.Fatal(err)
		}
	}
	changed := func(st *v1alpha1.ControlExceptionStatus) *metav1.Condition {
		return meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	}

	// Pending, it shows what it would cover, and follows the tenant's relabelling.
	label("alpha", "waiver", "yes")
	plain := byLabel("plain", "waiver")
	if err := k8s.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	alpha := wait(plain, "the pending exception showing it would cover alpha", pendingCovering("")).WouldCoverDigest
	label("alpha", "waiver", "no")
	label("beta", "waiver", "yes")
	beta := wait(plain, "the pending exception showing it would cover beta", pendingCovering(alpha)).WouldCoverDigest

	// Approved, what it covers is what it showed.
	approve(plain, "")
	st := wait(plain, "the approved exception covering beta", func(st *v1alpha1.ControlExceptionStatus) error {
		if c := changed(st); st.State != v1alpha1.ExceptionActive || c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("state %s, condition %+v", st.State, c)
		}
		return nil
	})
	if st.CoveredDigest != beta || st.ApprovedCoveredDigest != beta || st.WouldCover != nil || st.WouldCoverDigest != "" {
		t.Fatalf("approved while it would cover %q, it covers %q, approved %q, would cover %v (%q)",
			beta, st.CoveredDigest, st.ApprovedCoveredDigest, st.WouldCover, st.WouldCoverDigest)
	}

	// An approver reads what the next one would cover (gamma), the tenant relabels (delta),
	// and the approver approves what they read, pinned.
	label("gamma", "pinned", "yes")
	pinned := byLabel("pinned", "pinned")
	if err := k8s.Create(ctx, pinned); err != nil {
		t.Fatal(err)
	}
	gamma := wait(pinned, "the pending exception showing it would cover gamma", pendingCovering("")).WouldCoverDigest
	label("gamma", "pinned", "no")
	label("delta", "pinned", "yes")
	wait(pinned, "the pending exception showing it would cover delta", pendingCovering(gamma))
	approve(pinned, gamma)
	st = wait(pinned, "the pinned approval saying at once that it covers other findings", func(st *v1alpha1.ControlExceptionStatus) error {
		if c := changed(st); st.State != v1alpha1.ExceptionActive || c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonCoveredChanged {
			return fmt.Errorf("state %s, condition %+v", st.State, c)
		}
		return nil
	})
	if st.ApprovedCoveredDigest != gamma || st.CoveredDigest == gamma {
		t.Fatalf("pinned to %q, the approval records %q and covers %q", gamma, st.ApprovedCoveredDigest, st.CoveredDigest)
	}

	// The requester cannot pin (or re-pin) an approval: the API server checks it as a whole.
	got := &v1alpha1.ControlException{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(pinned), got); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(got.DeepCopy())
	got.Approval.CoveredDigest = st.CoveredDigest
	if err := k8s.Patch(ctx, got, patch); err == nil {
		t.Fatalf("the requester re-pinned the approval to %q", st.CoveredDigest)
	}
}

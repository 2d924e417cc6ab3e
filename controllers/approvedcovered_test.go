package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAWaiverMovedAfterApprovalSaysSo: an approver approves a waiver that selects workloads by
// label while it covers Deployment alpha; the namespace's tenant then takes the label off alpha
// and puts it on beta. The approval still stands (the spec did not change), but what it waives
// is not what was approved: the exception's status must say so (CoveredChangedSinceApproval),
// keep saying so when the label moves back (beta's findings were waived unapproved meanwhile),
// and only an approver writing the approval again clears it. The tenant cannot write the
// recorded digest: it is status, which a write of the object does not change.
func TestAWaiverMovedAfterApprovalSaysSo(t *testing.T) {
	ctx := context.Background()
	const ns, prof = "exapproved-a", "exapproved"
	hook := newReceiver(t, 0, false)
	createNamespace(t, ns, map[string]string{prof: "true"})
	if err := k8s.Create(ctx, deployment(ns, "alpha", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, prof, prof, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
		p.Spec.Alerts = &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	waitWritten(t, ns, prof)
	if err := k8s.Create(ctx, deployment(ns, "beta", true)); err != nil {
		t.Fatal(err)
	}
	relabel := func(name, value string) { t.Helper(); relabelWaiver(t, ns, name, value) }
	relabel("alpha", "yes")
	relabel("beta", "no")
	ex := waiverByLabel(ns)
	createApproved(t, ex)

	// wait waits until the exception's status satisfies ok, and returns it.
	wait := func(what string, ok func(st *v1alpha1.ControlExceptionStatus) error) *v1alpha1.ControlExceptionStatus {
		t.Helper()
		return waitExceptionStatus(t, ex, what, ok)
	}
	changed := func(st *v1alpha1.ControlExceptionStatus) *metav1.Condition {
		return meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	}
	asApproved := func(st *v1alpha1.ControlExceptionStatus) error {
		if c := changed(st); c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonCoveredAsApproved {
			return fmt.Errorf("condition %+v", c)
		}
		if st.MatchedFindings != 1 || st.CoveredDigest == "" || st.ApprovedCoveredDigest != st.CoveredDigest {
			return fmt.Errorf("covers %d findings, digest %q, approved %q", st.MatchedFindings, st.CoveredDigest, st.ApprovedCoveredDigest)
		}
		return nil
	}
	approvedAlpha := wait("the approval recording that it covers alpha", asApproved).ApprovedCoveredDigest

	// The tenant moves the waiver.
	relabel("alpha", "no")
	relabel("beta", "yes")
	moved := wait("the exception saying it covers other findings than approved", func(st *v1alpha1.ControlExceptionStatus) error {
		if c := changed(st); c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonCoveredChanged {
			return fmt.Errorf("condition %+v, digest %q, approved %q", c, st.CoveredDigest, st.ApprovedCoveredDigest)
		}
		return nil
	})
	if moved.ApprovedCoveredDigest != approvedAlpha || moved.CoveredDigest == approvedAlpha || moved.MatchedFindings != 1 {
		t.Fatalf("after the move the status covers %d findings, digest %q, approved %q (alpha: %q)",
			moved.MatchedFindings, moved.CoveredDigest, moved.ApprovedCoveredDigest, approvedAlpha)
	}
	approvedBeta := moved.CoveredDigest
	// served waits until the operator's metrics serve the exception's
	// soc2_operator_exception_covered_changed series (at 1), or not.
	served := func(want bool) {
		t.Helper()
		series := `soc2_operator_exception_covered_changed{exception="by-label",namespace="` + ns + `"} 1`
		eventually(t, 20*time.Second, fmt.Sprintf("the covered-changed series served: %v", want), func() error {
			if got := strings.Contains(scrape(t), series+"\n"); got != want {
				return fmt.Errorf("served: %v", got)
			}
			return nil
		})
	}
	served(true)
	eventually(t, 20*time.Second, "the ExceptionCoveredChanged alert", func() error {
		if n := hook.count(string(v1alpha1.AlertExceptionCoveredChanged)); n != 1 {
			return fmt.Errorf("%d ExceptionCoveredChanged alerts received", n)
		}
		return nil
	})
	for _, b := range hook.received() {
		if b["event"] == string(v1alpha1.AlertExceptionCoveredChanged) &&
			(b["exception"] != ns+"/by-label" || !strings.Contains(fmt.Sprint(b["message"]), approvedAlpha) || !strings.Contains(fmt.Sprint(b["message"]), approvedBeta)) {
			t.Errorf("the alert %v does not name the exception and both digests", b)
		}
	}

	// The tenant writes the recorded digest through the object: status is not written so.
	forged := &v1alpha1.ControlException{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), forged); err != nil {
		t.Fatal(err)
	}
	forged.Status.ApprovedCoveredDigest = approvedBeta
	meta.RemoveStatusCondition(&forged.Status.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	if err := k8s.Update(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if forged.Status.ApprovedCoveredDigest != approvedAlpha {
		t.Fatalf("a write of the exception set its status.approvedCoveredDigest to %q", forged.Status.ApprovedCoveredDigest)
	}

	// And moves it back: beta's finding was waived unapproved meanwhile, so it still says so.
	relabel("beta", "no")
	relabel("alpha", "yes")
	back := wait("the exception covering alpha again", func(st *v1alpha1.ControlExceptionStatus) error {
		if st.CoveredDigest != approvedAlpha {
			return fmt.Errorf("digest %q, not alpha's %q", st.CoveredDigest, approvedAlpha)
		}
		return nil
	})
	if c := changed(back); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("moved back to what was approved, the exception's condition says %+v: the unapproved waiver of beta is forgotten", c)
	}

	// Moved to beta again, and an approver approves it again (with a comment saying why).
	relabel("alpha", "no")
	relabel("beta", "yes")
	wait("the exception covering beta again", func(st *v1alpha1.ControlExceptionStatus) error {
		if st.CoveredDigest != approvedBeta {
			return fmt.Errorf("digest %q, not beta's %q", st.CoveredDigest, approvedBeta)
		}
		return nil
	})
	again := &v1alpha1.ControlException{}
	if err := approver.Get(ctx, client.ObjectKeyFromObject(ex), again); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(again.DeepCopy())
	again.Approval.Comment = "Reviewed: beta loads the module now."
	if err := approver.Patch(ctx, again, patch); err != nil {
		t.Fatal(err)
	}
	reapproved := wait("the approval written again recording that it covers beta", asApproved)
	if reapproved.ApprovedCoveredDigest != approvedBeta {
		t.Fatalf("approved again while covering beta (%q), the status records %q", approvedBeta, reapproved.ApprovedCoveredDigest)
	}
	served(false)
	if n := hook.count(string(v1alpha1.AlertExceptionCoveredChanged)); n != 1 {
		t.Errorf("%d ExceptionCoveredChanged alerts for one move (moving back and approving again send none)", n)
	}
}

// waitExceptionStatus waits until the status of exception ex (as the API server has it)
// satisfies ok, and returns it.
func waitExceptionStatus(t *testing.T, ex *v1alpha1.ControlException, what string, ok func(st *v1alpha1.ControlExceptionStatus) error) *v1alpha1.ControlExceptionStatus {
	t.Helper()
	got := &v1alpha1.ControlException{}
	eventually(t, 20*time.Second, what, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		return ok(&got.Status)
	})
	return &got.Status
}

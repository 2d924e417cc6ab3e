package controllers

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestTheJournalRecordsAWaiverMovedAfterApproval: a tenant moves an approved waiver (its label
// taken off the Deployment approved and put on another) and its status says
// CoveredChangedSinceApproval, but the evidence journal recorded nothing of it: an auditor
// reading the evidence pack saw an approved exception and the findings it waived, never that
// it waived findings its approver had not seen. The journal now records the change
// (exception.covered-changed, with what it covers and what was approved) and its review by an
// approver (exception.covered-cleared, with who approved it again).
func TestTheJournalRecordsAWaiverMovedAfterApproval(t *testing.T) {
	ctx := context.Background()
	const ns, prof = "jcovered-a", "jcovered"
	createNamespace(t, ns, map[string]string{prof: "true"})
	for _, name := range []string{"alpha", "beta"} {
		if err := k8s.Create(ctx, deployment(ns, name, true)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, prof, prof, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	waitWritten(t, ns, prof)
	relabelWaiver(t, ns, "alpha", "yes")
	relabelWaiver(t, ns, "beta", "no")
	ex := waiverByLabel(ns)
	createApproved(t, ex)
	wait := func(what string, ok func(st *v1alpha1.ControlExceptionStatus) error) *v1alpha1.ControlExceptionStatus {
		t.Helper()
		return waitExceptionStatus(t, ex, what, ok)
	}
	condition := func(want metav1.ConditionStatus) func(st *v1alpha1.ControlExceptionStatus) error {
		return func(st *v1alpha1.ControlExceptionStatus) error {
			if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval); c == nil || c.Status != want || st.CoveredDigest == "" {
				return fmt.Errorf("condition %+v, digest %q, approved %q", c, st.CoveredDigest, st.ApprovedCoveredDigest)
			}
			return nil
		}
	}
	approvedAlpha := wait("the approval recording that it covers alpha", condition(metav1.ConditionFalse)).ApprovedCoveredDigest

	relabelWaiver(t, ns, "alpha", "no")
	relabelWaiver(t, ns, "beta", "yes")
	moved := wait("the exception saying it covers other findings than approved", condition(metav1.ConditionTrue))
	ours := func(r *journal.Record) bool {
		return r.Namespace == ns && r.Exception != nil && r.Exception.Name == ex.Name &&
			(r.Type == journal.ExceptionCoveredChanged || r.Type == journal.ExceptionCoveredCleared)
	}
	recs := waitForRecords(t, "the journal recording the moved waiver", ours, "exception.covered-changed "+ns+"/by-label")
	if len(recs) != 1 {
		t.Fatalf("records of the move: %v", describe(recs))
	}
	if got := recs[0].Exception; got.CoveredDigest != moved.CoveredDigest || got.ApprovedCoveredDigest != approvedAlpha ||
		got.ApprovedBy != testenv.ApproverName || got.CoveredDigest == approvedAlpha {
		t.Errorf("the record says it covers %q, approved %q by %q; want %q, approved %q by %q",
			got.CoveredDigest, got.ApprovedCoveredDigest, got.ApprovedBy, moved.CoveredDigest, approvedAlpha, testenv.ApproverName)
	}

	// An approver reviews it and approves it again.
	again := &v1alpha1.ControlException{}
	if err := approver.Get(ctx, client.ObjectKeyFromObject(ex), again); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(again.DeepCopy())
	again.Approval.Comment = "Reviewed: beta loads the module now."
	if err := approver.Patch(ctx, again, patch); err != nil {
		t.Fatal(err)
	}
	wait("the approval written again", condition(metav1.ConditionFalse))
	recs = waitForRecords(t, "the journal recording the review", ours, "exception.covered-changed "+ns+"/by-label", "exception.covered-cleared "+ns+"/by-label")
	if len(recs) != 2 || recs[1].Type != journal.ExceptionCoveredCleared || recs[1].Exception.ApprovedBy != testenv.ApproverName {
		t.Errorf("records of the move and its review: %v", describe(recs))
	}
}

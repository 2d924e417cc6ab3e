package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnAdminWaiverOfSeveralNamespacesKeepsWhatItCoveredWhenApproved: an exception of the
// operator's namespace that selects several namespaces is judged Active everywhere only by a
// full evaluation, so its approval's baseline (status.approvedCoveredDigest) was recorded then,
// from what it covered at that moment: a tenant of one of its namespaces who labelled a
// workload into its selector after the approval, before the next full evaluation (up to the
// profile's interval), had that workload taken into the baseline, and the condition said
// "Covers the findings it covered when approved". The baseline is now what the first
// evaluation of each namespace with the approval found, and the relabelled workload turns
// CoveredChangedSinceApproval True once the full evaluation judges it.
func TestAnAdminWaiverOfSeveralNamespacesKeepsWhatItCoveredWhenApproved(t *testing.T) {
	ctx := context.Background()
	const nsA, nsB, prof = "exadminbase-a", "exadminbase-b", "exadminbase"
	for _, ns := range []string{nsA, nsB} {
		createNamespace(t, ns, map[string]string{prof: "true"})
	}
	for _, d := range [][2]string{{nsA, "alpha"}, {nsA, "beta"}, {nsB, "gamma"}} {
		if err := k8s.Create(ctx, deployment(d[0], d[1], true)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, prof, prof, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	waitWritten(t, nsA, prof)
	waitWritten(t, nsB, prof)
	relabelWaiver(t, nsA, "alpha", "yes")
	relabelWaiver(t, nsA, "beta", "no")
	relabelWaiver(t, nsB, "gamma", "yes")
	ex := waiverByLabel(adminNamespace)
	ex.Name = "exadminbase-by-label"
	ex.Spec.Match.Namespaces = []string{nsA, nsB}
	createApproved(t, ex)
	wait := func(what string, ok func(st *v1alpha1.ControlExceptionStatus) error) *v1alpha1.ControlExceptionStatus {
		t.Helper()
		return waitExceptionStatus(t, ex, what, ok)
	}
	covering := func(n int32) func(st *v1alpha1.ControlExceptionStatus) error {
		return func(st *v1alpha1.ControlExceptionStatus) error {
			if st.State != v1alpha1.ExceptionActive || st.MatchedFindings != n {
				return fmt.Errorf("state %s, covers %d findings (%q)", st.State, st.MatchedFindings, st.CoveredDigest)
			}
			return nil
		}
	}
	approved := wait("the approved exception covering alpha and gamma", covering(2)).CoveredDigest

	// After the approval, before a full evaluation: the tenant of nsA labels beta in.
	relabelWaiver(t, nsA, "beta", "yes")
	wait("the exception covering beta too", covering(3))
	resyncAndWait(t, time.Second, prof)
	st := wait("the approval's baseline recorded", func(st *v1alpha1.ControlExceptionStatus) error {
		if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval); c == nil || c.Status == metav1.ConditionUnknown {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionCoveredChangedSinceApproval)
	if st.ApprovedCoveredDigest != approved || c.Status != metav1.ConditionTrue {
		t.Errorf("the approval's baseline is %q (alpha and gamma: %q), condition %s: %s", st.ApprovedCoveredDigest, approved, c.Status, c.Message)
	}
}

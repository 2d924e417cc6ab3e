package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestAFindingLeftNotAssessedIsNotJournaledAsResolved (real API server): a namespace admin whose
// Deployment fails sec-literal-env-credentials (a GitHub token in its args) hides the token
// inside an argument of text dense with gitleaks' keywords, past the work the operator spends on
// a workload's command lines: the check is NotAssessed for the container, and the token is still
// there. The journal closes the finding, but not as resolved: the evidence pack counts only a
// resolved closing as a remediation (and its time in the time to remediate), and nothing was
// remediated.
func TestAFindingLeftNotAssessedIsNotJournaledAsResolved(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jna", "jna-a"
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	createNamespace(t, ns, map[string]string{"jna": "true"})
	if err := k8s.Create(ctx, argvDeployment(ns, "web", []string{"serve", token})); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "jna", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	inScope := func(r *journal.Record) bool { return r.Profile == profile && r.Namespace == ns }
	waitForRecords(t, "the finding journaled", inScope, "finding.opened sec-literal-env-credentials web/app")

	dense := denseText(t, 20000) // ~4 M units of gitleaks' work, past argvCredentialWork
	updateDeployment(t, ns, "web", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Args = []string{"serve", dense + " " + token}
	})
	eventually(t, 30*time.Second, "web NotAssessed", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if s := rep.Status.Summary; s.NotAssessed != 1 || s.Failing != 0 {
			return fmt.Errorf("want 1 not assessed, none failing; have %+v", s)
		}
		return nil
	})
	recs := waitForRecords(t, "the finding closed", inScope, "finding.closed sec-literal-env-credentials web/app")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && r.Finding.CloseReason != journal.CloseNotAssessed {
			t.Errorf("a finding the check can no longer decide, its token still in the args, closed %q, want %q: the evidence pack counts a resolved one remediated", r.Finding.CloseReason, journal.CloseNotAssessed)
		}
	}
}

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
// there. The journal closed the finding (not-assessed, since the evidence pack counts a resolved
// closing as a remediation); the result is now unread, which the report lists among the
// findings and its criterion fails closed on: the finding stays open, and the attestation after
// it counts the resource NotAssessed.
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
	eventually(t, 30*time.Second, "web NotAssessed, unread, listed", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if s := rep.Status.Summary; s.NotAssessed != 1 || s.Failing != 0 {
			return fmt.Errorf("want 1 not assessed, none failing; have %+v", s)
		}
		if f := finding(rep, "sec-literal-env-credentials", "web", "app"); f == nil || f.Result != v1alpha1.ResultNotAssessed || rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("want web's unread finding listed and the report NonCompliant, have %+v, %s", f, rep.Status.Result)
		}
		return nil
	})
	attested := func() []journal.Record {
		return journalRecords(t, func(r *journal.Record) bool { return inScope(r) && r.Type == journal.Attestation })
	}
	before := len(attested())
	resyncAndWait(t, attestationInterval, profile)
	eventually(t, 20*time.Second, "an attestation after the change", func() error {
		if n := len(attested()); n <= before {
			return fmt.Errorf("%d attestations, as before", n)
		}
		return nil
	})
	for _, r := range journalRecords(t, inScope) {
		if r.Type == journal.FindingClosed {
			t.Errorf("the finding closed %q: its token is still in the args, past what the operator reads, and the report lists it", r.Finding.CloseReason)
		}
	}
	as := attested()
	for _, c := range as[len(as)-1].Attestation.Checks {
		if c.Check == "sec-literal-env-credentials" && (c.NotAssessed != 1 || c.Failed != 0) {
			t.Errorf("the attestation's population of sec-literal-env-credentials is %+v; want web NotAssessed", c)
		}
	}
}

// TestAnAttestationCountsWhatItsCheckLeftNotAssessed (real API server): the attestation states
// each check's population (the resources an auditor samples from) with how many of them failed
// and how many were excepted; a namespace admin's Deployment whose token is hidden past the work
// the operator spends on command lines is in sec-literal-env-credentials' population, neither
// failed nor excepted: without a count of what the check left NotAssessed, the attestation says
// the check held on every resource of its population.
func TestAnAttestationCountsWhatItsCheckLeftNotAssessed(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jnb", "jnb-a"
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	createNamespace(t, ns, map[string]string{"jnb": "true"})
	for name, args := range map[string][]string{"web": {"serve", denseText(t, 20000) + " " + token}, "api": {"serve"}} {
		if err := k8s.Create(ctx, argvDeployment(ns, name, args)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "jnb", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	eventually(t, 30*time.Second, "web NotAssessed, api passing", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if s := rep.Status.Summary; s.NotAssessed != 1 || s.Passed != 1 || s.Failing != 0 {
			return fmt.Errorf("want 1 not assessed, 1 passed; have %+v", s)
		}
		return nil
	})
	// The namespace's first evaluation is attested at once.
	var pop journal.CheckPopulation
	eventually(t, 20*time.Second, "an attestation of "+ns, func() error {
		recs := journalRecords(t, func(r *journal.Record) bool {
			return r.Type == journal.Attestation && r.Profile == profile && r.Namespace == ns
		})
		if len(recs) == 0 {
			return fmt.Errorf("none yet")
		}
		a := recs[len(recs)-1].Attestation
		for _, c := range a.Checks {
			if c.Check == "sec-literal-env-credentials" {
				if c.Count != 2 {
					return fmt.Errorf("population %+v; want 2", c)
				}
				pop = c
				return nil
			}
		}
		return fmt.Errorf("no population of sec-literal-env-credentials in %+v", a.Checks)
	})
	if pop.NotAssessed != 1 || pop.Failed != 0 || pop.Excepted != 0 {
		t.Errorf("the attestation's population of sec-literal-env-credentials is %+v; want 1 NotAssessed of 2, none failed or excepted", pop)
	}
}

// TestAFindingLeftNotAssessedUnderAnotherContainerNameIsNotResolved: the same, but the tenant
// renames the container in the change that hides the token: the finding on container app
// closes, moved (not resolved), and the check's unread result on the Deployment's container
// worker opens one in the same evaluation.
func TestAFindingLeftNotAssessedUnderAnotherContainerNameIsNotResolved(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jnc", "jnc-a"
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	createNamespace(t, ns, map[string]string{"jnc": "true"})
	if err := k8s.Create(ctx, argvDeployment(ns, "web", []string{"serve", token})); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "jnc", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	inScope := func(r *journal.Record) bool { return r.Profile == profile && r.Namespace == ns }
	waitForRecords(t, "the finding journaled", inScope, "finding.opened sec-literal-env-credentials web/app")

	dense := denseText(t, 20000)
	updateDeployment(t, ns, "web", func(d *appsv1.Deployment) {
		c := &d.Spec.Template.Spec.Containers[0]
		c.Name, c.Args = "worker", []string{"serve", dense + " " + token}
	})
	// The check's result on container worker is unread, a finding opened in the same
	// evaluation: the failure moved with the container.
	recs := waitForRecords(t, "the finding closed", inScope, "finding.closed sec-literal-env-credentials web/app",
		"finding.opened sec-literal-env-credentials web/worker")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && r.Finding.CloseReason != journal.CloseMoved {
			t.Errorf("the finding closed %q, want %q: its token is in container worker, whose unread result the report lists", r.Finding.CloseReason, journal.CloseMoved)
		}
	}
}

// TestAFindingMovedToARenamedContainerIsNotResolved: a namespace admin renames the container
// that fails (app -> worker), changing nothing else. The finding on app closes and one on worker
// opens in the same evaluation, of the same check on the same Deployment: the failure went on,
// and the closing is no remediation (a tenant renaming it every day showed every finding
// remediated within a day, the violation never ending).
func TestAFindingMovedToARenamedContainerIsNotResolved(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jnd", "jnd-a"
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	createNamespace(t, ns, map[string]string{"jnd": "true"})
	if err := k8s.Create(ctx, argvDeployment(ns, "web", []string{"serve", token})); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "jnd", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	inScope := func(r *journal.Record) bool { return r.Profile == profile && r.Namespace == ns }
	waitForRecords(t, "the finding journaled", inScope, "finding.opened sec-literal-env-credentials web/app")

	updateDeployment(t, ns, "web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Name = "worker" })
	recs := waitForRecords(t, "the finding moved", inScope,
		"finding.closed sec-literal-env-credentials web/app", "finding.opened sec-literal-env-credentials web/worker")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && r.Finding.CloseReason != journal.CloseMoved {
			t.Errorf("the finding on container app closed %q, want moved, though the same check fails on the Deployment's container worker, opened in the same evaluation", r.Finding.CloseReason)
		}
	}
}

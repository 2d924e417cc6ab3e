package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestAnExceptionThatWaivesAnUndecidedResultIsNotUnused: a custom check whose expression the
// Deployment breaks (a label it reads left out) is NotAssessed and counts as failing; an
// approved exception for the check waives it, as it would its failure: the report counts it
// Excepted and the finding names the exception. But the report's exceptions said that
// exception covered 0 findings ("0 means unused") and its status said matchedFindings 0, while
// its waiver was all that kept the namespace Compliant: a reviewer removing "unused" exceptions
// would remove it, and an auditor found an excepted finding no exception accounted for. Both
// count it.
func TestAnExceptionThatWaivesAnUndecidedResultIsNotUnused(t *testing.T) {
	const ns = "undecided-waived"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{ns: "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, ns, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}}
	})
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-web", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"custom-public"},
			Match:  v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"web"}},
			Reason: "web is retired next quarter (DATA-7).", Owner: "team-web@example.com",
			Expires: metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour))},
	}
	createApproved(t, ex)
	key := ns + "/" + ex.Name
	eventually(t, 30*time.Second, "web's undecided result waived, and the exception covering it", func() error {
		rep, err := getReport(ns, ns)
		if err != nil {
			return err
		}
		f := finding(rep, "custom-public", "web", "")
		if f == nil || f.Result != v1alpha1.ResultNotAssessed || f.Exception != key || rep.Status.Summary.Excepted != 1 {
			return fmt.Errorf("web: want a NotAssessed finding waived by %s, have %+v (%d excepted)", key, f, rep.Status.Summary.Excepted)
		}
		var usage *v1alpha1.ExceptionUsage
		for i := range rep.Status.Exceptions {
			if rep.Status.Exceptions[i].Name == key {
				usage = &rep.Status.Exceptions[i]
			}
		}
		if usage == nil || usage.Findings != 1 {
			return fmt.Errorf("the report's exceptions: %+v; want %s covering 1 finding", rep.Status.Exceptions, key)
		}
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State != v1alpha1.ExceptionActive || got.Status.MatchedFindings != 1 {
			return fmt.Errorf("the exception is %s with matchedFindings %d, want Active and 1", got.Status.State, got.Status.MatchedFindings)
		}
		return nil
	})
}

// TestTheJournalRecordsTheWaiverOfAnUndecidedResult: the evidence journal recorded a result its
// object left undecided (counted as failing) as an open finding, and never as excepted when an
// approved exception waived it: the report counted it Excepted and named the exception, while
// the evidence an auditor reads had an open deviation nobody accepted. The journal records the waiver, as it does a waived failure's.
func TestTheJournalRecordsTheWaiverOfAnUndecidedResult(t *testing.T) {
	const ns = "undecided-journal"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{ns: "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, ns, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}}
	})
	waitForProfileRecords(t, "web's undecided result journaled as a finding", ns, "finding.opened custom-public web/")
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-web", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"custom-public"},
			Match:  v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"web"}},
			Reason: "web is retired next quarter (DATA-7).", Owner: "team-web@example.com",
			Expires: metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour))},
	}
	createApproved(t, ex)
	eventually(t, 30*time.Second, "the report counting web's result excepted", func() error {
		rep, err := getReport(ns, ns)
		if err != nil {
			return err
		}
		if f := finding(rep, "custom-public", "web", ""); f == nil || f.Exception != ns+"/legacy-web" || rep.Status.Summary.Excepted != 1 {
			return fmt.Errorf("web: %+v, %d excepted", f, rep.Status.Summary.Excepted)
		}
		return nil
	})
	waitForProfileRecords(t, "the waiver journaled", ns, "finding.excepted custom-public web/ by "+ns+"/legacy-web")
}

// waitForProfileRecords is waitForRecords for the records of one profile, without verifying
// the whole journal: the test is about what is recorded, and other tests of the suite journal
// with clocks of their own, which its verification of every segment may refuse as from the
// future, depending on which ran before.
func waitForProfileRecords(t *testing.T, what, profile string, want ...string) {
	t.Helper()
	eventually(t, 20*time.Second, what, func() error {
		var recs []journal.Record
		_, err := journal.Scan(context.Background(), journalStore.Store, journal.ScanOptions{Cluster: "test", OnRecord: func(line []byte) error {
			var r journal.Record
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			if r.Profile == profile {
				recs = append(recs, r)
			}
			return nil
		}})
		if err != nil {
			return err
		}
		got := strings.Join(describe(recs), "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				return fmt.Errorf("no %q in the journal:\n%s", w, got)
			}
		}
		return nil
	})
}

// TestAnExceptionSaysItWaivesUndecidedResults: an exception that waives a result its object left
// undecided (NotAssessed: the custom check's expression never decided it) counts it among
// matchedFindings, as it does a waived failure, and the namespace reads Compliant. Its status
// did not say that what it waived was never judged: a reviewer renewing it read "1 finding" and
// took it for an accepted failure. status.undecidedFindings counts those results, of
// matchedFindings.
func TestAnExceptionSaysItWaivesUndecidedResults(t *testing.T) {
	const ns = "undecided-status"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{ns: "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	api := deployment(ns, "api", false)
	api.Labels["data-classification"] = "restricted"
	if err := k8s.Create(ctx, api); err != nil {
		t.Fatal(err)
	}
	createProfile(t, ns, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}}
	})
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"custom-public"},
			Match:  v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"web", "api"}},
			Reason: "web and api are retired next quarter (DATA-7).", Owner: "team-web@example.com",
			Expires: metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour))},
	}
	createApproved(t, ex)
	eventually(t, 30*time.Second, "the exception saying which of its findings were undecided", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		// custom-public fails api (restricted data) and cannot decide web (no label).
		if got.Status.State != v1alpha1.ExceptionActive || got.Status.MatchedFindings != 2 || got.Status.UndecidedFindings != 1 {
			return fmt.Errorf("the exception is %s with matchedFindings %d, undecidedFindings %d; want Active, 2 and 1",
				got.Status.State, got.Status.MatchedFindings, got.Status.UndecidedFindings)
		}
		return nil
	})
}

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A finding fixed and broken again within the second it was first seen (a tenant applying a
// privileged Deployment, a fixed one and the privileged one again, each evaluated at once) was
// journaled opened again with the same first-seen time as the deviation just closed: the evidence
// pack, which reads a deviation as its finding and first-seen time (so that a second leader's
// duplicate closing is not another deviation), dropped the reopened one, and every attestation
// listing it open after that. A privileged Deployment running all period was absent from
// deviations.csv but for a deviation of 0 hours. The reopened finding's first-seen time in the
// journal is now after the closed one's, and the pack shows it open. (The operator's clock is the
// suite's fake one, which does not move here: every evaluation is in the same second.)
func TestAFindingReopenedInTheSecondItClosedIsAnotherDeviation(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jreopen", "jreopen-a"
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "api", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	mine := func(r *journal.Record) bool {
		return r.Profile == profile && r.Finding != nil && r.Finding.Check == "wl-privileged"
	}
	waitForRecords(t, "the finding opened", mine, "finding.opened wl-privileged api/setup")
	setPrivileged := func(privileged bool) {
		t.Helper()
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "api"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec = deployment(ns, "api", privileged).Spec
		if err := k8s.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	setPrivileged(false)
	waitForRecords(t, "the finding closed", mine, "finding.closed wl-privileged api/setup")
	setPrivileged(true)
	var recs []journal.Record
	eventually(t, 20*time.Second, "the finding opened again", func() error {
		recs = journalRecords(t, mine)
		n := 0
		for _, r := range recs {
			if r.Type == journal.FindingOpened {
				n++
			}
		}
		if n < 2 {
			return fmt.Errorf("%d opened records: %v", n, describe(recs))
		}
		return nil
	})
	var closedSeen, reopenedSeen time.Time
	for _, r := range recs {
		switch {
		case r.Type == journal.FindingClosed:
			closedSeen = r.Finding.FirstSeen
		case r.Type == journal.FindingOpened && !closedSeen.IsZero():
			reopenedSeen = r.Finding.FirstSeen
		}
	}
	if !reopenedSeen.After(closedSeen) {
		t.Errorf("the reopened finding was first seen at %v, the closed one at %v: one deviation to whoever reads the journal", reopenedSeen, closedSeen)
	}

	// And the evidence pack of the period lists it open at its end.
	from := closedSeen.Add(-time.Hour)
	to := clk.Now().Add(time.Hour)
	if n := time.Now().Add(time.Hour); n.After(to) {
		to = n
	}
	pack, err := evidence.Collect(ctx, journalStore.Store, evidence.Options{From: from, To: to, Profile: profile, Clusters: []string{"test"}, Now: func() time.Time { return to }})
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, d := range pack.Deviations {
		if d.Namespace == ns && d.Finding.Check == "wl-privileged" && d.Closed.IsZero() {
			open++
		}
	}
	if open != 1 {
		var got []string
		for _, d := range pack.Deviations {
			got = append(got, fmt.Sprintf("%s %s opened %v closed %v", d.Namespace, d.Finding.Key, d.Opened, d.Closed))
		}
		t.Errorf("the pack lists %d open deviations of the reopened finding, want 1: %q", open, got)
	}
}

// A namespace admin removes the failing container for one evaluation and adds it back under
// another name (the privileged init container setup, then setup2). The journal closes the
// finding on setup resolved (nothing on the Deployment fails in that evaluation) and opens one on
// setup2, another finding key. The evidence pack merged a reopening within an hour of a
// remediated closing into the row only under the same key, container included: it listed the
// first a remediated deviation, with a time to remediate, and the second another row first
// opened at the re-add, though the Deployment ran a privileged container throughout but for one
// evaluation. A check failing again on the same resource within an hour continues the row,
// whichever container it names.
func TestAFailingContainerReaddedUnderAnotherNameIsNoRemediation(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jrename", "jrename-a"
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "api", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	mine := func(r *journal.Record) bool {
		return r.Profile == profile && r.Finding != nil && r.Finding.Check == "wl-privileged"
	}
	first := waitForRecords(t, "the finding opened", mine, "finding.opened wl-privileged api/setup")
	updateDeployment(t, ns, "api", func(d *appsv1.Deployment) { d.Spec.Template.Spec.InitContainers = nil })
	waitForRecords(t, "the finding closed", mine, "finding.closed wl-privileged api/setup")
	updateDeployment(t, ns, "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.InitContainers = deployment(ns, "api", true).Spec.Template.Spec.InitContainers
		d.Spec.Template.Spec.InitContainers[0].Name = "setup2"
	})
	recs := waitForRecords(t, "the renamed container's finding opened", mine, "finding.opened wl-privileged api/setup2")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && r.Finding.CloseReason != journal.CloseResolved {
			t.Fatalf("the finding on setup closed %q; the test wants the journal's resolved closing the pack must read", r.Finding.CloseReason)
		}
	}

	from := first[0].Time.Add(-time.Hour)
	to := clk.Now().Add(time.Hour)
	if n := time.Now().Add(time.Hour); n.After(to) {
		to = n
	}
	pack, err := evidence.Collect(ctx, journalStore.Store, evidence.Options{From: from, To: to, Profile: profile, Clusters: []string{"test"}, Now: func() time.Time { return to }})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, d := range pack.Deviations {
		if d.Namespace != ns {
			continue
		}
		rows = append(rows, fmt.Sprintf("%s remediated=%v reopened=%d opened=%v", d.Finding.Key, d.Remediated(), d.Reopened, d.Opened))
		if d.Remediated() {
			t.Errorf("the pack counts a remediation of %s (%v to remediate), though the same check failed again on the Deployment under another container name", d.Finding.Key, d.RemediationTime())
		}
		if !d.Since.Equal(first[0].Finding.FirstSeen) {
			t.Errorf("%s is first opened at %v, want %v (the finding on setup)", d.Finding.Key, d.Since, first[0].Finding.FirstSeen)
		}
	}
	if len(rows) != 1 || !strings.Contains(rows[0], "remediated=false reopened=1") {
		t.Errorf("the pack lists %q; want one row, open, reopened once", rows)
	}
}

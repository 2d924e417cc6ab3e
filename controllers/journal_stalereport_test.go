package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The leader journaled a finding's closing and stopped (a failover, an upgrade, a crash) before
// it wrote the report without the finding: the report still showed it, first seen at T0. The
// tenant's Deployment failed again, and the next leader's first evaluation took the finding's
// first-seen time from that report, T0: its finding.opened record was the first opening's again
// (dropped by the writer as a duplicate, or read by the evidence pack as a copy of an episode it
// saw close), and the pack ignored the finding, open in every attestation from then on, until it
// closed: deviations.csv showed it remediated while it failed. (The same happened in one
// process whose report writes kept failing over two evaluations: it forgot a closing's first-seen
// time after 2 s.) A finding that opens again with the first-seen time of an episode the journal
// closed is first seen now.
func TestAFindingFailingAgainIsNotFirstSeenAtAClosedEpisodesTime(t *testing.T) {
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "jstale", Generation: 1}}
	onlyCheck(profile, "wl-privileged")
	plan := engine.Compile(checks.Catalogue(), profile)
	evaluate := func(privileged bool) *engine.Evaluation {
		d := deployment("team-a", "api", privileged)
		return plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
			engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
	now := time.Now().Truncate(time.Second)
	// shown is the report as last written: the finding first seen at the first opening.
	var shown []v1alpha1.Finding
	// run starts an operator and observes each evaluation a minute apart, against the report
	// shown.
	run := func(privileged ...bool) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test",
			Now: func() time.Time { return time.Now().Add(time.Hour) }}) // ahead of the evaluations, a minute apart
		if err != nil {
			t.Fatal(err)
		}
		h := newJournalHook(q, clock.RealClock{}, time.Hour)
		stopped := make(chan struct{})
		go func() { _ = q.Start(ctx); close(stopped) }()
		<-q.Ready()
		h.profileSeen(ctx, profile)
		for _, p := range privileged {
			now = now.Add(time.Minute)
			h.observe(ctx, profile.Name, time.Hour, "team-a", "", evaluate(p), shown, now)
		}
		if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: now}) {
			t.Fatal("the journal was not written")
		}
		cancel()
		<-stopped
	}
	run(true)
	var opened *journal.Finding
	for _, r := range namespaceRecords(t, store, profile.Name, "team-a") {
		if r.Type == journal.FindingOpened {
			opened = r.Finding
		}
	}
	if opened == nil {
		t.Fatal("the privileged Deployment's finding was not journaled")
	}
	shown = []v1alpha1.Finding{{Check: opened.Check, Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: opened.Kind, Name: opened.Name},
		Container: opened.Container, FirstSeen: &metav1.Time{Time: opened.FirstSeen}}}

	for name, restart := range map[string]bool{"a new leader": true, "the same process, its report writes failing": false} {
		t.Run(name, func(t *testing.T) {
			// Fixed, its closing journaled, the report not written; failing again.
			if restart {
				run(false)
				run(true)
			} else {
				run(true, false, false, true)
			}
			var closed, again *journal.Finding
			for _, r := range namespaceRecords(t, store, profile.Name, "team-a") {
				switch {
				case r.Type == journal.FindingClosed:
					closed, again = r.Finding, nil
				case r.Type == journal.FindingOpened && closed != nil:
					again = r.Finding
				}
			}
			if closed == nil {
				t.Fatal("no closing journaled")
			}
			if again == nil || !again.FirstSeen.After(closed.FirstSeen) {
				t.Errorf("after the closing of the episode first seen at %s: opening %+v; want one first seen after it", closed.FirstSeen.Format(time.RFC3339Nano), again)
			}
			run(false) // closed again, for the next case
		})
	}
}

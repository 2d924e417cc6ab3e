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

// The leader journaled a finding's closing, but the report was not written after it (its
// writes refused, the report stale) and kept showing the finding, first seen at T0; the
// namespace was attested since, the finding not open. After a restart more than the two
// attestation intervals a new leader reads back after the closing, the tenant's Deployment
// failed again: the new leader no longer knew the closing (TestAFindingFailingAgainIsNot...
// covers a closing it reads back), took T0 from the report, and journaled the first opening
// again: a duplicate the writer drops, or the evidence pack reads as a copy of an episode it
// saw close, so the deviation was not shown while it failed. And the report went on showing T0,
// a first-seen time the journal had moved on from. A finding the journal's latest state of the
// namespace (an attestation after T0) did not hold open is first seen now, in the journal and
// in the report.
func TestAFindingFailingAgainAfterTheRestoreWindowIsNotFirstSeenAtAStaleReportsTime(t *testing.T) {
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "jstalefs", Generation: 1}}
	onlyCheck(profile, "wl-privileged")
	plan := engine.Compile(checks.Catalogue(), profile)
	evaluate := func(privileged bool) *engine.Evaluation {
		d := deployment("team-a", "api", privileged)
		return plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
			engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
	now := time.Now().Truncate(time.Second)
	var shown []v1alpha1.Finding
	// run starts an operator (its records dated by now) and observes each evaluation a minute
	// apart, against the report shown, then writes a heartbeat later by idle.
	run := func(idle time.Duration, privileged ...bool) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test",
			Now: func() time.Time { return now }})
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
		now = now.Add(idle)
		if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: now}) {
			t.Fatal("the journal was not written")
		}
		cancel()
		<-stopped
	}
	run(0, true)
	var opened *journal.Finding
	for _, r := range namespaceRecords(t, store, profile.Name, "team-a") {
		if r.Type == journal.FindingOpened {
			opened = r.Finding
		}
	}
	if opened == nil {
		t.Fatal("the privileged Deployment's finding was not journaled")
	}
	// The report as last written: the finding first seen at the first opening. It is never
	// written again.
	shown = []v1alpha1.Finding{{Check: opened.Check, Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: opened.Kind, Name: opened.Name},
		Container: opened.Container, FirstSeen: &metav1.Time{Time: opened.FirstSeen}}}
	run(6*time.Hour, false) // fixed: its closing journaled, the report not written
	run(0, false)           // still fixed, hours later: attested, the report still not written
	run(0, true)            // failing again
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
		t.Fatalf("after the closing of the episode first seen at %s: opening %+v; want one first seen after it", closed.FirstSeen.Format(time.RFC3339Nano), again)
	}
	if fs := shown[0].FirstSeen; fs == nil || !fs.Time.Equal(again.FirstSeen) {
		t.Errorf("the report shows the finding first seen at %v, the journal at %s", fs, again.FirstSeen.Format(time.RFC3339Nano))
	}
}

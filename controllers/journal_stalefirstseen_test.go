package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
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
	jh := newJournalHarness(t, "jstalefs")
	var shown []v1alpha1.Finding
	// run starts an operator (its records dated by jh.now) and observes each evaluation a minute
	// apart, against the report shown, then writes a heartbeat later by idle.
	run := func(idle time.Duration, privileged ...bool) {
		t.Helper()
		jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
			for _, p := range privileged {
				jh.now = jh.now.Add(time.Minute)
				h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", jh.evaluate(p), shown, jh.now)
			}
			jh.now = jh.now.Add(idle)
		})
	}
	run(0, true)
	opened := jh.opened()
	if opened == nil {
		t.Fatal("the privileged Deployment's finding was not journaled")
	}
	// The report as last written: the finding first seen at the first opening. It is never
	// written again.
	shown = shownAsOpened(opened)
	run(6*time.Hour, false) // fixed: its closing journaled, the report not written
	run(0, false)           // still fixed, hours later: attested, the report still not written
	run(0, true)            // failing again
	closed, again := jh.reopened()
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

package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
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
	jh := newJournalHarness(t, "jstale")
	// shown is the report as last written: the finding first seen at the first opening.
	var shown []v1alpha1.Finding
	// run starts an operator (its clock ahead of the evaluations) and observes each evaluation
	// a minute apart, against the report shown.
	run := func(privileged ...bool) {
		t.Helper()
		jh.run(anHourAhead, func(ctx context.Context, h *journalHook) {
			for _, p := range privileged {
				jh.now = jh.now.Add(time.Minute)
				h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", jh.evaluate(p), shown, jh.now)
			}
		})
	}
	run(true)
	opened := jh.opened()
	if opened == nil {
		t.Fatal("the privileged Deployment's finding was not journaled")
	}
	shown = shownAsOpened(opened)

	for name, restart := range map[string]bool{"a new leader": true, "the same process, its report writes failing": false} {
		t.Run(name, func(t *testing.T) {
			// Fixed, its closing journaled, the report not written; failing again.
			if restart {
				run(false)
				run(true)
			} else {
				run(true, false, false, true)
			}
			closed, again := jh.reopened()
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

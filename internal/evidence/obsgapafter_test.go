package evidence

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The operator wrote its last heartbeat at 10:00 on the period's last day; the chain after it
// was deleted (its tail: what remains verifies). The next operator started at 06:00 the day
// after, found the chain below the head published in the cluster, and journaled the time from
// the chain's last record as an observation.gap dated when it started (after the period) whose
// reason names the rewind, beside journal.rewound, in its first batch with an exception created
// at 23:00 while no operator ran (dated at its creation: the segment overlaps the period, and the
// pack reads it). The pack skipped the gap record as dated outside the period: gaps.csv listed
// the fourteen hours as a `silence`, "a frozen or partitioned operator, or a clock jump", not the
// gap the journal records with its reason, that the records were deleted. A gap recorded after the
// period whose interval begins in it is a gap of the period (as a journal.gap's is).
func TestAnObservationGapRecordedAfterThePeriodIsAGapOfIt(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	b := &journal.Operator{Identity: "pod-b"}
	reason := "the chain was rewound (journal.rewound): its records after " + ts(h(10)) + " up to at least the published head's " + ts(h(20)) + " were deleted or replaced, not unobserved"
	recs := append(heartbeats(t0, h(10).Add(time.Second)),
		changed(h(1), "CC6.1", "Pass"),
		journal.Record{Type: journal.ObservationGap, Time: h(30), Operator: b, Interval: &journal.Interval{From: h(10), To: h(30), Reason: reason}},
		journal.Record{Type: journal.OperatorStarted, Time: h(30), Operator: b},
		journal.Record{Type: journal.ExceptionRequested, Time: h(23), Namespace: "team-a", Exception: &journal.Exception{Name: "legacy", Owner: "team-a@example.com"}})
	out := t.TempDir()
	if _, err := Build(context.Background(), journalOf(t, recs...), Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(31) }}); err != nil {
		t.Fatal(err)
	}
	var gaps []string
	for _, r := range readCSV(t, out+"/gaps.csv") {
		gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"]+" "+r["hours_in_period"]+" "+r["reason"])
	}
	if want := "observation.gap " + ts(h(10)) + " " + ts(h(30)) + " 14.00 " + reason; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv (type from to hours_in_period reason):\n%s\nwant the gap the journal records:\n%s", strings.Join(gaps, "\n"), want)
	}
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(10)) + " Pass",
		"CC6.1 " + ts(h(10)) + " " + ts(h(24)) + " Unknown",
	}
	assertCriteriaRows(t, out, "Unknown from the gap's start", want)
}

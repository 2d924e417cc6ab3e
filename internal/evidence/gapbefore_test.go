package evidence

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A new leader whose clock was 25 minutes behind the journal's last record (3 minutes into the
// period) waited 20 minutes for it, then started 2 minutes before the period by its clock and
// journaled the 5 minutes to that record as an observation gap, dated when it started: before
// the period. The pack skipped the gap record as outside the period; what the leader stated
// until its clock reached the gap's end (CC6.1 Fail, dated a minute before the period) was read
// as outside the period too, and gaps.csv listed nothing: the period's first minutes read as
// observed, with the old leader's Pass. A gap dated before the period that reaches into it is a
// gap of the period (as a journal.gap recorded after the period that begins in it is).
func TestAnObservationGapDatedBeforeThePeriodThatReachesIntoItIsAGapOfIt(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	last, start := t0.Add(3*time.Minute), t0.Add(-2*time.Minute)
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	b := &journal.Operator{Identity: "pod-b"}
	for _, batch := range [][]journal.Record{
		append(heartbeats(h(-2), last.Add(time.Second)), changed(h(-1), "CC6.1", "Pass")),
		append(heartbeats(start.Add(time.Minute), h(3)),
			journal.Record{Type: journal.ObservationGap, Time: start, Operator: b, Interval: &journal.Interval{From: start, To: last,
				Reason: "this operator's clock was 5m0s behind the journal's last record: its records until then cannot be ordered against those written before"}},
			journal.Record{Type: journal.OperatorStarted, Time: start, Operator: b},
			changed(start.Add(time.Minute), "CC6.1", "Fail")),
	} {
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	if _, err := Build(ctx, store, Options{From: t0, To: h(3), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(4) }}); err != nil {
		t.Fatal(err)
	}
	var gaps []string
	for _, r := range readCSV(t, out+"/gaps.csv") {
		gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"]+" "+r["hours_in_period"])
	}
	if want := "observation.gap " + ts(start) + " " + ts(last) + " 0.05"; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv (type from to hours_in_period):\n%s\nwant %s", strings.Join(gaps, "\n"), want)
	}
	// The Fail the leader stated while its clock was behind holds from the gap's end (builder.stated).
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(last) + " Unknown",
		"CC6.1 " + ts(last) + " " + ts(h(3)) + " Fail",
	}
	assertCriteriaRows(t, out, "the new leader's Fail from the end of its clock's gap", want)
}

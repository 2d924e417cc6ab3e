package evidence

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The operator's clock stepped back two hours while it ran (an NTP correction, a resumed VM):
// it stated CC6.1 Pass at 11:00 by its clock, reached 12:00, then stepped back to 10:05 and
// stated Fail at 10:30. Verification names the step (`clock`), but the pack kept the Pass,
// which it read as newer ("the later time says what holds"), and showed Pass from 11:00 to the
// end of the period though the last the operator stated was Fail. After a step, chain order
// says which was stated last; and the interval the step dates twice (10:05 to 12:00, records
// written before and after it) says nothing certain of which state held in it: Unknown, and
// listed in gaps.csv as a `clock` gap.
func TestAFailStatedAfterTheClockWentBackIsNotBeatenByAnEarlierPass(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	for name, tc := range map[string]struct {
		before, after string
		want          []string
	}{
		"a Fail after a Pass": {before: "Pass", after: "Fail", want: []string{
			"CC6.1 " + ts(h(0)) + " " + ts(h(12)) + " Unknown",
			"CC6.1 " + ts(h(12)) + " " + ts(h(24)) + " Fail",
		}},
		"a Pass after a Fail": {before: "Fail", after: "Pass", want: []string{
			"CC6.1 " + ts(h(0)) + " " + ts(h(12)) + " Unknown",
			"CC6.1 " + ts(h(12)) + " " + ts(h(24)) + " Pass",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			store, err := journal.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range [][]journal.Record{
				append(heartbeats(h(0), h(12.1)), changed(h(11), "CC6.1", tc.before)),
				append(heartbeats(h(10).Add(5*time.Minute), h(24)), changed(h(10.5), "CC6.1", tc.after)), // stepped back to 10:05 after 12:00
			} {
				if err := w.Write(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			out := t.TempDir()
			p, err := Build(ctx, store, Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(25) }})
			if err != nil {
				t.Fatal(err)
			}
			if p.OK() {
				t.Error("the pack verified, want the clock's step named")
			}
			if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("criteria.csv (criterion from to state):\n%s\nwant the state stated last, Unknown where the step dates records twice:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var gaps []string
			for _, r := range readCSV(t, out+"/gaps.csv") {
				gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"])
			}
			if want := "clock " + ts(h(10).Add(5*time.Minute)) + " " + ts(h(12)); strings.Join(gaps, "\n") != want {
				t.Errorf("gaps.csv:\n%s\nwant one row, %q (the records after the step are one step)", strings.Join(gaps, "\n"), want)
			}
			// The pack of a period that begins as the interval the step dated twice ends lists no such gap.
			later := t.TempDir()
			if _, err := Build(ctx, store, Options{From: h(12), To: h(24), Clusters: []string{"c"}, Dir: later, Now: func() time.Time { return h(25) }}); err != nil {
				t.Fatal(err)
			}
			for _, r := range readCSV(t, later+"/gaps.csv") {
				if r["type"] == string(ClockStep) {
					t.Errorf("the pack of 12:00-24:00 lists %v, a step before its period", r)
				}
			}
		})
	}
}

// A new leader whose clock was 25 minutes behind the journal's last record waited 20 minutes
// for it (the most it waits), then started 5 minutes before that record and journaled those 5
// minutes as an observation gap (from its start to the record). Its first evaluation stated
// CC6.1 Fail, dated 4 minutes before the old leader's last Pass: the pack read the Pass as newer,
// dropped the Fail, and showed Unknown from then on until the next record of CC6.1 (a day on, at
// the next attestation, which it would drop too were it still dated before the Pass): the Fail,
// the last thing an operator stated, was nowhere. What a leader states while its clock is behind
// such a gap's end is stated after everything written before the gap: it holds from the gap's end.
func TestAVerdictOfALeaderWhoseClockWasBehindIsNotBeatenByTheOldLeaders(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	last, start := h(2), h(2).Add(-5*time.Minute)
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
		append(heartbeats(h(0), last.Add(time.Second)), changed(last.Add(-time.Minute), "CC6.1", "Pass")),
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
	want := []string{
		"CC6.1 " + ts(h(0)) + " " + ts(last) + " Unknown",
		"CC6.1 " + ts(last) + " " + ts(h(3)) + " Fail",
	}
	assertCriteriaRows(t, out, "the new leader's Fail from the end of its clock's gap", want)
}

// A finding opened at 11:00 by the operator's clock, which then reached 12:00, stepped back to
// 10:05 and journaled the finding's closing at 10:30: deviations.csv said it closed half an hour
// before it opened, with a duration and a time to remediate of -0.50 hours, which lowered the
// median time to remediate. Its closing, stated after the step, is read as stated at the time
// the clock had reached (12:00), as the criteria's states are.
func TestADeviationClosedAfterTheClockWentBackDoesNotCloseBeforeItOpened(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := &journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(11)}
	closed := *f
	closed.CloseReason = journal.CloseResolved
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]journal.Record{
		append(heartbeats(h(0), h(12.1)), journal.Record{Type: journal.FindingOpened, Time: h(11), Profile: "soc2", Namespace: "team-a", Finding: f}),
		append(heartbeats(h(10).Add(5*time.Minute), h(24)), journal.Record{Type: journal.FindingClosed, Time: h(10.5), Profile: "soc2", Namespace: "team-a", Finding: &closed}),
	} {
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	if _, err := Build(ctx, store, Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(25) }}); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out+"/deviations.csv")
	if len(rows) != 1 || rows[0]["closed"] != ts(h(12)) || rows[0]["duration_hours"] != "1.00" || rows[0]["remediation_hours"] != "1.00" {
		t.Errorf("deviations.csv: %v, want api opened at 11:00 and closed at 12:00 (stated after the clock went back from there), 1.00 hours", rows)
	}
}

// The same finding's closing inferred from an attestation the operator wrote after its clock
// went back (10:30 by the stepped clock, no longer listing it open): the row closed at 10:30,
// before it opened at 11:00. It closes at the time the clock had reached, 12:00.
func TestADeviationInferredClosedAfterTheClockWentBackDoesNotCloseBeforeItOpened(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := &journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(11)}
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]journal.Record{
		append(heartbeats(h(0), h(12.1)), journal.Record{Type: journal.FindingOpened, Time: h(11), Profile: "soc2", Namespace: "team-a", Finding: f}),
		append(heartbeats(h(10).Add(5*time.Minute), h(24)), attested(h(10.5), journal.CriterionState{Criterion: "CC6.1", State: "Pass"})),
	} {
		if err := w.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	if _, err := Build(ctx, store, Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(25) }}); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out+"/deviations.csv")
	if len(rows) != 1 || rows[0]["closed"] != ts(h(12)) || rows[0]["duration_hours"] != "1.00" {
		t.Errorf("deviations.csv: %v, want api opened at 11:00 and closed at 12:00, 1.00 hours", rows)
	}
}

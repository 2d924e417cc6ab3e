package journal

import (
	"context"
	"strings"
	"testing"
	"time"
)

// beats returns an operator.heartbeat every ten minutes from from to to (both included).
func beats(from, to time.Time) []Record {
	var out []Record
	for at := from; !at.After(to); at = at.Add(10 * time.Minute) {
		out = append(out, Record{Type: OperatorHeartbeat, Time: at})
	}
	return out
}

// The operator stopped at 10:00 on the period's last day and the next one started at 06:00 the
// day after (its observation.gap, dated then, is after the period). Among the first things it
// wrote: an exception expired at 23:50 on the period's last day, an expiry the namespace admin
// chose, dated at that expiry. That segment overlaps the period, and `evidence verify` judged
// coverage by segment time ranges: the chain's last record in the period at 23:50, the period
// covered, while no operator observed from 10:00 to midnight (the pack showed the silence). Only
// the records the operator dates as it writes them (DatedAsWritten) say it was observing.
func TestAnEventDatedRecordDoesNotCoverThePeriodsEnd(t *testing.T) {
	ctx := context.Background()
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	op := &Operator{Identity: "b"}
	store := writeSegments(t,
		beats(t0, h(10)),
		[]Record{
			{Type: ObservationGap, Time: h(30), Operator: op, Interval: &Interval{From: h(10), To: h(30), Reason: "no operator was observing"}},
			{Type: OperatorStarted, Time: h(30), Operator: op},
		},
		[]Record{{Type: ExceptionExpired, Time: h(23).Add(50 * time.Minute), Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-priv"}}},
		beats(h(30).Add(10*time.Minute), h(31)),
	)
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: h(24), Now: func() time.Time { return h(31) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemUncovered || !strings.Contains(res.Problems[0].Detail, stamp(h(10))) {
		t.Errorf("the operator last wrote in the period at %s, an exception's expiry journaled later is dated %s: want one uncovered problem from %s, got %v (%s)",
			stamp(h(10)), stamp(h(23).Add(50*time.Minute)), stamp(h(10)), res.Problems, res.Summary())
	}
	// The same chain, the period ending at 10:00: covered.
	if res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: h(10), Now: func() time.Time { return h(31) }}); err != nil || !res.OK() {
		t.Errorf("the period up to the operator's last heartbeat: %v %v", res.Problems, err)
	}
}

// An operator released before exceptions deleted under a finalizer were journaled revoked
// (68ac8ba6) journaled such an exception expired, dated at its expiry: a date the namespace
// admin chose, here two years ahead. `evidence verify` named the journal's segment `future` ("the
// writer's clock was ahead"), exit 1, for every period verified until that date, though the
// operator's own clock never ran ahead: a namespace admin chose whether the journal verified.
// Likewise an exception's creation time, from the API server's clock, not the writer's. Only
// the records the operator dates as it writes them (DatedAsWritten) say where its clock was.
func TestAnEventDatedRecordDoesNotMakeTheWritersClockAhead(t *testing.T) {
	ctx := context.Background()
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	expires := t0.AddDate(2, 0, 0)
	store := writeSegments(t,
		beats(t0, h(5)),
		append(beats(h(5).Add(10*time.Minute), h(10)),
			Record{Type: ExceptionExpired, Time: expires, Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-priv", Expires: expires}}),
	)
	now := func() time.Time { return h(10).Add(5 * time.Minute) }
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: h(10), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Errorf("heartbeats up to %s, verified at %s, an exception's expiry journaled at %s: want no problem, got %v (%s)",
			stamp(h(10)), stamp(now()), stamp(expires), res.Problems, res.Summary())
	}
	// A heartbeat dated ahead in the same chain is still the writer's clock ahead.
	store = writeSegments(t,
		beats(t0, h(5)),
		append(beats(h(5).Add(10*time.Minute), h(10)),
			Record{Type: ExceptionExpired, Time: expires, Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-priv", Expires: expires}},
			Record{Type: OperatorHeartbeat, Time: h(12)}),
	)
	res, err = Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: h(10), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemFuture || res.Problems[0].Seq != 2 || !strings.Contains(res.Problems[0].Detail, stamp(h(12))) {
		t.Errorf("a heartbeat dated %s, verified at %s: want one future problem naming segment 2 and that time, got %v (%s)", stamp(h(12)), stamp(now()), res.Problems, res.Summary())
	}
}

// The same journal of an operator built before 68ac8ba6, its last segment holding an exception
// expired dated at the expiry the namespace admin chose, two years ahead. The next operator,
// started an hour after the last heartbeat, took that expiry for the journal's last record: it
// waited 20 minutes for its clock to pass it (journaling nothing, its evaluations' reports held
// back meanwhile), then journaled an observation.gap from its start to that expiry ("this
// operator's clock was 17519h0m0s behind"), which the evidence pack reads as two years nobody
// observed, everything the operator states until then read as stated at its end; and the
// state it restored was of the two attestation intervals before that expiry, none. Only the
// records the operator dated as it wrote them say where the journal's clock was.
func TestAnEventDatedRecordIsNotTheJournalsLastRecordForTheNextOperator(t *testing.T) {
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	expires := t0.AddDate(2, 0, 0)
	store := writeSegments(t,
		append(beats(t0, h(10)),
			Record{Type: ExceptionExpired, Time: expires, Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-priv", Expires: expires}}),
	)
	clock := &fakeNow{t: h(11)}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond, Identity: "pod-b"})
	var restoredFrom time.Time
	q.SetRestore(func(_ context.Context, _ Store, w *Writer) error {
		restoredFrom = w.Last()
		return nil
	})
	runQueue(t, q)() // fails when the journal is not opened within 10 s
	if !restoredFrom.Equal(h(10)) {
		t.Errorf("the state was restored back from the journal's last record at %s, want the last heartbeat's %s", stamp(restoredFrom), stamp(h(10)))
	}
	var gaps []string
	for _, r := range allRecords(t, store) {
		if r.Type == ObservationGap {
			gaps = append(gaps, stamp(r.Interval.From)+" "+stamp(r.Interval.To))
		}
	}
	if want := stamp(h(10)) + " " + stamp(h(11)); strings.Join(gaps, "\n") != want {
		t.Errorf("observation gaps:\n%s\nwant the hour from the last heartbeat to the start: %s", strings.Join(gaps, "\n"), want)
	}
}

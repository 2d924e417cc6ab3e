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

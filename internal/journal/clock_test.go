package journal

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A failover to a replica whose clock is two minutes behind the old leader's: the old leader's
// last record (CC6.1 Pass) is dated 00:10, and the new leader, starting at 00:08 by its clock,
// journaled its start and its first evaluation (CC6.1 Fail, made after the Pass) before it. No
// observation gap was recorded (the chain's last record was not before its start), and the
// evidence pack, which keeps the later time when two records state a criterion, read the later
// Fail as older than the Pass and ignored it. The new leader now waits until its clock passes
// the journal's last record before it opens the chain: nothing it writes sorts before what was
// written before it.
func TestALeaderWhoseClockIsBehindTheJournalWaitsForItBeforeWriting(t *testing.T) {
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clockA := &fakeNow{t: t0}
	qa, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clockA.Now, FlushInterval: 10 * time.Millisecond, Identity: "pod-a"})
	stopA := runQueue(t, qa)
	last := t0.Add(10 * time.Minute)
	if !qa.AddAndWait(context.Background(), 10*time.Second, Record{Type: CriterionChanged, Time: last, Profile: "p", Namespace: "ns",
		Criterion: &CriterionChange{Criterion: "CC6.1", To: "Pass"}}) {
		t.Fatal("not written")
	}
	clockA.Set(last)
	stopA()

	clockB := &fakeNow{t: last.Add(-2 * time.Minute)}
	qb, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clockB.Now, FlushInterval: 10 * time.Millisecond, Identity: "pod-b"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- qb.Start(ctx) }()
	select {
	case <-qb.Ready():
		t.Errorf("the leader whose clock (%s) is behind the journal's last record (%s) opened the journal", clockB.Now().Format(time.TimeOnly), last.Format(time.TimeOnly))
	case <-time.After(300 * time.Millisecond):
	}
	clockB.Set(last.Add(time.Second))
	select {
	case <-qb.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the leader did not open the journal once its clock passed the last record")
	}
	qb.Add(Record{Type: CriterionChanged, Time: clockB.Now(), Profile: "p", Namespace: "ns", Criterion: &CriterionChange{Criterion: "CC6.1", From: "Pass", To: "Fail"}})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var prev time.Time
	for _, r := range allRecords(t, store) {
		if r.Time.Before(prev) {
			t.Errorf("%s dated %s after a record dated %s", r.Type, r.Time.Format(time.TimeOnly), prev.Format(time.TimeOnly))
		}
		prev = r.Time
		if r.Operator != nil && r.Operator.Identity == "pod-b" && r.Time.Before(last) {
			t.Errorf("pod-b's %s is dated %s, before pod-a's last record (%s)", r.Type, r.Time.Format(time.TimeOnly), last.Format(time.TimeOnly))
		}
	}
}

// The operator's clock stepped back two hours while it ran (an NTP correction, a VM resumed):
// its later records are dated before records it wrote earlier, in a later segment. Each segment
// is in time order and the chain verified, while the evidence pack, which keeps the later time
// when two records state a criterion, read a Fail stated after the step (dated 10:30) as older
// than the Pass stated before it (11:00) and showed Pass. Verification names the segment whose
// records a clock dated more than CoverageSlack before those already written (records the
// operator dates when it writes them: heartbeats, starts and stops, evaluations' states).
func TestAClockThatWentBackIsAProblem(t *testing.T) {
	ctx := context.Background()
	_, store := newFileStore(t)
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	beats := func(from, to time.Time, extra ...Record) []Record {
		recs := extra
		for at := from; !at.After(to); at = at.Add(10 * time.Minute) {
			recs = append(recs, Record{Type: OperatorHeartbeat, Time: at})
		}
		return recs
	}
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	state := func(at time.Time, to string) Record {
		return Record{Type: CriterionChanged, Time: at, Profile: "soc2", Namespace: "team-a", Criterion: &CriterionChange{Criterion: "CC6.1", To: to}}
	}
	for _, b := range [][]Record{
		beats(h(0), h(12), state(h(11), "Pass")),
		beats(h(10), h(14), state(h(10.5), "Fail")), // the clock stepped back to 10:00 after 12:00
	} {
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: h(0), To: h(14), Now: func() time.Time { return h(14) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemClock || res.Problems[0].Seq != 2 {
		t.Errorf("problems %v, want segment 2's clock named as gone back", res.Problems)
	}
	// A record dated before the others by less than the slack (an evaluation's states, dated
	// when it began, written after a heartbeat) is no problem.
	_, store = newFileStore(t)
	if w, err = NewWriter(ctx, store, WriterOptions{Cluster: "prod"}); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]Record{beats(h(0), h(12)), beats(h(12.1), h(14), state(h(11.9), "Fail"))} {
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if res, err = Scan(ctx, store, ScanOptions{Cluster: "prod", From: h(0), To: h(14), Now: func() time.Time { return h(14) }}); err != nil || !res.OK() {
		t.Errorf("%v %v, want no problem", err, res.Problems)
	}
}

// The clock steps back within one batch: the writer sorted the batch by time, so the records
// stated after the step (CC6.1 Fail at 10:00 by the stepped clock) were written before the one
// stated before it (Pass at 11:00), in one segment, and the step was invisible: the chain
// verified, and the pack, which keeps the later time, showed Pass. A batch holds what arrived
// over a flush interval, and over a whole outage of the store. The queue now writes the records
// that arrived after such a step in a segment of their own, as if the batch had been flushed
// just before it, so that verification names the step as it names one between batches; a
// record dated a little before one that arrived before it (an evaluation's states, dated when
// it began) is no step.
func TestAClockThatWentBackWithinOneBatchIsAProblem(t *testing.T) {
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	state := func(at time.Time, to string) Record {
		return Record{Type: CriterionChanged, Time: at, Profile: "soc2", Namespace: "team-a", Criterion: &CriterionChange{Criterion: "CC6.1", To: to}}
	}
	for name, tc := range map[string]struct {
		before, after time.Time // the clock when the Pass, then the Fail, are stated
		wantStep      bool
	}{
		"a step back of an hour":                     {before: h(11), after: h(10), wantStep: true},
		"an evaluation dated when it began, 2m back": {before: h(11), after: h(11).Add(-2 * time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			_, store := newFileStore(t)
			clock := &fakeNow{t: h(9)}
			// Flushes and heartbeats only when asked or stopped: the records below are one batch.
			q, err := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: time.Hour, Heartbeat: time.Hour, Identity: "pod-a"})
			if err != nil {
				t.Fatal(err)
			}
			stop := runQueue(t, q)
			if !q.AddAndWait(context.Background(), 10*time.Second, Record{Type: OperatorHeartbeat, Time: clock.Now()}) {
				t.Fatal("not written")
			}
			clock.Set(tc.before)
			q.Add(state(clock.Now(), "Pass"))
			clock.Set(tc.after)
			q.Add(state(clock.Now(), "Fail"))
			stop()

			res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", From: h(9), To: h(11), Now: func() time.Time { return h(12) }})
			if err != nil {
				t.Fatal(err)
			}
			var steps []Problem
			for _, p := range res.Problems {
				if p.Kind == ProblemClock {
					steps = append(steps, p)
				}
			}
			if tc.wantStep && len(steps) != 1 {
				t.Errorf("problems %v, want the clock named as gone back once", res.Problems)
			}
			if !tc.wantStep && len(steps) != 0 {
				t.Errorf("problems %v, want no clock problem", res.Problems)
			}
		})
	}
}

// tickingNow is a clock that moves on by step each time it is read: a process waiting for it
// to pass a time, polling it, sees it advance with no real time passing.
type tickingNow struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *tickingNow) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// A new leader whose clock is behind the journal's last record waits for its clock to pass it,
// for at most 20 minutes (maxClockWait), and then goes on, journaling the rest as an
// observation gap: 19 minutes behind, it waits until its clock passes the record; 25 minutes
// behind, it goes on when its clock has moved 20 minutes, 5 minutes before the record, with
// those 5 minutes an observation gap. The bound was measured by the wall clock, not the
// process's (QueueOptions.Now), so the second case never happened under an injected clock: a
// clock advancing a minute a poll passed the record after 25 polls, and the bound and the gap it
// leaves were untested. Either way, nothing the new leader writes is dated more than
// CoverageSlack before the last record, so verification names no clock step.
func TestALeaderStillBehindAfterItsWaitGoesOnAfter20MinutesByItsClock(t *testing.T) {
	last := t0.Add(2 * time.Hour)
	for name, tc := range map[string]struct {
		behind  time.Duration
		wantGap bool
	}{
		"19 minutes behind: waits until its clock passes the last record": {behind: 19 * time.Minute},
		"25 minutes behind: goes on after 20 minutes by its clock":        {behind: 25 * time.Minute, wantGap: true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, store := newFileStore(t)
			w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
			if err != nil {
				t.Fatal(err)
			}
			var recs []Record
			for at := t0; !at.After(last); at = at.Add(10 * time.Minute) {
				recs = append(recs, Record{Type: OperatorHeartbeat, Time: at, Operator: &Operator{Identity: "pod-a"}})
			}
			if err := w.Write(ctx, recs); err != nil {
				t.Fatal(err)
			}
			from := last.Add(-tc.behind)
			clock := &tickingNow{t: from, step: 30 * time.Second}
			q, err := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond, Heartbeat: time.Hour, Identity: "pod-b"})
			if err != nil {
				t.Fatal(err)
			}
			runQueue(t, q)()

			var started *Record
			var gaps []Record
			for _, r := range allRecords(t, store) {
				switch {
				case r.Type == OperatorStarted:
					started = &r
				case r.Type == ObservationGap && r.Interval != nil && r.Interval.To.Equal(last):
					gaps = append(gaps, r)
				}
			}
			if started == nil {
				t.Fatal("no operator.started record")
			}
			waited := started.Time.Sub(from)
			switch {
			case !tc.wantGap && (started.Time.Before(last) || len(gaps) > 0):
				t.Errorf("started at %s (%s after its clock read %s), gaps %v; want it started after the last record (%s), no gap",
					started.Time.Format(time.TimeOnly), waited, from.Format(time.TimeOnly), gaps, last.Format(time.TimeOnly))
			case tc.wantGap && (waited < maxClockWait || waited > maxClockWait+3*time.Minute || len(gaps) != 1 || !gaps[0].Interval.From.Equal(started.Time)):
				t.Errorf("started at %s (%s after its clock read %s), gaps %v; want it started once its clock moved %s, the time to %s an observation gap",
					started.Time.Format(time.TimeOnly), waited, from.Format(time.TimeOnly), gaps, maxClockWait, last.Format(time.TimeOnly))
			}
			res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: last, Now: func() time.Time { return last.Add(time.Hour) }})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Errorf("problems %v, want none", res.Problems)
			}
		})
	}
}

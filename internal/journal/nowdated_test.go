package journal

import (
	"context"
	"testing"
	"time"
)

// The leader's last evaluation (00:09 by its clock) opened a finding and changed no criterion,
// so its last records were a finding.opened and finding.excepted, dated as it wrote them, but of
// a type the writer did not count for the journal's last record (Writer.Last: only heartbeats,
// starts, stops and evaluations' states). It died before its next heartbeat. The next leader,
// its clock seven minutes behind (00:02), took the 00:00 heartbeat for the journal's last record:
// it did not wait, journaled nobody observing from 00:00 to 00:02 though the old leader evaluated
// at 00:09, and closed the finding (fixed meanwhile) at 00:03 by its clock: the evidence pack
// read a deviation opened at 00:09 and closed at 00:03, remediated in -6 minutes, a negative time
// to remediate pulling the median down. Records the operator dates with its own clock as it
// writes them (a finding's closing, excepting, unexcepting, an exception's change) count for the
// journal's last record too, and a finding's opening (dated at its first-seen time, which is at
// most the writer's clock).
func TestALeaderBehindTheLastEvaluationsFindingRecordsWaitsForThem(t *testing.T) {
	m := func(minutes float64) time.Time { return t0.Add(time.Duration(minutes * float64(time.Minute))) }
	z := Finding{Key: "wl-privileged|Deployment|api|setup", Check: "wl-privileged", Kind: "Deployment", Name: "api", Container: "setup", FirstSeen: m(9)}
	excepted := z
	excepted.Exception = "waive-setup"
	store := writeSegments(t, append(beats(t0, t0),
		Record{Type: FindingOpened, Time: m(9), Profile: "soc2", Namespace: "team-a", Finding: &z},
		Record{Type: FindingExcepted, Time: m(9), Profile: "soc2", Namespace: "team-a", Finding: &excepted}))

	clock := &tickingNow{t: m(2), step: 10 * time.Second}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond, Identity: "pod-b"})
	stop := runQueue(t, q)
	closed := z
	closed.CloseReason = CloseResolved
	if !q.AddAndWait(context.Background(), 10*time.Second, Record{Type: FindingClosed, Time: clock.Now(), Profile: "soc2", Namespace: "team-a", Finding: &closed}) {
		t.Fatal("not written")
	}
	stop()
	for _, r := range allRecords(t, store) {
		if r.Operator != nil && r.Operator.Identity == "pod-b" || r.Type == FindingClosed {
			if r.Time.Before(m(9)) {
				t.Errorf("pod-b's %s is dated %s, before the old leader's last evaluation (%s)", r.Type, stamp(r.Time), stamp(m(9)))
			}
		}
		if r.Type == ObservationGap && r.Interval.From.Before(m(9)) {
			t.Errorf("observation gap %s..%s: the old leader evaluated at %s", stamp(r.Interval.From), stamp(r.Interval.To), stamp(m(9)))
		}
	}
}

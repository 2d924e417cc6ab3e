package evidence

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A tenant's exception (no approval required) waived a finding until 10:00, while no operator
// ran from 09:00 to 12:00; meanwhile the tenant extended it, and the operator, back at 12:00,
// journaled the change (the new expiry) and no expiry, which it never saw. deviations.csv counted
// 23 hours excepted, 01:00 to 24:00, though from 10:00 to the change nothing waived the finding:
// an exception covers nothing after it expires, extended later or not. An exception changed
// after its expiry, with no record that it ended, ended at its expiry: excepted 9 + 12 hours.
func TestAnExceptionExtendedAfterItLapsedDidNotWaiveTheLapse(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	x := journal.Exception{Name: "x", Owner: "team-a", Reason: "migration", Created: t0, Expires: h(10), Checks: []string{"wl-privileged"}}
	extended := x
	extended.Expires, extended.SpecSHA256 = h(48), "b2"
	x.SpecSHA256 = "a1"
	f := &journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
	excepted := *f
	excepted.Exception = "x"
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &x},
		{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: f},
		{Type: journal.FindingExcepted, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
		{Type: journal.OperatorStopped, Time: h(9)},
		{Type: journal.ObservationGap, Time: h(12), Interval: &journal.Interval{From: h(9), To: h(12), Reason: "no operator was observing"}},
		{Type: journal.OperatorStarted, Time: h(12)},
		{Type: journal.ExceptionChanged, Time: h(12), Namespace: "team-a", Exception: &extended},
	}
	recs = append(recs, heartbeats(t0, h(9))...)
	recs = append(recs, heartbeats(h(12).Add(time.Minute), h(24))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	rows := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(rows) != 1 || rows[0]["excepted_hours"] != "21.00" {
		t.Errorf("deviations.csv: %v, want api excepted 21.00 hours (01:00-10:00, then from the change at 12:00)", rows)
	}
}

package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace admin who flips a failing container in and out (the operator's pace lets one
// evaluation through every 10 s) made a deviation row per flip: tens of millions a year, every
// pack of the period as large, the deviations one row among them lost to the auditor, and the
// pack's memory growing with the flips. A finding that opens again within ReopenedWithin of a
// remediated closing is now the same row: opened at its first opening, closed at its last
// closing, with how many times it reopened and the time it was open in total, so that the
// auditor still sees it flapped and no open interval is hidden. A closing that was no
// remediation (out of scope, resource gone, reassessed, inferred) ends the row, and a reopening
// after longer than ReopenedWithin is another row.
func TestAFindingThatKeepsReopeningIsOneRowThatSaysSo(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(time.Hour + d) }
	f := journal.Finding{Key: "wl-privileged|Deployment|api|setup", Check: "wl-privileged", Severity: "High", Kind: "Deployment", Name: "api", Container: "setup"}
	opened := func(t time.Time) journal.Record {
		o := f
		o.FirstSeen = t
		return journal.Record{Type: journal.FindingOpened, Time: t, Profile: "soc2", Namespace: "tenant", Finding: &o}
	}
	closed := func(t, first time.Time, reason string) journal.Record {
		c := f
		c.FirstSeen, c.CloseReason = first, reason
		return journal.Record{Type: journal.FindingClosed, Time: t, Profile: "soc2", Namespace: "tenant", Finding: &c}
	}
	var recs []journal.Record
	// Five flips: open 10 s, closed 10 s.
	for i := range 5 {
		o := at(time.Duration(i) * 20 * time.Second)
		recs = append(recs, opened(o), closed(o.Add(10*time.Second), o, journal.CloseResolved))
	}
	// Back two hours later, for a minute: another row.
	recs = append(recs, opened(at(2*time.Hour)), closed(at(2*time.Hour+time.Minute), at(2*time.Hour), journal.CloseResolved))
	// Then out of scope and back 10 s later: not a remediation, another row each.
	recs = append(recs, opened(at(4*time.Hour)), closed(at(4*time.Hour+time.Minute), at(4*time.Hour), journal.CloseOutOfScope),
		opened(at(4*time.Hour+70*time.Second)))
	recs = append(recs, heartbeats(t0, t0.Add(6*time.Hour))...)
	out := buildPack(t, journalOf(t, recs...), t0, t0.Add(6*time.Hour))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["opened"], r["closed"], r["status"], r["reopened"], r["open_hours"], r["duration_hours"]}, " "))
	}
	want := []string{
		ts(at(0)) + " " + ts(at(90*time.Second)) + " closed 4 " + hours(50*time.Second) + " " + hours(90*time.Second),
		ts(at(2*time.Hour)) + " " + ts(at(2*time.Hour+time.Minute)) + " closed 0 " + hours(time.Minute) + " " + hours(time.Minute),
		ts(at(4*time.Hour)) + " " + ts(at(4*time.Hour+time.Minute)) + " closed-out-of-scope 0 " + hours(time.Minute) + " " + hours(time.Minute),
		ts(at(4*time.Hour+70*time.Second)) + "  open 0 " + hours(t0.Add(6*time.Hour).Sub(at(4*time.Hour+70*time.Second))) + " " +
			hours(t0.Add(6*time.Hour).Sub(at(4*time.Hour+70*time.Second))),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv (opened closed status reopened open_hours duration_hours):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The operator dates a finding's opening by the report's first-seen time, to the second: one
// that closed at 12:00:00.700 and failed again at 12:00:00.950 opens "first seen 12:00:00",
// before the closing. That reopening, and a second leader's copy of an earlier opening of the
// row around a failover, are told apart by the first-seen time of each opening the row holds, not
// by the row's span: the reopening is in the row (its time counted from the closing), the copy
// is not another opening.
func TestAReopeningFirstSeenWithinTheSecondOfTheClosingIsNotLost(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f := journal.Finding{Key: "wl-privileged|Deployment|api|setup", Check: "wl-privileged", Severity: "High", Kind: "Deployment", Name: "api", Container: "setup"}
	rec := func(typ journal.Type, at, first time.Time) journal.Record {
		g := f
		g.FirstSeen = first
		if typ == journal.FindingClosed {
			g.CloseReason = journal.CloseResolved
		}
		return journal.Record{Type: typ, Time: at, Profile: "soc2", Namespace: "tenant", Finding: &g}
	}
	ms := time.Millisecond
	first, second := t0.Add(-time.Minute), t0
	recs := []journal.Record{
		rec(journal.FindingOpened, first, first),
		rec(journal.FindingClosed, t0.Add(700*ms), first),
		rec(journal.FindingOpened, t0.Add(950*ms), second), // first seen "12:00:00", before the closing
		rec(journal.FindingOpened, t0.Add(960*ms), first),  // a second leader's copy of the first opening
		rec(journal.FindingClosed, t0.Add(10*time.Second), second),
		rec(journal.FindingClosed, t0.Add(10*time.Second+5*ms), second), // and of the second closing
	}
	from := t0.Add(-time.Hour)
	recs = append(recs, heartbeats(from, t0.Add(time.Hour))...)
	out := buildPack(t, journalOf(t, recs...), from, t0.Add(time.Hour))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["opened"], r["closed"], r["status"], r["reopened"], r["open_hours"]}, " "))
	}
	want := []string{ts(first) + " " + ts(t0.Add(10*time.Second)) + " closed 1 " + hours(time.Minute+700*ms+10*time.Second-700*ms)}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv (opened closed status reopened open_hours):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

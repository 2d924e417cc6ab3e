package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A tenant flipping a failing container in and out flips the criteria it supports too: CC6.1
// Fail, Pass, Fail... every 20 s, a criteria.csv row per flip (the pack's memory growing with
// them, ~3M rows a year: BenchmarkPackWithAFlappingTenant). A Pass followed by Fail again within
// ReopenedWithin is now an interruption of the Fail row, which says how many and for how long:
// the row is Fail but for pass_hours, never Pass for time that failed. A Pass that lasts longer
// is a row of its own, as before.
func TestACriterionThatKeepsFailingAgainIsOneFailRowThatCountsItsPasses(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(time.Hour + d) }
	s := time.Second
	recs := []journal.Record{
		changed(at(0), "CC6.1", "Fail"), changed(at(10*s), "CC6.1", "Pass"),
		changed(at(20*s), "CC6.1", "Fail"), changed(at(30*s), "CC6.1", "Pass"),
		changed(at(40*s), "CC6.1", "Fail"), changed(at(50*s), "CC6.1", "Pass"),
		changed(at(3*time.Hour), "CC6.1", "Fail"), changed(at(3*time.Hour+time.Minute), "CC6.1", "Pass"),
	}
	recs = append(recs, heartbeats(t0, t0.Add(6*time.Hour))...)
	out := buildPack(t, journalOf(t, recs...), t0, t0.Add(6*time.Hour))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["pass_interruptions"], r["pass_hours"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(at(0)) + " Unknown 0 0.00",
		ts(at(0)) + " " + ts(at(50*s)) + " Fail 2 " + hours(20*s),
		ts(at(50*s)) + " " + ts(at(3*time.Hour)) + " Pass 0 0.00",
		ts(at(3*time.Hour)) + " " + ts(at(3*time.Hour+time.Minute)) + " Fail 0 0.00",
		ts(at(3*time.Hour+time.Minute)) + " " + ts(t0.Add(6*time.Hour)) + " Pass 0 0.00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (from to state pass_interruptions pass_hours):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

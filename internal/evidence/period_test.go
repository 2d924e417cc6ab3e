package evidence

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// card returns the value of the summary card labelled label on the pack's index.html.
func card(t *testing.T, out, label string) string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<b>([^<]*)</b><span class="muted">` + regexp.QuoteMeta(label) + `</span>`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("index.html has no card %q", label)
	}
	return string(m[1])
}

// The operator was stopped for ten days before the period began and came back two hours into
// it; later the store was unreachable twice, the two journal gaps overlapping (5:00-7:00 and
// 6:00-8:00). Of the period's 24 hours, 5 were not observed. The summary's "time not observed"
// read 10.2d, more than the period itself: it summed each gap's whole length, the ten days
// before the period included, and counted 6:00-7:00 twice; gaps.csv's duration_hours (242,
// 2, 2) said nothing of the part in the period either. An auditor working out the share of the
// period observed from either got a negative number.
func TestTimeNotObservedIsTheUnobservedPartOfThePeriod(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	stopped := journal.Interval{From: h(-240), To: h(2), Reason: "upgrade"}
	lost := journal.Interval{From: h(5), To: h(7), Reason: "store unreachable", Dropped: 3}
	lostAgain := journal.Interval{From: h(6), To: h(8), Reason: "store unreachable", Dropped: 4}
	recs := []journal.Record{
		{Type: journal.OperatorStopped, Time: h(-240)},
		{Type: journal.ObservationGap, Time: h(2), Interval: &stopped},
		changed(h(2.1), "CC6.1", "Fail"),
		{Type: journal.JournalGap, Time: h(7), Interval: &lost},
		{Type: journal.JournalGap, Time: h(8), Interval: &lostAgain},
	}
	recs = append(recs, heartbeats(h(2), h(24))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	if got := card(t, out, "time not observed"); got != "5.0h" {
		t.Errorf("index.html: time not observed %s, want 5.0h (0:00-2:00 and 5:00-8:00 of the period)", got)
	}
	var got []string
	for _, g := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		got = append(got, strings.Join([]string{g["type"], g["from"], g["to"], g["duration_hours"], g["hours_in_period"]}, " "))
	}
	want := []string{
		"observation.gap " + ts(h(-240)) + " " + ts(h(2)) + " 242.00 2.00",
		"journal.gap " + ts(h(5)) + " " + ts(h(7)) + " 2.00 2.00",
		"journal.gap " + ts(h(6)) + " " + ts(h(8)) + " 2.00 2.00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gaps.csv (type from to duration_hours hours_in_period):\n%s\nwant each gap as recorded, with the part of it in the period:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

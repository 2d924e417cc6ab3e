package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// Around a failover two leaders wrote for two hours: pod-a, running since before the period,
// had not noticed it lost its lease, and pod-b started at 03:00; their heartbeats interleave in
// the chain. operators.csv listed 27 runs, pod-a and pod-b in turn every five minutes, each
// lasting one record, and every pod-a row but the first without a start: an auditor read
// thirteen restarts of each. It is two processes, each with its records' whole span.
func TestTwoOperatorsWritingAtOnceAreTwoRuns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	a := &journal.Operator{Identity: "soc2-operator-6c9f-a", Version: "v1.5.0", Catalogue: "2026.09.01"}
	b := &journal.Operator{Identity: "soc2-operator-6c9f-b", Version: "v1.5.0", Catalogue: "2026.09.01"}
	by := func(recs []journal.Record, op *journal.Operator) []journal.Record {
		for i := range recs {
			recs[i].Operator = op
		}
		return recs
	}
	recs := []journal.Record{changed(h(1), "CC6.1", "Pass"), {Type: journal.OperatorStarted, Time: h(3), Operator: b}}
	recs = append(recs, by(heartbeats(h(-1), h(24)), a)...)
	recs = append(recs, by(heartbeats(h(3).Add(5*time.Minute), h(5)), b)...)
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "operators.csv")) {
		got = append(got, strings.Join([]string{r["identity"], r["started"], r["first_record"], r["last_record"]}, " "))
	}
	want := []string{
		a.Identity + "  " + ts(t0) + " " + ts(h(23+50.0/60)),
		b.Identity + " " + ts(h(3)) + " " + ts(h(3)) + " " + ts(h(4+55.0/60)),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("operators.csv (identity started first last):\n%s\nwant the two processes once each:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The operator stopped at 23:48 on the period's last day (its operator.stopped record is the
// last of the period) and started again the next morning, the observation gap it recorded then
// being in the next period's segments. Twelve minutes is under the 20 minutes a silence needs,
// so gaps.csv listed nothing and criteria.csv held CC6.1 Pass to midnight, after the journal
// said nobody was observing.
func TestAStopAtTheEndOfThePeriodIsNotObservedToItsEnd(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	stop := h(23.8)
	recs := append(heartbeats(t0, stop), changed(h(1), "CC6.1", "Pass"), journal.Record{Type: journal.OperatorStopped, Time: stop})
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(stop) + " Pass",
		"CC6.1 " + ts(stop) + " " + ts(h(24)) + " Unknown",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant Unknown from the stop:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	gaps := readCSV(t, filepath.Join(out, "gaps.csv"))
	if len(gaps) != 1 || gaps[0]["type"] != string(journal.ObservationGap) || gaps[0]["from"] != ts(stop) || gaps[0]["to"] != ts(h(24)) {
		t.Errorf("gaps.csv: %v\nwant the time from the stop to the period's end", gaps)
	}
	if got := card(t, out, "time not observed"); got != "12m" {
		t.Errorf("index.html: time not observed %s, want 12m", got)
	}
}

// An auditor's cross-check of a pack whose period cuts through states, given in two local
// offsets (--from 2025-01-11T05:00:00+02:00, --to 2025-02-10T07:30:00-05:00: 03:00 and 12:30
// UTC): each criterion's intervals in criteria.csv tile the period exactly, in UTC, with no
// hole or overlap (the time in each state adds up to the period); and every figure of the
// summary page is what the CSVs say. Passes on the current code.
func TestThePacksFiguresAddUpOverAPeriodCuttingThroughStates(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 6
	_, store, _ := simulate(t, cfg)
	out := t.TempDir()
	var stdout bytes.Buffer
	if code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2025-01-11T05:00:00+02:00", "--to", "2025-02-10T07:30:00-05:00", "-o", out}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stdout.String())
	}
	from, to := time.Date(2025, 1, 11, 3, 0, 0, 0, time.UTC), time.Date(2025, 2, 10, 12, 30, 0, 0, time.UTC)

	// Each timeline tiles [from, to).
	type tl struct{ end time.Time }
	ends := map[string]*tl{}
	states := map[string]time.Duration{}
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		k := r["cluster"] + " " + r["profile"] + " " + r["namespace"] + " " + r["criterion"]
		f, err1 := time.Parse(time.RFC3339, r["from"])
		e, err2 := time.Parse(time.RFC3339, r["to"])
		if err1 != nil || err2 != nil || e.Before(f) {
			t.Fatalf("criteria.csv row %v", r)
		}
		cur := ends[k]
		if cur == nil {
			if !f.Equal(from) {
				t.Errorf("%s begins at %s, not at the period's start %s", k, ts(f), ts(from))
			}
			cur = &tl{}
			ends[k] = cur
		} else if !f.Equal(cur.end) {
			t.Errorf("%s: an interval from %s follows one ending at %s", k, ts(f), ts(cur.end))
		}
		cur.end = e
		states[r["state"]] += e.Sub(f)
	}
	if len(ends) == 0 || states["Fail"] == 0 || states["Pass"] == 0 {
		t.Fatalf("criteria.csv: %d timelines, time per state %v", len(ends), states)
	}
	for k, e := range ends {
		if !e.end.Equal(to) {
			t.Errorf("%s ends at %s, not at the period's end %s", k, ts(e.end), ts(to))
		}
	}

	// The summary's cards say what the CSVs do.
	opened, status := 0, map[string]int{}
	for _, d := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		o, _ := time.Parse(time.RFC3339, d["opened"])
		if !o.Before(from) {
			opened++
		}
		status[d["status"]]++
	}
	attestations, missing := 0, 0
	for _, c := range readCSV(t, filepath.Join(out, "coverage.csv")) {
		n, _ := strconv.Atoi(c["attestations"])
		m, _ := strconv.Atoi(c["days_missing"])
		attestations, missing = attestations+n, missing+m
	}
	var notObserved float64
	for _, g := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		if g["type"] != string(StaleEvaluation) {
			h, _ := strconv.ParseFloat(g["hours_in_period"], 64)
			notObserved += h
		}
	}
	for label, want := range map[string]string{
		"deviations opened in the period":                   strconv.Itoa(opened),
		"deviations remediated":                             strconv.Itoa(status["closed"] + status["closed-inferred"]),
		"closed unremediated (out of scope, resource gone)": strconv.Itoa(status["closed-out-of-scope"] + status["closed-resource-gone"]),
		"still open at the end":                             strconv.Itoa(status["open"]),
		"exceptions":                                        strconv.Itoa(len(readCSV(t, filepath.Join(out, "exceptions.csv")))),
		"attestations":                                      strconv.Itoa(attestations),
		"namespace-days without attestation":                strconv.Itoa(missing),
		"time not observed":                                 humanDuration(time.Duration(notObserved * float64(time.Hour))),
	} {
		if got := card(t, out, label); got != want {
			t.Errorf("index.html: %s %s, the CSVs say %s", label, got, want)
		}
	}
	if page, _ := os.ReadFile(filepath.Join(out, "index.html")); !strings.Contains(string(page), "Period <b>"+ts(from)+"</b> to <b>"+ts(to)+"</b>") {
		t.Errorf("index.html does not state the period in UTC (%s to %s)", ts(from), ts(to))
	}
}

// A pack of a month the journal holds no record of (its chain ends before it) says so: the
// verification fails (uncovered), the whole month is a silence, not observed, and no
// criterion has a state, rather than a clean page with no deviation. Passes on the current
// code.
func TestAPackOfAPeriodWithoutRecordsSaysNothingWasObserved(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := journalOf(t, append(heartbeats(t0.AddDate(0, 0, -3), t0.AddDate(0, 0, -2)), changed(t0.AddDate(0, 0, -3), "CC6.1", "Pass"))...)
	out := t.TempDir()
	var stdout bytes.Buffer
	if code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2026-01-01", "--to", "2026-01-31", "-o", out}, &stdout, os.Stderr); code != ExitProblems {
		t.Errorf("exit %d, want %d (the period is not covered): %s", code, ExitProblems, stdout.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Journal verification FAILED", "no segment covers the period", "No criterion states were recorded in the period"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html does not say %q", want)
		}
	}
	if got := card(t, out, "time not observed"); got != "31.0d" {
		t.Errorf("index.html: time not observed %s, want the whole month, 31.0d", got)
	}
	if rows := readCSV(t, filepath.Join(out, "criteria.csv")); len(rows) != 0 {
		t.Errorf("criteria.csv states criteria for a month with no record: %v", rows)
	}
	gaps := readCSV(t, filepath.Join(out, "gaps.csv"))
	if len(gaps) != 1 || gaps[0]["type"] != string(Silence) || gaps[0]["from"] != ts(t0) || gaps[0]["to"] != ts(t0.AddDate(0, 1, 0)) || gaps[0]["hours_in_period"] != "744.00" {
		t.Errorf("gaps.csv: %v\nwant the whole month as a silence", gaps)
	}
}

package evidence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An upgrade in September brought a new check catalogue, and CC6.1 in team-a went from Pass to
// Fail without anything changing in the namespace: the new catalogue judged more. criteria.csv
// showed Pass until the upgrade and Fail after it, and nothing in the pack said which operator
// or which catalogue stated either: the journal's operator.* records name the operator's
// version, but the pack read none of them, and controls.csv's catalogue_version is the version
// of the binary that built the pack, not of the one that judged. An auditor could not tell a
// control failing from a stricter test. Each state now says which operator version and which
// catalogue version stated it, and operators.csv lists every operator that wrote the period.
func TestEachStateSaysWhichOperatorAndCatalogueStatedIt(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	old := &journal.Operator{Identity: "soc2-operator-6c9f-abc", Version: "v1.4.0", Catalogue: "2026.06.01"}
	upgraded := &journal.Operator{Identity: "soc2-operator-7d1e-xyz", Version: "v1.5.0", Catalogue: "2026.09.01"}
	beat := func(from, to time.Time, op *journal.Operator) []journal.Record {
		recs := heartbeats(from, to)
		for i := range recs {
			recs[i].Operator = op
		}
		return recs
	}
	restart := journal.Interval{From: h(10), To: h(10.1), Reason: "upgrade"}
	recs := []journal.Record{
		// The old operator ran since before the period: its heartbeats name it.
		changed(h(1), "CC6.1", "Pass"),
		attested(h(5), journal.CriterionState{Criterion: "CC6.1", State: "Pass"}),
		{Type: journal.OperatorStopped, Time: h(10), Operator: old},
		{Type: journal.ObservationGap, Time: h(10.1), Operator: upgraded, Interval: &restart},
		{Type: journal.OperatorStarted, Time: h(10.1), Operator: upgraded},
		changed(h(10.2), "CC6.1", "Fail"),
		attested(h(20), journal.CriterionState{Criterion: "CC6.1", State: "Fail"}),
	}
	recs = append(recs, beat(t0.Add(-time.Hour), h(10), old)...)
	recs = append(recs, beat(h(10.1), h(24), upgraded)...)
	out := buildPack(t, journalOf(t, recs...), t0, h(24))

	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["operator_version"], r["catalogue_version"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(h(1)) + " Unknown  ",
		ts(h(1)) + " " + ts(h(10)) + " Pass v1.4.0 2026.06.01",
		ts(h(10)) + " " + ts(h(10.2)) + " Unknown  ",
		ts(h(10.2)) + " " + ts(h(24)) + " Fail v1.5.0 2026.09.01",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (from to state operator catalogue):\n%s\nwant each state with the versions that stated it:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	got = nil
	for _, r := range readCSV(t, filepath.Join(out, "operators.csv")) {
		got = append(got, strings.Join([]string{r["identity"], r["operator_version"], r["catalogue_version"], r["started"], r["first_record"], r["last_record"]}, " "))
	}
	want = []string{
		"soc2-operator-6c9f-abc v1.4.0 2026.06.01  " + ts(t0) + " " + ts(h(10)),
		"soc2-operator-7d1e-xyz v1.5.0 2026.09.01 " + ts(h(10.1)) + " " + ts(h(10.1)) + " " + ts(h(24).Add(-4*time.Minute)), // its last heartbeat
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("operators.csv (identity version catalogue started first last):\n%s\nwant both operators of the period:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "the period was judged with 2026.06.01, 2026.09.01"; !strings.Contains(string(page), want) {
		t.Errorf("index.html does not say the catalogues that judged differ from controls.csv's (%q)", want)
	}
}

// A state stated again by an upgraded operator is another interval, even when it did not
// change: the Pass after the upgrade rests on another catalogue's checks.
func TestAStateStatedAgainAfterAnUpgradeIsAnotherInterval(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	old := &journal.Operator{Identity: "a", Version: "v1.4.0", Catalogue: "2026.06.01"}
	upgraded := &journal.Operator{Identity: "b", Version: "v1.5.0", Catalogue: "2026.09.01"}
	recs := []journal.Record{
		{Type: journal.OperatorStarted, Time: t0, Operator: old},
		changed(h(1), "CC6.1", "Pass"),
		// A rolling upgrade: the new leader starts right away, no gap.
		{Type: journal.OperatorStarted, Time: h(5), Operator: upgraded},
		attested(h(5).Add(time.Minute), journal.CriterionState{Criterion: "CC6.1", State: "Pass"}),
	}
	recs = append(recs, heartbeats(t0, h(10))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(10))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["catalogue_version"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(h(1)) + " Unknown ",
		ts(h(1)) + " " + ts(h(5).Add(time.Minute)) + " Pass 2026.06.01",
		ts(h(5).Add(time.Minute)) + " " + ts(h(10)) + " Pass 2026.09.01",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An operator writes its observation.gap and operator.started records at the same time; the
// journal orders them by ID, so either comes first. Either way the operator is one run.
func TestAnOperatorsGapAndStartAreOneRunInEitherOrder(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	op := &journal.Operator{Identity: "b", Version: "v1.5.0", Catalogue: "2026.09.01"}
	gap := record{Type: journal.ObservationGap, Time: t0.Add(time.Hour), Operator: op}
	start := record{Type: journal.OperatorStarted, Time: t0.Add(time.Hour), Operator: op}
	for name, order := range map[string][]record{"gap first": {gap, start}, "start first": {start, gap}} {
		b := &builder{opts: Options{From: t0, To: t0.Add(2 * time.Hour)}, pack: &Pack{}, cluster: "c"}
		for i := range order {
			b.operator(&order[i])
		}
		if len(b.pack.Operators) != 1 || !b.pack.Operators[0].Started.Equal(t0.Add(time.Hour)) {
			t.Errorf("%s: operators %+v; want one run, started at 01:00", name, b.pack.Operators)
		}
	}
}

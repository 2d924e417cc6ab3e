package evidence

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace the profile selects but whose evaluation never succeeds (the operator cannot read
// its objects, or its evaluation always fails) has no record of its own: no attestation, no
// criterion state. coverage.csv listed only namespaces that had verdicts, so the pack read as
// full coverage of team-a when the profile also selected team-b, judged never. The operator's
// profile.attested records now say which namespaces the profile selected, and coverage.csv lists
// a selected namespace without any attestation in the period, every day from the first record
// that shows it selected missing.
func TestANamespaceSelectedButNeverJudgedIsInThePack(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	var recs []journal.Record
	for d := range 3 {
		at := h(float64(24*d) + 1)
		recs = append(recs,
			journal.Record{Type: journal.ProfileAttested, Time: at, Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 1, SHA256: strings.Repeat("a", 64)},
				Selection: &journal.Selection{Namespaces: []string{"team-a", "team-b"}}},
			journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a",
				Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}})
	}
	out := buildPack(t, journalOf(t, sortedRecords(append(recs, heartbeats(t0, h(72))...))...), t0, h(72))
	rows := map[string]map[string]string{}
	for _, r := range readCSV(t, filepath.Join(out, "coverage.csv")) {
		rows[r["namespace"]] = r
	}
	if r := rows["team-a"]; r == nil || r["attestations"] != "3" || r["days_missing"] != "0" {
		t.Errorf("coverage.csv team-a: %v, want 3 attestations, no day missing", r)
	}
	b := rows["team-b"]
	if b == nil {
		t.Fatalf("coverage.csv lists %d namespaces and not team-b, which the profile selected all period and never judged", len(rows))
	}
	if b["attestations"] != "0" || b["first_attested"] != "" || b["days_missing"] != "3" ||
		b["missing_days"] != "2026-05-01;2026-05-02;2026-05-03" {
		t.Errorf("coverage.csv team-b: %v, want no attestation and the 3 days missing", b)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(page), "team-b") {
		t.Errorf("index.html does not name team-b, selected and never judged")
	}
}

// A namespace the profile selected, created and deleted while its first evaluation waited in the
// operator's queue, left nothing in the journal, so the pack showed no sign it was ever in scope.
// The operator now journals it as namespace.left with the interval it was in scope and the
// reason journal.ReasonNeverEvaluated: coverage.csv lists it, never attested, its days in scope
// (created day 2, deleted day 3) missing, and index.html names it.
func TestANamespaceDeletedBeforeItsFirstEvaluationIsInThePack(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	var recs []journal.Record
	for d := range 5 {
		at := h(float64(24*d) + 1)
		recs = append(recs, journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a",
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}})
	}
	recs = append(recs, journal.Record{Type: journal.NamespaceLeft, Time: h(48 + 0.5), Profile: "soc2", Namespace: "short-lived",
		Interval: &journal.Interval{From: h(24 + 23), To: h(48 + 0.5), Reason: journal.ReasonNeverEvaluated}})
	out := buildPack(t, journalOf(t, sortedRecords(append(recs, heartbeats(t0, h(120))...))...), t0, h(120))
	rows := map[string]map[string]string{}
	for _, r := range readCSV(t, filepath.Join(out, "coverage.csv")) {
		rows[r["namespace"]] = r
	}
	if r := rows["team-a"]; r == nil || r["days_missing"] != "0" {
		t.Errorf("coverage.csv team-a: %v, want no day missing", r)
	}
	s := rows["short-lived"]
	if s == nil {
		t.Fatalf("coverage.csv lists %d namespaces and not short-lived, in scope on days 2 and 3 and never judged", len(rows))
	}
	if s["attestations"] != "0" || s["days_missing"] != "2" || s["missing_days"] != "2026-05-02;2026-05-03" {
		t.Errorf("coverage.csv short-lived: %v, want no attestation and days 2 and 3 missing", s)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(page), "short-lived") {
		t.Errorf("index.html does not name short-lived, selected and never judged")
	}
}

// team-a was judged (attested days 1 and 2), deleted on day 2, created again on day 3 under the
// same name and deleted on day 4 before any evaluation of it ran: the operator journaled the
// second namespace's namespace.left with its interval in scope and journal.ReasonNeverEvaluated.
// The pack took it for the first namespace's ("an earlier namespace of the name was judged"),
// and coverage.csv said no day of team-a's was missing: the second namespace, in scope on days 3
// and 4 and never judged, was covered. A namespace created after the name's judged namespace left
// is another: its days in scope are missing.
func TestANamespaceCreatedAgainAndDeletedBeforeItsFirstEvaluationIsNotCovered(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	var recs []journal.Record
	for d := range 2 {
		recs = append(recs, journal.Record{Type: journal.Attestation, Time: h(float64(24*d) + 1), Profile: "soc2", Namespace: "team-a",
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}})
	}
	recs = append(recs,
		journal.Record{Type: journal.NamespaceLeft, Time: h(24 + 12), Profile: "soc2", Namespace: "team-a"},
		journal.Record{Type: journal.NamespaceLeft, Time: h(72 + 0.5), Profile: "soc2", Namespace: "team-a",
			Interval: &journal.Interval{From: h(48 + 23), To: h(72 + 0.5), Reason: journal.ReasonNeverEvaluated}})
	// And the same judged namespace journaled again as never evaluated (an operator restarted
	// after it left does not remember that it judged it): its creation is before it left.
	again := []journal.Record{{Type: journal.NamespaceLeft, Time: h(24 + 13), Profile: "soc2", Namespace: "team-a",
		Interval: &journal.Interval{From: t0.Add(-time.Hour), To: h(24 + 12), Reason: journal.ReasonNeverEvaluated}}}
	for name, tc := range map[string]struct {
		recs    []journal.Record
		missing string
	}{
		"created again and never judged":       {recs: recs, missing: "2026-05-03;2026-05-04"},
		"the judged namespace journaled again": {recs: append(slices.Clone(recs[:3]), again...), missing: ""},
	} {
		t.Run(name, func(t *testing.T) {
			out := buildPack(t, journalOf(t, sortedRecords(append(tc.recs, heartbeats(t0, h(120))...))...), t0, h(120))
			rows := readCSV(t, filepath.Join(out, "coverage.csv"))
			if len(rows) != 1 || rows[0]["missing_days"] != tc.missing {
				t.Errorf("coverage.csv: %v, want team-a with missing days %q", rows, tc.missing)
			}
		})
	}
}

package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace deleted on day 3 of a ten-day period (team-b), and one excluded from the profile
// on day 3 and selected again on day 6 (team-c), were counted as missing their attestations for
// every day they were not in scope: coverage.csv said team-b went seven days unattested, and
// the summary's "namespace-days without attestation" blamed the operator for namespaces nothing
// was to judge. Their last populations stayed in the population "at the end" too, as if the
// check still evaluated team-b's Deployments. The journal says when a namespace leaves a
// profile (namespace.left), and the pack expects attestations only while it is in scope.
func TestANamespaceInScopeForPartOfThePeriodIsNotMissingTheRest(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int, hours float64) time.Time {
		return t0.AddDate(0, 0, d).Add(time.Duration(hours * float64(time.Hour)))
	}
	attest := func(ns string, at time.Time, count int) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: ns, Attestation: &journal.AttestationBody{
			Criteria:           []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}},
			Checks:             []journal.CheckPopulation{{Check: "wl-privileged", Count: count}},
			Evaluated:          at,
			EvaluationInterval: 3600,
		}}
	}
	left := func(ns string, at time.Time) journal.Record {
		return journal.Record{Type: journal.NamespaceLeft, Time: at, Profile: "soc2", Namespace: ns}
	}
	var recs []journal.Record
	for d := range 10 {
		recs = append(recs, attest("team-a", day(d, 2), 5))
		if d < 3 || d >= 6 {
			recs = append(recs, attest("team-c", day(d, 2), 3))
		}
		if d < 3 {
			b := attest("team-b", day(d, 2), 7)
			if d == 2 {
				b.Attestation.Evaluated = day(1, 2) // its evaluations stopped a day before it left
			}
			recs = append(recs, b)
		}
	}
	// Both leave on day 3 before its attestation; team-b was last evaluated on day 2, its
	// stale interval (not evaluated) must not run on after it left.
	recs = append(recs, left("team-b", day(3, 1)), left("team-c", day(3, 1)))
	recs = append(recs, heartbeats(t0, day(10, 0))...)
	out := buildPack(t, journalOf(t, recs...), t0, day(10, 0))

	var got []string
	for _, c := range readCSV(t, filepath.Join(out, "coverage.csv")) {
		got = append(got, c["namespace"]+" "+c["days_missing"]+" "+c["missing_days"])
	}
	want := []string{"team-a 0 ", "team-b 0 ", "team-c 0 "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("coverage.csv (namespace days_missing missing_days):\n%s\nwant no day missing while a namespace was out of scope:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		if g["type"] == string(StaleEvaluation) && g["to"] > ts(day(3, 1)) {
			t.Errorf("gaps.csv: %v: a namespace not evaluated after it left the profile", g)
		}
	}
	p, err := Collect(t.Context(), journalOf(t, recs...), Options{From: t0, To: day(10, 0), Clusters: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.CheckSummary {
		if s.Check == "wl-privileged" && s.Latest != 8 {
			t.Errorf("wl-privileged's population at the end is %d, want 8 (team-a's 5 and team-c's 3; team-b left)", s.Latest)
		}
	}
}

// A namespace that came back into scope, and then was not attested, is missing those days.
func TestANamespaceBackInScopeIsMissingTheDaysItWasNotAttested(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int, hours float64) time.Time {
		return t0.AddDate(0, 0, d).Add(time.Duration(hours * float64(time.Hour)))
	}
	attest := func(at time.Time) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-c", Attestation: &journal.AttestationBody{
			Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}}
	}
	recs := []journal.Record{
		attest(day(0, 2)), attest(day(1, 2)),
		{Type: journal.NamespaceLeft, Time: day(1, 5), Profile: "soc2", Namespace: "team-c"},
		attest(day(4, 2)), // back in scope on day 4; then no attestation on days 5 and 6
		attest(day(7, 2)),
	}
	recs = append(recs, heartbeats(t0, day(8, 0))...)
	out := buildPack(t, journalOf(t, recs...), t0, day(8, 0))
	cov := readCSV(t, filepath.Join(out, "coverage.csv"))
	if len(cov) != 1 || cov[0]["missing_days"] != "2026-03-06;2026-03-07" {
		t.Errorf("coverage.csv: %v; want the days 2026-03-06 and 2026-03-07 missing (in scope, not attested), not days 2 to 4 (out of scope)", cov)
	}
}

// team-a is selected by two profiles, soc2 and strict, and wl-privileged evaluates its 5
// Deployments under each: the population "at the end" said 10, as if the namespace held ten
// Deployments, and a sample drawn against it would look for resources that never existed. A
// namespace's resources count once, whichever profiles evaluate them.
func TestANamespaceUnderTwoProfilesCountsOnceInThePopulationAtTheEnd(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	attest := func(profile, ns string, at time.Time, count int) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: profile, Namespace: ns, Attestation: &journal.AttestationBody{
			Checks: []journal.CheckPopulation{{Check: "wl-privileged", Count: count}}}}
	}
	recs := []journal.Record{
		attest("soc2", "team-a", t0.Add(time.Hour), 5),
		attest("strict", "team-a", t0.Add(time.Hour), 5),
		attest("strict", "team-b", t0.Add(time.Hour), 2),
	}
	recs = append(recs, heartbeats(t0, t0.Add(2*time.Hour))...)
	p, err := Collect(t.Context(), journalOf(t, recs...), Options{From: t0, To: t0.Add(2 * time.Hour), Clusters: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CheckSummary) != 1 || p.CheckSummary[0].Latest != 7 {
		t.Errorf("population at the end: %+v; want wl-privileged 7 (team-a's 5 once, team-b's 2)", p.CheckSummary)
	}
}

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

// A criterion's Pass can rest on fewer checks than it has: img-critical-cves says NotAssessed on
// every workload of a cluster without Trivy's reports, and CC7.1 passed on the others. The
// report says so (unassessedChecks), but criteria.csv, what an auditor samples, said "CC7.1
// Pass" for the whole period: read as "vulnerabilities were checked and none was critical".
// Each span now names the checks that assessed nothing over it, the journal records a change
// of that list even when the state stays, and a gap still reads Unknown with none.
func TestCriteriaSayWhichChecksAssessedNothing(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	change := func(at time.Time, state string, unassessed ...string) journal.Record {
		return changed(at, "CC7.1", state, unassessed...)
	}
	stopped := journal.Interval{From: h(6), To: h(8), Reason: "upgrade"}
	recs := []journal.Record{
		change(h(1), "Pass", "img-critical-cves", "img-signature"),
		change(h(3), "Pass", "img-signature"), // Trivy installed: the state stays Pass
		{Type: journal.OperatorStopped, Time: h(6)},
		{Type: journal.ObservationGap, Time: h(8), Interval: &stopped},
		attested(h(8.5), journal.CriterionState{Criterion: "CC7.1", State: "Pass", Unassessed: []string{"img-signature"}}),
		change(h(10), "Fail", "img-signature"),
		change(h(11), "Pass"),
	}
	recs = append(recs, heartbeats(t0, h(6))...)
	recs = append(recs, heartbeats(h(8), h(12))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(12))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["unassessed_checks"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(h(1)) + " Unknown ",
		ts(h(1)) + " " + ts(h(3)) + " Pass img-critical-cves img-signature",
		ts(h(3)) + " " + ts(h(6)) + " Pass img-signature",
		ts(h(6)) + " " + ts(h(8.5)) + " Unknown ",
		ts(h(8.5)) + " " + ts(h(10)) + " Pass img-signature",
		ts(h(10)) + " " + ts(h(11)) + " Fail img-signature",
		ts(h(11)) + " " + ts(h(12)) + " Pass ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (from to state unassessed_checks):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A namespace tenant can push a workload past what the operator reads (a command line dense
// with gitleaks' keywords hiding a token): sec-literal-env-credentials is NotAssessed there and
// Pass on the tenant's other workloads, so CC6.1 reads Pass. criteria.csv said "CC6.1 Pass" with
// nothing to tell that interval from one where every resource was decided; each span now names
// the checks that left some resources undecided (undecided_checks), a change of that list alone
// begins a span, and attestations carry it across a gap.
func TestCriteriaSayWhichChecksLeftResourcesUndecided(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	change := func(at time.Time, state string, undecided ...string) journal.Record {
		r := changed(at, "CC6.1", state)
		r.Criterion.Undecided = undecided
		return r
	}
	stopped := journal.Interval{From: h(6), To: h(8), Reason: "upgrade"}
	recs := []journal.Record{
		change(h(1), "Fail"),
		change(h(3), "Pass", "sec-literal-env-credentials"), // the token hidden, not removed
		{Type: journal.OperatorStopped, Time: h(6)},
		{Type: journal.ObservationGap, Time: h(8), Interval: &stopped},
		attested(h(8.5), journal.CriterionState{Criterion: "CC6.1", State: "Pass", Undecided: []string{"sec-literal-env-credentials"}}),
		change(h(10), "Pass"), // the command line shortened: every resource decided, and passing
	}
	recs = append(recs, heartbeats(t0, h(6))...)
	recs = append(recs, heartbeats(h(8), h(12))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(12))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["undecided_checks"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(h(1)) + " Unknown ",
		ts(h(1)) + " " + ts(h(3)) + " Fail ",
		ts(h(3)) + " " + ts(h(6)) + " Pass sec-literal-env-credentials",
		ts(h(6)) + " " + ts(h(8.5)) + " Unknown ",
		ts(h(8.5)) + " " + ts(h(10)) + " Pass sec-literal-env-credentials",
		ts(h(10)) + " " + ts(h(12)) + " Pass ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (from to state undecided_checks):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The operator ran and the journal's heartbeats and daily attestations went on, but one
// profile's evaluations had stopped without failing (its reconciler stuck: a deadlock, an API
// call that never returns; a failing evaluation already records Unknown): each attestation
// restated the last evaluation's Pass, and criteria.csv said CC6.1 held for the two days
// nothing judged the namespace. Attestations say when the state
// they state was evaluated and how often the profile evaluates; past journal.StaleAfter its
// criteria are Unknown until a record shows an evaluation again, and gaps.csv says why.
func TestAStateNobodyReEvaluatedIsUnknown(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	attest := func(at, evaluated time.Time) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a", Attestation: &journal.AttestationBody{
			Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}, Evaluated: evaluated, EvaluationInterval: 600}}
	}
	recs := []journal.Record{
		changed(h(1), "CC6.1", "Pass"),
		attest(h(24), h(23.9)),   // evaluated every 10 minutes: fresh
		attest(h(48), h(30)),     // the last evaluation was at 30h
		attest(h(72), h(30)),     // still
		attest(h(96), h(95.9)),   // evaluating again, since some time after 72h
		attest(h(120), h(119.5)), // half an hour is within 2 x 10m + 20m
	}
	recs = append(recs, heartbeats(t0, h(121))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(121))
	stale := ts(h(30).Add(journal.StaleAfter(10 * time.Minute)))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + stale + " Pass",
		"CC6.1 " + stale + " " + ts(h(95.9)) + " Unknown",
		"CC6.1 " + ts(h(95.9)) + " " + ts(h(121)) + " Pass",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant Unknown from 40 minutes after the last evaluation until the next:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var gaps []string
	for _, r := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		gaps = append(gaps, strings.Join([]string{r["type"], r["from"], r["to"], r["reason"]}, " "))
	}
	wantGap := "evaluation.stale " + stale + " " + ts(h(95.9)) + " profile soc2, namespace team-a: not evaluated since " + ts(h(30)) + " (the profile evaluates every 10m0s)"
	if len(gaps) != 1 || gaps[0] != wantGap {
		t.Errorf("gaps.csv: %q\nwant [%q]", gaps, wantGap)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "not evaluated since "+ts(h(30))) || !strings.Contains(string(index), "namespace intervals not evaluated") {
		t.Errorf("index.html does not show the stale evaluation")
	}
}

// A stale interval ends at the first record only an evaluation writes, a finding's closing among
// them (an evaluation that closes one of two findings changes no criterion), or where the profile
// is deleted: from then on nothing is to be evaluated under it, and its criteria are Unknown
// for that reason.
func TestAStaleIntervalEndsAtAClosingOrTheProfilesDeletion(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	attest := func(profile, state string, at, evaluated time.Time) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: profile, Namespace: "team-a", Attestation: &journal.AttestationBody{
			Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: state}}, Evaluated: evaluated, EvaluationInterval: 600}}
	}
	finding := func(typ journal.Type, at time.Time, name string) journal.Record {
		return journal.Record{Type: typ, Time: at, Profile: "soc2", Namespace: "team-a", Finding: &journal.Finding{
			Key: "wl-privileged/Pod/" + name, Check: "wl-privileged", Criteria: []string{"CC6.1"}, Kind: "Pod", Name: name, FirstSeen: h(1)}}
	}
	recs := []journal.Record{
		{Type: journal.CriterionChanged, Time: h(1), Profile: "soc2", Namespace: "team-a", Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Fail"}},
		finding(journal.FindingOpened, h(1), "api"),
		finding(journal.FindingOpened, h(1), "worker"),
		{Type: journal.CriterionChanged, Time: h(1), Profile: "other", Namespace: "team-a", Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Pass"}},
		attest("other", "Pass", h(48), h(30)),
		attest("soc2", "Fail", h(48), h(30)),
		finding(journal.FindingClosed, h(50), "api"), // evaluating again: worker still fails
		{Type: journal.ProfileDeleted, Time: h(60), Profile: "other"},
		attest("soc2", "Fail", h(72), h(71.9)),
	}
	recs = append(recs, heartbeats(t0, h(73))...)
	slices.SortStableFunc(recs, func(a, b journal.Record) int { return a.Time.Compare(b.Time) })
	out := buildPack(t, journalOf(t, recs...), t0, h(73))
	stale := ts(h(30).Add(journal.StaleAfter(10 * time.Minute)))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["profile"], r["from"], r["to"], r["state"]}, " "))
	}
	want := []string{
		"other " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"other " + ts(h(1)) + " " + stale + " Pass",
		"other " + stale + " " + ts(h(73)) + " Unknown",
		"soc2 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"soc2 " + ts(h(1)) + " " + stale + " Fail",
		"soc2 " + stale + " " + ts(h(50)) + " Unknown",
		"soc2 " + ts(h(50)) + " " + ts(h(73)) + " Fail",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (profile from to state):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var gaps []string
	for _, r := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		gaps = append(gaps, strings.Join([]string{r["type"], r["from"], r["to"], strings.Fields(r["reason"])[1]}, " "))
	}
	wantGaps := []string{
		"evaluation.stale " + stale + " " + ts(h(60)) + " other,",
		"evaluation.stale " + stale + " " + ts(h(50)) + " soc2,",
	}
	if strings.Join(gaps, "\n") != strings.Join(wantGaps, "\n") {
		t.Errorf("gaps.csv (type from to profile):\n%s\nwant:\n%s", strings.Join(gaps, "\n"), strings.Join(wantGaps, "\n"))
	}
}

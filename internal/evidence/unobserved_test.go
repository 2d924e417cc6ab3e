package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// changed is a criterion.changed record of namespace team-a under profile soc2.
func changed(at time.Time, criterion, state string, unassessed ...string) journal.Record {
	return journal.Record{Type: journal.CriterionChanged, Time: at, Profile: "soc2", Namespace: "team-a",
		Criterion: &journal.CriterionChange{Criterion: criterion, To: state, Unassessed: unassessed}}
}

// attested is an attestation of namespace team-a under profile soc2 stating the criteria.
func attested(at time.Time, criteria ...journal.CriterionState) journal.Record {
	return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a",
		Attestation: &journal.AttestationBody{Criteria: criteria}}
}

// assertCriteriaRows fails unless criteria.csv's rows (criteriaRows) are want; why says what
// want shows.
func assertCriteriaRows(t *testing.T, out, why string, want []string) {
	t.Helper()
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (criterion from to state):\n%s\nwant %s:\n%s", strings.Join(got, "\n"), why, strings.Join(want, "\n"))
	}
}

// journalGapRows returns gaps.csv's journal.gap rows as "type from hours_in_period namespaces".
func journalGapRows(t *testing.T, out string) []string {
	t.Helper()
	var gaps []string
	for _, r := range readCSV(t, out+"/gaps.csv") {
		if r["type"] == string(journal.JournalGap) {
			gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["hours_in_period"]+" "+r["namespaces"])
		}
	}
	return gaps
}

// criteriaRows returns criteria.csv's rows as "criterion from to state".
func criteriaRows(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["criterion"], r["from"], r["to"], r["state"]}, " "))
	}
	return got
}

// While no operator observed the cluster (a recorded stop, records lost while the store was
// unreachable, or hours without any record), nothing shows what a criterion's state was: a
// privileged pod could have run and gone. criteria.csv said Pass straight through a day the
// operator was down, and an auditor sampling it read "CC6.1 held" for time nobody watched.
// After such an interval the state is known again only when a record states it (the operator
// attests a minute after it starts; here a minute after each interval).
func TestACriterionIsUnknownWhileNobodyObserved(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	pass := changed(h(1), "CC6.1", "Pass")
	attest := func(at time.Time) journal.Record {
		return attested(at, journal.CriterionState{Criterion: "CC6.1", State: "Pass"})
	}
	minute := time.Minute
	stopped := journal.Interval{From: h(2), To: h(26), Reason: "upgrade"}
	lost := journal.Interval{From: h(30), To: h(31), Reason: "records dropped", Dropped: 12}
	recs := []journal.Record{pass,
		{Type: journal.OperatorStopped, Time: h(2)},
		{Type: journal.ObservationGap, Time: h(26), Interval: &stopped},
		attest(h(26).Add(minute)),
		{Type: journal.JournalGap, Time: h(31), Interval: &lost},
		attest(h(31).Add(minute)),
		attest(h(44).Add(minute)),
	}
	recs = append(recs, heartbeats(t0, h(2))...)
	recs = append(recs, heartbeats(h(26), h(40))...) // then silent for four hours
	recs = append(recs, heartbeats(h(44), h(48))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(48))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(2)) + " Pass",
		"CC6.1 " + ts(h(2)) + " " + ts(h(26).Add(minute)) + " Unknown",
		"CC6.1 " + ts(h(26).Add(minute)) + " " + ts(h(30)) + " Pass",
		"CC6.1 " + ts(h(30)) + " " + ts(h(31).Add(minute)) + " Unknown",
		"CC6.1 " + ts(h(31).Add(minute)) + " " + ts(h(39+50.0/60)) + " Pass",
		"CC6.1 " + ts(h(39+50.0/60)) + " " + ts(h(44).Add(minute)) + " Unknown",
		"CC6.1 " + ts(h(44).Add(minute)) + " " + ts(h(48)) + " Pass",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant Unknown over the stop, the lost records and the silence:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The store was unreachable for an hour and the operator's queue dropped what it could not keep,
// among it CC6.1's change to Fail (a privileged pod started then). criteria.csv took up the Pass
// from before the gap and held it until the next day's attestation said Fail: a day of "CC6.1
// held" that the journal never said. After an interval nobody observed, a state is Unknown until
// a record states it again.
func TestAStateIsUnknownAfterAGapUntilARecordStatesIt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	lost := journal.Interval{From: h(2), To: h(3), Reason: "store unreachable", Dropped: 40}
	recs := []journal.Record{
		changed(h(1), "CC6.1", "Pass"),
		{Type: journal.JournalGap, Time: h(3), Interval: &lost},
		attested(h(24), journal.CriterionState{Criterion: "CC6.1", State: "Fail"}),
	}
	recs = append(recs, heartbeats(t0, h(30))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(30))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(2)) + " Pass",
		"CC6.1 " + ts(h(2)) + " " + ts(h(24)) + " Unknown",
		"CC6.1 " + ts(h(24)) + " " + ts(h(30)) + " Fail",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant Unknown from the gap until the attestation:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A pack of a period not over yet (the year so far, built in June for the year) showed each
// criterion's last state held to the period's end, months ahead, and an open deviation lasting
// until then: nothing was observed after the pack was built.
func TestAPeriodNotOverIsUnknownFromNowOn(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(2)}
	recs := []journal.Record{
		changed(h(1), "CC6.1", "Pass"),
		{Type: journal.FindingOpened, Time: h(2), Profile: "soc2", Namespace: "team-a", Finding: &f},
	}
	now := h(10)
	store := journalOf(t, append(recs, heartbeats(t0, now.Add(time.Minute))...)...)
	out := t.TempDir()
	to := t0.AddDate(0, 0, 30)
	p, err := Build(context.Background(), store, Options{From: t0, To: to, Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OK() {
		t.Fatalf("the period so far is covered: %v", p.Verification)
	}
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(now) + " Pass",
		"CC6.1 " + ts(now) + " " + ts(to) + " Unknown",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant Unknown from now on:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["status"] != "open" || devs[0]["duration_hours"] != "8.00" {
		t.Errorf("deviations.csv: %v\nwant one open deviation of 8 hours so far", devs)
	}
}

// A finding failed for twenty days before an exception was requested and approved for it:
// deviations.csv named the exception and nothing else, so the deviation read as waived from
// the day it opened. Each row says when the journal first showed it excepted and for how long.
func TestADeviationExceptedAfterTheFactSaysWhenItWasExcepted(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: day(0).Add(time.Hour)}
	excepted := f
	excepted.Exception = "waiver"
	ex := journal.Exception{Name: "waiver", ApprovedBy: "ciso@example.com", Checks: []string{"wl-privileged"}, Created: day(20)}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: f.FirstSeen, Profile: "soc2", Namespace: "team-a", Finding: &f},
		{Type: journal.ExceptionRequested, Time: day(20), Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionApproved, Time: day(20).Add(time.Hour), Namespace: "team-a", Exception: &ex},
		{Type: journal.FindingExcepted, Time: day(20).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
		{Type: journal.FindingUnexcepted, Time: day(25).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingClosed, Time: day(30).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &f},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, day(31))...)...), t0, day(31))
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["exceptions"] != "waiver" || devs[0]["excepted_from"] != ts(day(20).Add(time.Hour)) || devs[0]["excepted_hours"] != "120.00" {
		t.Errorf("deviations.csv: %v\nwant it excepted from day 20, for 120 of its 720 hours", devs)
	}
}

// A deviation that closes while excepted was excepted until it closed, not to the end of the
// period.
func TestADeviationClosedWhileExceptedWasExceptedUntilItClosed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: day(0).Add(time.Hour)}
	excepted := f
	excepted.Exception = "waiver"
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: f.FirstSeen, Profile: "soc2", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingExcepted, Time: day(20).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
		{Type: journal.FindingClosed, Time: day(25).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, day(31))...)...), t0, day(31))
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["excepted_from"] != ts(day(20).Add(time.Hour)) || devs[0]["excepted_hours"] != "120.00" {
		t.Errorf("deviations.csv: %v\nwant it excepted from day 20 until it closed on day 25, 120 hours", devs)
	}
}

// The records that excepted and unexcepted the finding were lost in journal gaps: the
// attestations after each, which list the finding open with its exception or without one, say
// when it was excepted and when no longer.
func TestAnExceptionWhoseRecordsWereLostIsReadFromTheAttestations(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: day(0).Add(time.Hour)}
	excepted := f
	excepted.Exception = "waiver"
	attest := func(at time.Time, open journal.Finding) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a", Attestation: &journal.AttestationBody{
			Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}, Open: []journal.Finding{open}}}
	}
	lost := func(from, to time.Time) journal.Record {
		return journal.Record{Type: journal.JournalGap, Time: to, Interval: &journal.Interval{From: from, To: to, Reason: "records dropped", Dropped: 1}}
	}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: f.FirstSeen, Profile: "soc2", Namespace: "team-a", Finding: &f},
		lost(day(19), day(20)),
		attest(day(20).Add(time.Hour), excepted),
		lost(day(24), day(25)),
		attest(day(25).Add(time.Hour), f),
		{Type: journal.FindingClosed, Time: day(30).Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: &f},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, day(31))...)...), t0, day(31))
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["excepted_from"] != ts(day(20).Add(time.Hour)) || devs[0]["excepted_hours"] != "120.00" {
		t.Errorf("deviations.csv: %v\nwant it excepted from the attestation of day 20 to that of day 25, 120 hours", devs)
	}
}

// --unsigned is for a journal the operator does not sign: on a signed one it checks none of the
// signatures, so a segment rewritten without the key verified with exit 0.
func TestUnsignedOnASignedJournalExitsNonZero(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cfg := quarter()
	cfg.Namespaces, cfg.Days, cfg.Signer = 2, 3, key
	_, store, _ := simulate(t, cfg)
	var out bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned"}, &out, os.Stderr); code != ExitProblems || !strings.Contains(out.String(), "signed: 3 of the 3 segments read carry a signature") {
		t.Errorf("verify --unsigned of a signed journal: exit %d: %s", code, out.String())
	}
	out.Reset()
	p := t.TempDir()
	if code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", cfg.Start.Format(time.DateOnly), "--to", cfg.Start.AddDate(0, 0, 2).Format(time.DateOnly), "-o", p}, &out, os.Stderr); code != ExitProblems {
		t.Errorf("pack --unsigned of a signed journal: exit %d: %s", code, out.String())
	}
	cfg.Signer = nil
	_, store, _ = simulate(t, cfg)
	out.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned"}, &out, os.Stderr); code != ExitOK {
		t.Errorf("verify --unsigned of an unsigned journal: exit %d: %s", code, out.String())
	}
}

// A journal that begins after the period does (the operator installed late) or ends before it
// does (the operator gone, or the last segments removed) has no record between the period's
// bound and its own: verification says the period is not covered, but gaps.csv listed no such
// time, the summary counted none as not observed, and criteria.csv held the last state to the
// end of the period.
func TestThePeriodBeforeTheFirstRecordAndAfterTheLastIsNotObserved(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	recs := []journal.Record{{Type: journal.CriterionChanged, Time: h(4), Profile: "soc2", Namespace: "team-a",
		Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Pass"}}}
	recs = append(recs, heartbeats(h(3), h(8))...) // the last at 7:50
	out := t.TempDir()
	p, err := Build(context.Background(), journalOf(t, recs...), Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if p.OK() {
		t.Errorf("the period is not covered: %v", p.Verification)
	}
	var got []string
	for _, g := range readCSV(t, filepath.Join(out, "gaps.csv")) {
		got = append(got, strings.Join([]string{g["type"], g["from"], g["to"]}, " "))
	}
	last := h(7 + 50.0/60)
	want := []string{"silence " + ts(t0) + " " + ts(h(3)), "silence " + ts(last) + " " + ts(h(24))}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("gaps.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantCriteria := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(4)) + " Unknown",
		"CC6.1 " + ts(h(4)) + " " + ts(last) + " Pass",
		"CC6.1 " + ts(last) + " " + ts(h(24)) + " Unknown",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(wantCriteria, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantCriteria, "\n"))
	}
}

func TestUnobservedTimeIsUnknownInEverySpanItCrosses(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours int) time.Time { return t0.Add(time.Duration(hours) * time.Hour) }
	spans := []Span{{From: h(0), To: h(4), State: "Pass"}, {From: h(4), To: h(8), State: "Fail"}, {From: h(8), To: h(12), State: "Pass"}}
	for name, tc := range map[string]struct {
		gaps []Gap
		want string
	}{
		"no gap, the period over": {want: "0-4 Pass, 4-8 Fail, 8-12 Pass"},
		"overlapping gaps across two spans": {gaps: []Gap{{Cluster: "c", From: h(3), To: h(5)}, {Cluster: "c", From: h(4), To: h(6)}},
			want: "0-3 Pass, 3-6 Unknown, 6-8 Fail, 8-12 Pass"},
		"a gap of another cluster": {gaps: []Gap{{Cluster: "d", From: h(3), To: h(5)}}, want: "0-4 Pass, 4-8 Fail, 8-12 Pass"},
		"a gap over a whole span":  {gaps: []Gap{{Cluster: "c", From: h(4), To: h(8)}}, want: "0-4 Pass, 4-8 Unknown, 8-12 Pass"},
		"gaps beyond the period":   {gaps: []Gap{{Cluster: "c", From: h(-5), To: h(1)}, {Cluster: "c", From: h(11), To: h(20)}}, want: "0-1 Unknown, 1-4 Pass, 4-8 Fail, 8-11 Pass, 11-12 Unknown"},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, s := range overlay(spans, unobserved(tc.gaps, "c", "", h(0), h(12), h(12)), "Unknown") {
				got = append(got, fmt.Sprintf("%d-%d %s", int(s.From.Sub(t0).Hours()), int(s.To.Sub(t0).Hours()), s.State))
			}
			if strings.Join(got, ", ") != tc.want {
				t.Errorf("got %s, want %s", strings.Join(got, ", "), tc.want)
			}
		})
	}
}

// A finding's closing lost in a journal gap is inferred from the next attestation, which no
// longer lists it open: it counted as remediated even when the attestation showed why it went,
// its resource no longer evaluated (deleted during the outage) or the check no longer run,
// neither of which remediates anything. The attestation's populations say which it was.
func TestAClosingLostInAGapIsRemediatedOnlyIfTheResourceIsStillEvaluated(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	for name, tc := range map[string]struct {
		checks      []journal.CheckPopulation
		populations [][]string
		status      string
	}{
		"the resource still evaluated": {checks: []journal.CheckPopulation{{Check: "wl-privileged", Count: 1, Population: 0}},
			populations: [][]string{{"Deployment/api"}}, status: "closed-inferred"},
		"the resource gone": {checks: []journal.CheckPopulation{{Check: "wl-privileged", Count: 1, Population: 0}},
			populations: [][]string{{"Deployment/other"}}, status: "closed-resource-gone"},
		"the check no longer run": {checks: []journal.CheckPopulation{{Check: "wl-seccomp", Count: 1, Population: 0}},
			populations: [][]string{{"Deployment/api"}}, status: "closed-out-of-scope"},
	} {
		t.Run(name, func(t *testing.T) {
			f := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", "api", ""), Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
			lost := journal.Interval{From: h(2), To: h(3), Reason: "records dropped", Dropped: 3}
			recs := []journal.Record{
				{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: &f},
				{Type: journal.JournalGap, Time: h(3), Interval: &lost},
				{Type: journal.Attestation, Time: h(4), Profile: "soc2", Namespace: "team-a", Attestation: &journal.AttestationBody{
					Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}, Checks: tc.checks, Populations: tc.populations}},
			}
			out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, h(6))...)...), t0, h(6))
			devs := readCSV(t, filepath.Join(out, "deviations.csv"))
			if len(devs) != 1 || devs[0]["status"] != tc.status || devs[0]["closed"] != ts(h(4)) || (devs[0]["remediation_hours"] != "") != (tc.status == "closed-inferred") {
				t.Errorf("deviations.csv: %v\nwant it %s at the attestation", devs, tc.status)
			}
		})
	}
}

// A pack of a period not over counted every day still to come as a day without attestation.
func TestDaysNotYetComeAreNotMissingAttestations(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []journal.Record
	for d := range 3 {
		recs = append(recs, journal.Record{Type: journal.Attestation, Time: t0.AddDate(0, 0, d).Add(time.Hour), Profile: "soc2", Namespace: "team-a",
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}})
	}
	now := t0.AddDate(0, 0, 2).Add(12 * time.Hour)
	out := t.TempDir()
	if _, err := Build(context.Background(), journalOf(t, append(recs, heartbeats(t0, now)...)...), Options{From: t0, To: t0.AddDate(0, 0, 30), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	cov := readCSV(t, filepath.Join(out, "coverage.csv"))
	if len(cov) != 1 || cov[0]["days_missing"] != "0" {
		t.Errorf("coverage.csv: %v\nwant no day missing: the days after %s have not come", cov, now)
	}
}

// The operator builds an attestation (stating Pass) and, before it is queued, an evaluation
// journals CC6.1's change to Fail: the journal holds the Fail, then the attestation with an
// earlier time. The pack took the attestation's Pass as the latest state and the Fail vanished
// from criteria.csv. A record older than the state already read says nothing of the present.
func TestAnOlderRecordDoesNotUndoALaterChange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := journal.NewWriter(context.Background(), store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range [][]journal.Record{
		append(heartbeats(t0, h(2)), changed(h(1), "CC6.1", "Pass")),
		{changed(h(2).Add(time.Second), "CC6.1", "Fail")},
		{attested(h(2), journal.CriterionState{Criterion: "CC6.1", State: "Pass"})},
		heartbeats(h(2).Add(10*time.Minute), h(4)),
	} {
		if err := w.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	out := buildPack(t, store, t0, h(4))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(2).Add(time.Second)) + " Pass",
		"CC6.1 " + ts(h(2).Add(time.Second)) + " " + ts(h(4)) + " Fail",
	}
	if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant the Fail kept:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The waiver expired at 05:00 while the operator was down (04:00 to 10:00); the operator that
// came back unexcepted the finding at 10:00, and deviations.csv counted it excepted until then:
// eight hours, five of them after the exception had stopped applying. An exception covers
// nothing after its expiry, whenever the operator noticed: the deviation was excepted for three.
func TestADeviationIsNotExceptedAfterItsExceptionExpired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
	excepted := f
	excepted.Exception = "waiver"
	ex := journal.Exception{Name: "waiver", ApprovedBy: "ciso@example.com", Checks: []string{"wl-privileged"}, Created: h(1.5), Expires: h(5)}
	down := journal.Interval{From: h(4), To: h(10), Reason: "node drained"}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: f.FirstSeen, Profile: "soc2", Namespace: "team-a", Finding: &f},
		{Type: journal.ExceptionRequested, Time: h(1.5), Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionApproved, Time: h(2), Namespace: "team-a", Exception: &ex},
		{Type: journal.FindingExcepted, Time: h(2), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
		{Type: journal.OperatorStopped, Time: h(4)},
		{Type: journal.ObservationGap, Time: h(10), Interval: &down},
		{Type: journal.ExceptionExpired, Time: h(5), Namespace: "team-a", Exception: &ex},
		{Type: journal.FindingUnexcepted, Time: h(10), Profile: "soc2", Namespace: "team-a", Finding: &f},
	}
	recs = append(recs, heartbeats(t0, h(4))...)
	recs = append(recs, heartbeats(h(10), h(12))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(12))
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["excepted_hours"] != "3.00" {
		t.Errorf("deviations.csv: %v\nwant it excepted from 02:00 until the exception expired at 05:00, 3 hours", devs)
	}
}

// TestThePackSaysWhatAnUnobservedIntervalHides: a namespace created and deleted while no
// operator ran leaves nothing in the API server, so nothing in the journal: the pack's coverage
// shows the interval as a gap but said nothing of namespaces it could not know, and an auditor
// read coverage.csv's namespaces as every namespace that existed. The summary says so.
func TestThePackSaysWhatAnUnobservedIntervalHides(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stopped := journal.Interval{From: t0.Add(2 * time.Hour), To: t0.Add(5 * time.Hour), Reason: "upgrade"}
	recs := append(heartbeats(t0, t0.Add(2*time.Hour)),
		journal.Record{Type: journal.OperatorStopped, Time: stopped.From},
		journal.Record{Type: journal.ObservationGap, Time: stopped.To, Interval: &stopped})
	recs = append(recs, heartbeats(stopped.To, t0.Add(24*time.Hour))...)
	out := buildPack(t, journalOf(t, recs...), t0, t0.Add(24*time.Hour))
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "created and deleted within an interval nobody observed appears nowhere in this pack") {
		t.Errorf("index.html does not say that what was created and deleted while nobody observed is not in the pack")
	}
}

package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// onlyException builds the pack of recs, with the operator's heartbeats, over [from, to) and
// returns exceptions.csv's one row (failing the test if there is not exactly one).
func onlyException(t *testing.T, recs []journal.Record, from, to time.Time) map[string]string {
	t.Helper()
	out := buildPack(t, journalOf(t, append(recs, heartbeats(from, to)...)...), from, to)
	rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
	if len(rows) != 1 {
		t.Fatalf("exceptions.csv: %v", rows)
	}
	return rows[0]
}

// buildPack builds the pack of cluster "c" over [from, to) from store into a new directory and
// returns it.
func buildPack(t *testing.T, store journal.Store, from, to time.Time) string {
	t.Helper()
	out := t.TempDir()
	if _, err := Build(context.Background(), store, Options{From: from, To: to, Clusters: []string{"c"}, Dir: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// heartbeats are the records a running operator writes every 10 minutes, so that a test
// journal has no silence.
func heartbeats(from, to time.Time) []journal.Record {
	var recs []journal.Record
	for at := from; at.Before(to); at = at.Add(10 * time.Minute) {
		recs = append(recs, journal.Record{Type: journal.OperatorHeartbeat, Time: at})
	}
	return recs
}

// A profile edited during the period (to exclude a namespace, disable a check, lower a
// severity, widen the exception policy) changes what "held" means from then on: the pack must
// show every version of the profile and when it took effect, not present the last scope as if
// it held all period.
func TestThePackListsEveryProfileVersionOfThePeriod(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	recs := []journal.Record{
		{Type: journal.ProfileCreated, Time: day(0).Add(time.Minute), Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 1, SHA256: strings.Repeat("a", 64)}},
		{Type: journal.ProfileChanged, Time: day(2), Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 2, SHA256: strings.Repeat("b", 64)}},
		{Type: journal.ProfileDeleted, Time: day(3), Profile: "soc2"},
		{Type: journal.ProfileCreated, Time: day(3).Add(time.Hour), Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 1, SHA256: strings.Repeat("c", 64)}},
		{Type: journal.ProfileChanged, Time: day(3).Add(2 * time.Hour), Profile: "other", Spec: &journal.ProfileSpec{Generation: 7, SHA256: strings.Repeat("d", 64)}},
	}
	store := journalOf(t, append(recs, heartbeats(t0, day(4))...)...)
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: t0, To: day(4), Profile: "soc2", Clusters: []string{"c"}, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OK() {
		t.Fatalf("verification: %+v", p.Verification)
	}
	rows := readCSV(t, filepath.Join(out, "profiles.csv"))
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r["cluster"], r["profile"], r["time"], r["change"], r["generation"], r["spec_sha256"]}, " "))
	}
	want := []string{
		"c soc2 " + ts(recs[0].Time) + " created 1 " + strings.Repeat("a", 64),
		"c soc2 " + ts(recs[1].Time) + " changed 2 " + strings.Repeat("b", 64),
		"c soc2 " + ts(recs[2].Time) + " deleted  ",
		"c soc2 " + ts(recs[3].Time) + " created 1 " + strings.Repeat("c", 64),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("profiles.csv:\n%s\nwant (the other profile left out):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "id=\"profiles\"") || !strings.Contains(string(page), ts(recs[1].Time)) {
		t.Errorf("index.html does not show the profile's versions")
	}
}

// A deleted profile judges nothing any more: its namespaces' criteria are not Pass (nor Fail)
// from the deletion on, though no record after it says otherwise. The pack must not stretch the
// last state to the end of the period.
func TestAProfilesCriteriaEndWhenItIsDeleted(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	pass := func(at time.Time, profile string) journal.Record {
		return journal.Record{Type: journal.CriterionChanged, Time: at, Profile: profile, Namespace: "team-a",
			Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Pass"}}
	}
	recs := []journal.Record{
		pass(day(0).Add(time.Hour), "soc2"),
		pass(day(0).Add(time.Hour), "other"),
		{Type: journal.ProfileDeleted, Time: day(1), Profile: "soc2"},
	}
	store := journalOf(t, append(recs, heartbeats(t0, day(3))...)...)
	out := buildPack(t, store, t0, day(3))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["profile"], r["from"], r["to"], r["state"]}, " "))
	}
	want := []string{
		"other " + ts(t0) + " " + ts(day(0).Add(time.Hour)) + " Unknown",
		"other " + ts(day(0).Add(time.Hour)) + " " + ts(day(3)) + " Pass",
		"soc2 " + ts(t0) + " " + ts(day(0).Add(time.Hour)) + " Unknown",
		"soc2 " + ts(day(0).Add(time.Hour)) + " " + ts(day(1)) + " Pass",
		"soc2 " + ts(day(1)) + " " + ts(day(3)) + " Unknown",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv:\n%s\nwant soc2's Pass to end when soc2 was deleted:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An exception deleted before it expired is recorded as revoked with its name only: the pack must
// keep what the earlier records said of it (requester, approver, reason, ticket, checks), which
// is what an auditor samples revoked exceptions for.
func TestARevokedExceptionKeepsItsRequesterAndApprover(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := journal.Exception{Name: "waiver", RequestedBy: "dev@example.com", ApprovedBy: "ciso@example.com", Owner: "team-a@example.com",
		Reason: "vendor image", Ticket: "SEC-1", Checks: []string{"wl-privileged"}, Created: t0, Expires: t0.AddDate(0, 1, 0)}
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionApproved, Time: t0.Add(time.Hour), Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionRevoked, Time: t0.Add(2 * time.Hour), Namespace: "team-a", Exception: &journal.Exception{Name: "waiver"}},
	}
	r := onlyException(t, recs, t0, t0.Add(3*time.Hour))
	if r["state"] != "Revoked" || r["requested_by"] != ex.RequestedBy || r["approved_by"] != ex.ApprovedBy || r["owner"] != ex.Owner ||
		r["reason"] != ex.Reason || r["ticket"] != ex.Ticket || r["checks"] != "wl-privileged" || r["expires"] != ts(ex.Expires) ||
		r["requested"] != ts(t0) || r["approved"] != ts(t0.Add(time.Hour)) || r["ended"] != ts(t0.Add(2*time.Hour)) {
		t.Errorf("exceptions.csv: %v\nwant the revoked exception with what its request and approval said", r)
	}
}

// A ControlException deleted and created again under the same name is another request with its
// own requester, approver and life. The pack must show two exceptions, not one row in which the
// second request inherits the first one's approval or the first one's revocation ends the
// second, and count the findings excepted after the second request against the second.
func TestAnExceptionRecreatedUnderTheSameNameIsAnotherException(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	again := t0.AddDate(0, 3, 0)
	first := journal.Exception{Name: "waiver", RequestedBy: "dev@example.com", ApprovedBy: "ciso@example.com", Reason: "vendor image",
		Checks: []string{"wl-privileged"}, Created: t0, Expires: t0.AddDate(0, 6, 0)}
	second := journal.Exception{Name: "waiver", RequestedBy: "dev2@example.com", ApprovedBy: "lead@example.com", Reason: "everything",
		Checks: []string{"wl-privileged", "wl-host-namespaces"}, Created: again, Expires: again.AddDate(0, 6, 0)}
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: again.Add(time.Minute)}
	excepted := f
	excepted.Exception = "waiver"
	firstReq := first
	firstReq.ApprovedBy = ""
	secondReq := second
	secondReq.ApprovedBy = ""
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &firstReq},
		{Type: journal.ExceptionApproved, Time: t0.Add(time.Hour), Namespace: "team-a", Exception: &first},
		// Deleted, and created again: the operator records both at the new creation time.
		{Type: journal.ExceptionRevoked, Time: again, Namespace: "team-a", Exception: &journal.Exception{Name: "waiver", Created: t0}},
		{Type: journal.ExceptionRequested, Time: again, Namespace: "team-a", Exception: &secondReq},
		{Type: journal.ExceptionApproved, Time: again.Add(time.Minute), Namespace: "team-a", Exception: &second},
		{Type: journal.FindingOpened, Time: again.Add(time.Minute), Profile: "p", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingExcepted, Time: again.Add(2 * time.Minute), Profile: "p", Namespace: "team-a", Finding: &excepted},
	}
	end := again.AddDate(0, 0, 1)
	store := journalOf(t, recs...)
	out := buildPack(t, store, t0, end)
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "exceptions.csv")) {
		got = append(got, strings.Join([]string{r["name"], r["state"], r["requested_by"], r["approved_by"], r["reason"], r["checks"], r["requested"], r["approved"], r["ended"], r["findings_covered"]}, " "))
	}
	want := []string{
		"waiver Revoked dev@example.com ciso@example.com vendor image wl-privileged " + ts(t0) + " " + ts(t0.Add(time.Hour)) + " " + ts(again) + " 0",
		"waiver Approved dev2@example.com lead@example.com everything wl-privileged;wl-host-namespaces " + ts(again) + " " + ts(again.Add(time.Minute)) + "  1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("exceptions.csv:\n%s\nwant two exceptions:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Around a leader-election handover two replicas may both see a finding go away and each write
// its closing, a few seconds apart (the record IDs differ with the time, so the journal keeps
// both). That is one deviation, not two: the pack must not count a second one, opened when the
// first was and closed again.
func TestAFindingClosedTwiceAroundAFailoverIsOneDeviation(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: t0.Add(time.Hour)}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: t0.Add(time.Hour), Profile: "p", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingClosed, Time: t0.Add(2 * time.Hour), Profile: "p", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingClosed, Time: t0.Add(2*time.Hour + 3*time.Second), Profile: "p", Namespace: "team-a", Finding: &f},
	}
	store := journalOf(t, append(recs, heartbeats(t0, t0.Add(3*time.Hour))...)...)
	out := buildPack(t, store, t0, t0.Add(3*time.Hour))
	rows := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(rows) != 1 || rows[0]["opened"] != ts(t0.Add(time.Hour)) || rows[0]["closed"] != ts(t0.Add(2*time.Hour)) {
		t.Errorf("deviations.csv: %v\nwant one deviation, opened at 01:00 and closed at 02:00", rows)
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(page), "<b>1</b><span class=\"muted\">deviations remediated</span>") {
		t.Errorf("index.html does not count one deviation closed")
	}
}

// An exception that expired, was changed (which removes its approval) and was approved again is
// in force again under its new approval: the pack's row shows the new approver and spec and no
// end, not the old expiry.
func TestAnExceptionApprovedAgainAfterItExpiredIsInForce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := journal.Exception{Name: "waiver", RequestedBy: "dev@example.com", ApprovedBy: "ciso@example.com", Checks: []string{"wl-privileged"},
		Created: t0, Expires: t0.AddDate(0, 0, 10), Generation: 2}
	second := first
	second.ApprovedBy, second.Checks, second.Expires, second.Generation = "lead@example.com", []string{"wl-privileged", "wl-host-namespaces"}, t0.AddDate(0, 2, 0), 4
	requested := first
	requested.ApprovedBy, requested.Generation = "", 1
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &requested},
		{Type: journal.ExceptionApproved, Time: t0.Add(time.Hour), Namespace: "team-a", Exception: &first},
		{Type: journal.ExceptionExpired, Time: t0.AddDate(0, 0, 10), Namespace: "team-a", Exception: &first},
		{Type: journal.ExceptionApproved, Time: t0.AddDate(0, 0, 20), Namespace: "team-a", Exception: &second},
	}
	store := journalOf(t, recs...)
	out := buildPack(t, store, t0, t0.AddDate(0, 1, 0))
	rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
	if len(rows) != 1 || rows[0]["state"] != "Approved" || rows[0]["approved_by"] != "lead@example.com" || rows[0]["approved"] != ts(t0.AddDate(0, 0, 20)) ||
		rows[0]["checks"] != "wl-privileged;wl-host-namespaces" || rows[0]["ended"] != "" || rows[0]["expires"] != ts(second.Expires) {
		t.Errorf("exceptions.csv: %v\nwant the exception approved again by lead@example.com, in force", rows)
	}
}

// A profile change is dated when the operator saw it, so two leaders around a failover may each
// journal it, at different times: the pack shows one version, the first.
func TestAProfileChangeJournaledByTwoLeadersIsOneVersion(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spec := func(gen int64, c string) *journal.ProfileSpec {
		return &journal.ProfileSpec{Generation: gen, SHA256: strings.Repeat(c, 64)}
	}
	recs := []journal.Record{
		{Type: journal.ProfileCreated, Time: t0.Add(time.Minute), Profile: "soc2", Spec: spec(1, "a")},
		{Type: journal.ProfileChanged, Time: t0.Add(time.Hour), Profile: "soc2", Spec: spec(2, "b")},
		{Type: journal.ProfileChanged, Time: t0.Add(time.Hour + 3*time.Second), Profile: "soc2", Spec: spec(2, "b")},
	}
	store := journalOf(t, append(recs, heartbeats(t0, t0.Add(2*time.Hour))...)...)
	out := buildPack(t, store, t0, t0.Add(2*time.Hour))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "profiles.csv")) {
		got = append(got, r["time"]+" "+r["change"]+" "+r["generation"])
	}
	want := []string{ts(recs[0].Time) + " created 1", ts(recs[1].Time) + " changed 2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("profiles.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A finding closed because its namespace left the profile's scope, or because its resource went
// (deleted, or no longer evaluated), was not remediated: the pack says why it closed, and leaves
// it out of the time to remediate. A finding back after such a closing is the same deviation
// for the time to remediate: relabelling a namespace for a minute does not split a long
// deviation into short ones.
func TestAFindingThatLeftScopeWasNotRemediated(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	finding := func(key string, first time.Time, reason string) *journal.Finding {
		return &journal.Finding{Key: key, Check: "wl-privileged", Kind: "Deployment", Name: key, FirstSeen: first, CloseReason: reason}
	}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: h(0), Profile: "p", Namespace: "team-a", Finding: finding("api", h(0), "")},
		{Type: journal.FindingClosed, Time: h(10), Profile: "p", Namespace: "team-a", Finding: finding("api", h(0), journal.CloseOutOfScope)},
		{Type: journal.FindingOpened, Time: h(11), Profile: "p", Namespace: "team-a", Finding: finding("api", h(11), "")},
		{Type: journal.FindingClosed, Time: h(12), Profile: "p", Namespace: "team-a", Finding: finding("api", h(11), journal.CloseResolved)},
		{Type: journal.FindingOpened, Time: h(0), Profile: "p", Namespace: "team-a", Finding: finding("web", h(0), "")},
		{Type: journal.FindingClosed, Time: h(1), Profile: "p", Namespace: "team-a", Finding: finding("web", h(0), journal.CloseResourceGone)},
	}
	store := journalOf(t, append(recs, heartbeats(t0, h(24))...)...)
	out := buildPack(t, store, t0, h(24))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["name"], r["opened"], r["closed"], r["status"], r["first_opened"], r["remediation_hours"]}, " "))
	}
	want := []string{
		"api " + ts(h(0)) + " " + ts(h(10)) + " closed-out-of-scope " + ts(h(0)) + " ",
		"web " + ts(h(0)) + " " + ts(h(1)) + " closed-resource-gone " + ts(h(0)) + " ",
		"api " + ts(h(11)) + " " + ts(h(12)) + " closed " + ts(h(0)) + " 12.00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	for _, card := range []string{"<b>1</b><span class=\"muted\">deviations remediated</span>", "<b>12.0h</b><span class=\"muted\">median time to remediate</span>"} {
		if !strings.Contains(string(page), card) {
			t.Errorf("index.html lacks %s", card)
		}
	}
}

// An exception widened without an approval (its profile requires none): more checks, every
// resource name, a later expiry. The pack's row shows what it covers now and when its spec
// changed, not the request's scope as if it held all period; a change journaled twice (two
// leaders) is one change.
func TestAnExceptionChangedWithoutApprovalShowsItsChanges(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := journal.Exception{Name: "waiver", RequestedBy: "dev@example.com", Owner: "team-a@example.com", Reason: "vendor image",
		Checks: []string{"wl-privileged"}, Match: &journal.ExceptionMatch{Names: []string{"api"}}, Created: t0, Expires: t0.AddDate(0, 0, 7), SpecSHA256: strings.Repeat("a", 64)}
	wide := ex
	wide.Checks, wide.Match, wide.Expires, wide.SpecSHA256 = []string{"wl-privileged", "wl-host-namespaces"}, &journal.ExceptionMatch{Names: []string{"*"}}, t0.AddDate(1, 0, 0), strings.Repeat("b", 64)
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionChanged, Time: t0.Add(time.Hour), Namespace: "team-a", Exception: &wide},
		{Type: journal.ExceptionChanged, Time: t0.Add(time.Hour + 2*time.Second), Namespace: "team-a", Exception: &wide},
	}
	r := onlyException(t, recs, t0, t0.Add(3*time.Hour))
	if r["checks"] != "wl-privileged;wl-host-namespaces" || r["resources"] != "names=*" || r["expires"] != ts(wide.Expires) ||
		r["spec_changed"] != ts(t0.Add(time.Hour)) || r["spec_sha256"] != wide.SpecSHA256 {
		t.Errorf("exceptions.csv: %v\nwant the widened exception, changed once at %s", r, ts(t0.Add(time.Hour)))
	}
}

// An exception narrowed to containers says so in exceptions.csv: without them its row read as
// waiving every container of the resources it names.
func TestAnExceptionsContainersAreInItsRow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := journal.Exception{Name: "sidecar", RequestedBy: "dev@example.com", Owner: "team-a@example.com", Reason: "mesh sidecar",
		Checks: []string{"wl-privileged"}, Match: &journal.ExceptionMatch{Names: []string{"api"}, Containers: []string{"istio-*"}},
		Created: t0, Expires: t0.AddDate(0, 0, 7), SpecSHA256: strings.Repeat("a", 64)}
	r := onlyException(t, []journal.Record{{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &ex}}, t0, t0.Add(3*time.Hour))
	if r["resources"] != "names=api containers=istio-*" {
		t.Errorf("resources %q, want %q", r["resources"], "names=api containers=istio-*")
	}
}

// An operator that restarted without knowing a profile's version journaled it as changed again
// with the same spec; the version the attestations stated before is the one in force, so the
// pack lists no change.
func TestAProfileJournaledAgainWithTheSpecAttestedIsNoChange(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	spec := &journal.ProfileSpec{Generation: 3, SHA256: strings.Repeat("ab", 32)}
	recs := []journal.Record{
		{Type: journal.ProfileAttested, Time: t0.Add(time.Hour), Profile: "soc2", Spec: spec},
		{Type: journal.ProfileChanged, Time: t0.Add(5 * time.Hour), Profile: "soc2", Spec: spec},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, t0.Add(6*time.Hour))...)...), t0, t0.Add(6*time.Hour))
	if rows := readCSV(t, filepath.Join(out, "profiles.csv")); len(rows) != 0 {
		t.Errorf("profiles.csv: %v; want no version: the spec is the one attested", rows)
	}
}

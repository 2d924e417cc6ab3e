package evidence

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// platformWide is a journal in which an exception of the operator's namespace (ops) covers
// findings in many namespaces (its records say 40 at once) and one finding of team-a, excepted
// in the period; team-a's attestation states it in force there (inForce: with the namespace it
// is of, as the operator journals it).
func platformWide(t *testing.T, inForce ...journal.Exception) (journal.Store, time.Time, func(float64) time.Time) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := &journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
	excepted := *f
	excepted.Exception = "ops/platform-wide"
	ex := journal.Exception{Name: "platform-wide", ApprovedBy: "ciso@example.com", Created: t0, Findings: 40, Match: &journal.ExceptionMatch{Namespaces: []string{"*"}}}
	recs := []journal.Record{
		{Type: journal.ExceptionApproved, Time: h(0.5), Namespace: "ops", Exception: &ex},
		{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: f},
		{Type: journal.FindingExcepted, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: &excepted},
		{Type: journal.Attestation, Time: h(2), Profile: "soc2", Namespace: "team-a", Attestation: &journal.AttestationBody{
			Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}, Open: []journal.Finding{excepted}, Exceptions: inForce}},
	}
	return journalOf(t, append(recs, heartbeats(t0, h(4))...)...), t0, h
}

// Under --namespace team-a, the exceptions.csv row of an exception of the operator's namespace
// said findings_covered 40: the count of every namespace its records state, while the pack is of
// team-a, where it covered one finding. An auditor sampling team-a took the waiver as covering 40
// of team-a's findings. The namespace's pack counts what the exception covered in it.
func TestAPackForOneNamespaceCountsTheFindingsAnOperatorExceptionCoversThere(t *testing.T) {
	store, t0, h := platformWide(t)
	for ns, want := range map[string]string{"team-a": "1", "": "40"} {
		out := t.TempDir()
		if _, err := Build(context.Background(), store, Options{From: t0, To: h(4), Clusters: []string{"c"}, Dir: out, Namespace: ns, Now: func() time.Time { return h(4) }}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
		if len(rows) != 1 || rows[0]["namespace"] != "ops" || rows[0]["findings_covered"] != want {
			t.Errorf("pack of namespace %q: exceptions %v, want ops/platform-wide covering %s", ns, rows, want)
		}
	}
}

// An attestation lists the exceptions in force in its namespace by name: one of the operator's
// namespace was read as the attested namespace's own, a row team-a/platform-wide beside
// ops/platform-wide, approved by the CISO, in force, and in a pack of every namespace one such row
// per namespace it covers, none of which exists. The operator names the namespace of an exception
// of another namespace (journal.Exception.Namespace), and the pack reads it as that exception,
// counting for the namespace what the attestation states it covers there.
func TestAnOperatorExceptionInForceInANamespaceIsNotTheNamespacesOwn(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store, _, h := platformWide(t, journal.Exception{Name: "platform-wide", Namespace: "ops", ApprovedBy: "ciso@example.com", Created: t0, Findings: 3})
	for ns, want := range map[string]string{"team-a": "3", "": "40"} {
		out := t.TempDir()
		if _, err := Build(context.Background(), store, Options{From: t0, To: h(4), Clusters: []string{"c"}, Dir: out, Namespace: ns, Now: func() time.Time { return h(4) }}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
		if len(rows) != 1 || rows[0]["namespace"] != "ops" || rows[0]["findings_covered"] != want || rows[0]["state"] != "Approved" {
			t.Errorf("pack of namespace %q: exceptions %v, want ops/platform-wide only, Approved, covering %s", ns, rows, want)
		}
	}
}

// Only exceptions of the operator's namespace may select other namespaces; a tenant's exception
// whose spec names another namespace applies to none (the operator judges it Invalid) but is
// journaled with its spec. The pack of team-a listed team-b's exception naming team-a, with
// whatever reason team-b wrote ("waived for team-a by the CISO"): one tenant wrote rows into
// another's evidence. An exception of another namespace is in a namespace's pack when the journal
// shows it covering the namespace's findings or in force there, or when it names the namespace
// and its own namespace is one whose exceptions the journal shows applying elsewhere.
func TestATenantsExceptionNamingAnotherNamespaceIsNotInThatNamespacesPack(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: h(0.5), Namespace: "team-b", Exception: &journal.Exception{Name: "for-team-a", Created: h(0.5),
			Reason: "waived for team-a by the CISO", Match: &journal.ExceptionMatch{Namespaces: []string{"team-a"}}}},
		{Type: journal.ExceptionApproved, Time: h(0.5), Namespace: "ops", Exception: &journal.Exception{Name: "platform", Created: t0, ApprovedBy: "ciso@example.com",
			Match: &journal.ExceptionMatch{Namespaces: []string{"team-a"}}}},
		{Type: journal.ExceptionApproved, Time: h(0.5), Namespace: "ops", Exception: &journal.Exception{Name: "elsewhere", Created: t0, ApprovedBy: "ciso@example.com",
			Match: &journal.ExceptionMatch{Namespaces: []string{"team-a", "team-c"}}}},
		{Type: journal.Attestation, Time: h(2), Profile: "soc2", Namespace: "team-a", Attestation: &journal.AttestationBody{
			Criteria:   []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}},
			Exceptions: []journal.Exception{{Name: "platform", Namespace: "ops", Created: t0, ApprovedBy: "ciso@example.com"}}}},
	}
	store := journalOf(t, append(recs, heartbeats(t0, h(4))...)...)
	out := t.TempDir()
	if _, err := Build(context.Background(), store, Options{From: t0, To: h(4), Clusters: []string{"c"}, Dir: out, Namespace: "team-a", Now: func() time.Time { return h(4) }}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "exceptions.csv")) {
		got = append(got, r["namespace"]+"/"+r["name"])
	}
	if want := []string{"ops/elsewhere", "ops/platform"}; !slices.Equal(got, want) {
		t.Errorf("team-a's pack lists exceptions %q, want %q (the operator's namespace's, not team-b's)", got, want)
	}
}

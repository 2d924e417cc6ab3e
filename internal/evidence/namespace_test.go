package evidence

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An auditor asking about one namespace read the whole cluster's pack: every tenant's deviations,
// criteria, coverage and gaps. Options.Namespace (--namespace) keeps that namespace's rows, the
// exceptions that cover them (one in the operator's namespace too) and the gaps that concern it
// (of every namespace, or naming it), while the chain is still verified whole: the pack says it
// was built for the namespace, and every segment of the period is read and checked.
func TestAPackForOneNamespaceKeepsItsRowsAndVerifiesTheWholeChain(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	finding := func(ns, name string) *journal.Finding {
		return &journal.Finding{Key: "wl-privileged|Deployment|" + name + "|", Check: "wl-privileged", Kind: "Deployment", Name: name, FirstSeen: h(1)}
	}
	excepted := finding("team-a", "api")
	excepted.Exception = "ops/platform-wide"
	attest := func(ns string) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: h(2), Profile: "soc2", Namespace: ns,
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Fail"}},
				Checks: []journal.CheckPopulation{{Check: "wl-privileged", Count: 1, Failed: 1}}}}
	}
	recs := []journal.Record{
		{Type: journal.ProfileAttested, Time: h(0.5), Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 1, SHA256: strings.Repeat("a", 64)},
			Selection: &journal.Selection{Namespaces: []string{"team-a", "team-b", "team-c"}}},
		{Type: journal.ExceptionApproved, Time: h(0.5), Namespace: "ops", Exception: &journal.Exception{Name: "platform-wide", ApprovedBy: "ciso@example.com"}},
		{Type: journal.ExceptionApproved, Time: h(0.5), Namespace: "team-b", Exception: &journal.Exception{Name: "own", ApprovedBy: "lead@example.com"}},
		{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: finding("team-a", "api")},
		{Type: journal.FindingExcepted, Time: h(1.5), Profile: "soc2", Namespace: "team-a", Finding: excepted},
		{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-b", Finding: finding("team-b", "web")},
		{Type: journal.CriterionChanged, Time: h(1), Profile: "soc2", Namespace: "team-a", Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Fail"}},
		{Type: journal.CriterionChanged, Time: h(1), Profile: "soc2", Namespace: "team-b", Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Fail"}},
		attest("team-a"), attest("team-b"),
		{Type: journal.JournalGap, Time: h(4), Interval: &journal.Interval{From: h(3), To: h(4), Reason: "records dropped", Dropped: 9,
			DroppedBy: []journal.NamespaceRecords{{Namespace: "team-b", Records: 9}}}},
		{Type: journal.JournalGap, Time: h(6), Interval: &journal.Interval{From: h(5), To: h(6), Reason: "records dropped", Dropped: 1,
			DroppedBy: []journal.NamespaceRecords{{Namespace: "team-a", Records: 1}}}},
	}
	recs = append(recs, heartbeats(t0, h(10))...)
	store := journalOf(t, recs...)
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: t0, To: h(10), Clusters: []string{"c"}, Dir: out, Namespace: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OK() || len(p.Verification) != 1 || p.Verification[0].Records != len(recs) {
		t.Errorf("verification of the whole chain: %+v, want every one of the %d records read and verified", p.Verification, len(recs))
	}
	namespaces := func(file, column string) []string {
		var got []string
		for _, r := range readCSV(t, filepath.Join(out, file)) {
			got = append(got, r[column])
		}
		return got
	}
	for file, want := range map[string]string{
		"deviations.csv": "team-a",
		"criteria.csv":   "team-a",
		"coverage.csv":   "team-a",
		"population.csv": "team-a",
		"exceptions.csv": "ops",
		"gaps.csv":       "team-a",
	} {
		column := "namespace"
		if file == "gaps.csv" {
			column = "namespaces"
		}
		got := namespaces(file, column)
		if len(got) == 0 || slices.ContainsFunc(got, func(ns string) bool { return ns != want }) {
			t.Errorf("%s: rows of namespaces %q, want rows of %s only", file, got, want)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("Namespace: team-a")) {
		t.Error("index.html does not say the pack is of namespace team-a")
	}
}

// --namespace takes a namespace's name; anything else is a usage error naming the flag.
func TestThePacksNamespaceFlagMustNameANamespace(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run([]string{"pack", "--store", t.TempDir(), "--unsigned", "--from", "2026-01-01", "--to", "2026-01-02", "--namespace", "Team_A", "-o", t.TempDir()}, &stdout, &stderr)
	if code != ExitUsage || !strings.Contains(stderr.String(), "--namespace") {
		t.Errorf("exit %d, stderr %q; want %d and an error naming --namespace", code, stderr.String(), ExitUsage)
	}
}

package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A journal.gap that names the namespaces whose records were dropped (interval.droppedBy) leaves
// the others' criteria as the journal states them: one tenant's flood made every namespace's
// criteria Unknown from the gap to the next record stating them (for a quiet namespace, the next
// daily attestation), casting doubt on every tenant's evidence. The tenant's own criteria are
// Unknown over the gap and until a record states them again, as before; gaps.csv names the
// namespaces. A gap that drops records of no namespace (the operator's, the profiles') still
// concerns every namespace.
func TestAJournalGapOfOneNamespaceLeavesTheOthersKnown(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	pass := func(at time.Time, ns string) journal.Record {
		return journal.Record{Type: journal.CriterionChanged, Time: at, Profile: "soc2", Namespace: ns, Criterion: &journal.CriterionChange{Criterion: "CC6.1", To: "Pass"}}
	}
	attest := func(at time.Time, ns string) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: ns,
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}}}}
	}
	for name, tc := range map[string]struct {
		by   []journal.NamespaceRecords
		want map[string][]string // namespace -> criteria rows
		ns   string
	}{
		"records of the tenant only": {
			by: []journal.NamespaceRecords{{Namespace: "tenant", Records: 40}},
			want: map[string][]string{
				"team-a": {"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown", "CC6.1 " + ts(h(1)) + " " + ts(h(30)) + " Pass"},
				"tenant": {"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown", "CC6.1 " + ts(h(1)) + " " + ts(h(2)) + " Pass",
					"CC6.1 " + ts(h(2)) + " " + ts(h(24)) + " Unknown", "CC6.1 " + ts(h(24)) + " " + ts(h(30)) + " Pass"},
			},
			ns: "tenant",
		},
		"records of no namespace among them": {
			by: []journal.NamespaceRecords{{Namespace: "", Records: 1}, {Namespace: "tenant", Records: 39}},
			want: map[string][]string{
				"team-a": {"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown", "CC6.1 " + ts(h(1)) + " " + ts(h(2)) + " Pass",
					"CC6.1 " + ts(h(2)) + " " + ts(h(24)) + " Unknown", "CC6.1 " + ts(h(24)) + " " + ts(h(30)) + " Pass"},
				"tenant": {"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown", "CC6.1 " + ts(h(1)) + " " + ts(h(2)) + " Pass",
					"CC6.1 " + ts(h(2)) + " " + ts(h(24)) + " Unknown", "CC6.1 " + ts(h(24)) + " " + ts(h(30)) + " Pass"},
			},
			ns: "*",
		},
	} {
		t.Run(name, func(t *testing.T) {
			lost := journal.Interval{From: h(2), To: h(3), Reason: "records dropped", Dropped: 40, DroppedBy: tc.by}
			recs := []journal.Record{pass(h(1), "team-a"), pass(h(1), "tenant"),
				{Type: journal.JournalGap, Time: h(3), Interval: &lost},
				attest(h(24), "team-a"), attest(h(24), "tenant")}
			recs = append(recs, heartbeats(t0, h(30))...)
			out := buildPack(t, journalOf(t, recs...), t0, h(30))
			got := map[string][]string{}
			for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
				got[r["namespace"]] = append(got[r["namespace"]], strings.Join([]string{r["criterion"], r["from"], r["to"], r["state"]}, " "))
			}
			for ns, want := range tc.want {
				if strings.Join(got[ns], "\n") != strings.Join(want, "\n") {
					t.Errorf("criteria.csv of %s:\n%s\nwant:\n%s", ns, strings.Join(got[ns], "\n"), strings.Join(want, "\n"))
				}
			}
			gaps := readCSV(t, filepath.Join(out, "gaps.csv"))
			if len(gaps) != 1 || gaps[0]["type"] != string(journal.JournalGap) || gaps[0]["namespaces"] != tc.ns {
				t.Errorf("gaps.csv: %v, want one journal.gap of namespaces %q", gaps, tc.ns)
			}
		})
	}
}

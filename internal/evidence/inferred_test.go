package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A finding's closing lost in a journal gap is inferred from the next attestation. A closing the
// operator journals itself after a profile edit or an operator upgrade is reassessed (the change
// may alone have closed it), but an inferred one counted as remediated though the attestation
// that showed it gone was judged under another profile generation, or by another catalogue,
// than the last record that showed it open: an upgrade during an outage read as a fix.
func TestAClosingInferredAcrossAProfileOrCatalogueChangeWasNotRemediated(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	spec := func(gen int64) *journal.ProfileSpec {
		return &journal.ProfileSpec{Generation: gen, SHA256: strings.Repeat(string(rune('a'+gen)), 64)}
	}
	op := func(catalogue string) *journal.Operator {
		return &journal.Operator{Identity: "pod-" + catalogue, Version: "v-" + catalogue, Catalogue: catalogue}
	}
	for name, tc := range map[string]struct {
		// laterSpec and laterCatalogue are what the attestation after the gap was judged under.
		laterSpec      int64
		laterCatalogue string
		// notAssessed is how many of the check's results the attestation after the gap counts
		// NotAssessed.
		notAssessed int
		status, why string
	}{
		"nothing changed": {laterSpec: 1, laterCatalogue: "2026.06.01", status: "closed-inferred"},
		"the catalogue changed": {laterSpec: 1, laterCatalogue: "2026.09.01", status: "closed-reassessed",
			why: "catalogue 2026.06.01 -> 2026.09.01"},
		"the profile changed": {laterSpec: 2, laterCatalogue: "2026.06.01", status: "closed-reassessed",
			why: "profile generation 1 -> 2 (spec bbbbbbbb -> cccccccc)"},
		// A namespace admin pushed the Deployment past what the operator reads: the check could
		// not decide it, and nothing says the failure ended.
		"the check left the resource NotAssessed": {laterSpec: 1, laterCatalogue: "2026.06.01", notAssessed: 1, status: "closed-not-assessed"},
	} {
		t.Run(name, func(t *testing.T) {
			f := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", "api", ""), Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
			lost := journal.Interval{From: h(2), To: h(3), Reason: "records dropped", Dropped: 3}
			population := &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Pass"}},
				Checks: []journal.CheckPopulation{{Check: "wl-privileged", Count: 1, Population: 0, NotAssessed: tc.notAssessed}}, Populations: [][]string{{"Deployment/api"}}}
			open := *population
			open.Checks = []journal.CheckPopulation{{Check: "wl-privileged", Count: 1, Population: 0, Failed: 1}}
			open.Criteria = []journal.CriterionState{{Criterion: "CC6.1", State: "Fail"}}
			open.Open = []journal.Finding{f}
			var recs []journal.Record
			for _, hb := range heartbeats(t0, h(2.5)) {
				hb.Operator = op("2026.06.01")
				recs = append(recs, hb)
			}
			recs = append(recs,
				journal.Record{Type: journal.ProfileCreated, Time: h(0.5), Profile: "soc2", Spec: spec(1)},
				journal.Record{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: &f},
				journal.Record{Type: journal.Attestation, Time: h(1.5), Profile: "soc2", Namespace: "team-a", Spec: spec(1), Attestation: &open},
				journal.Record{Type: journal.OperatorStarted, Time: h(2.5), Operator: op(tc.laterCatalogue)},
				journal.Record{Type: journal.JournalGap, Time: h(3), Interval: &lost},
				journal.Record{Type: journal.Attestation, Time: h(4), Profile: "soc2", Namespace: "team-a", Spec: spec(tc.laterSpec), Attestation: population},
			)
			for _, hb := range heartbeats(h(2.5), h(6)) {
				hb.Operator = op(tc.laterCatalogue)
				recs = append(recs, hb)
			}
			if tc.laterSpec != 1 {
				recs = append(recs, journal.Record{Type: journal.ProfileChanged, Time: h(2), Profile: "soc2", Spec: spec(tc.laterSpec)})
			}
			out := buildPack(t, journalOf(t, sortedRecords(recs)...), t0, h(6))
			devs := readCSV(t, filepath.Join(out, "deviations.csv"))
			if len(devs) != 1 {
				t.Fatalf("deviations.csv: %v, want one deviation", devs)
			}
			d := devs[0]
			if d["status"] != tc.status || d["closed"] != ts(h(4)) || d["reassessed"] != tc.why || (d["remediation_hours"] != "") != (tc.status == "closed-inferred") {
				t.Errorf("deviations.csv: status %q closed %s reassessed %q remediation_hours %q\nwant %s at %s, reassessed %q, remediation counted only if closed-inferred",
					d["status"], d["closed"], d["reassessed"], d["remediation_hours"], tc.status, ts(h(4)), tc.why)
			}
		})
	}
}

// sortedRecords orders records by time (stable), as the journal holds them.
func sortedRecords(recs []journal.Record) []journal.Record {
	out := append([]journal.Record(nil), recs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Time.Before(out[j-1].Time); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

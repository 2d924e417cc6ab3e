package evidence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A finding an upgraded catalogue (or an edited profile) no longer reports was not remediated,
// and deviations.csv says what changed: the catalogue versions, or the profile's generation. It
// is out of the time to remediate, and a finding back after it is the same deviation.
func TestAFindingReassessedAwayWasNotRemediatedAndThePackSaysWhy(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	finding := func(first time.Time, reason, reassessed string) *journal.Finding {
		return &journal.Finding{Key: "api", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: first, CloseReason: reason, Reassessed: reassessed}
	}
	const why = "catalogue 2026.06.01 -> 2026.09.01"
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: h(0), Profile: "p", Namespace: "team-a", Finding: finding(h(0), "", "")},
		{Type: journal.FindingClosed, Time: h(10), Profile: "p", Namespace: "team-a", Finding: finding(h(0), journal.CloseReassessed, why)},
		{Type: journal.FindingOpened, Time: h(11), Profile: "p", Namespace: "team-a", Finding: finding(h(11), "", "")},
		{Type: journal.FindingClosed, Time: h(12), Profile: "p", Namespace: "team-a", Finding: finding(h(11), journal.CloseResolved, "")},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, h(24))...)...), t0, h(24))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["opened"], r["closed"], r["status"], r["first_opened"], r["remediation_hours"], r["reassessed"]}, " "))
	}
	want := []string{
		ts(h(0)) + " " + ts(h(10)) + " closed-reassessed " + ts(h(0)) + "  " + why,
		ts(h(11)) + " " + ts(h(12)) + " closed " + ts(h(0)) + " 12.00 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv (opened closed status first_opened remediation_hours reassessed):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if card := "<b>1</b><span class=\"muted\">deviations remediated</span>"; !strings.Contains(string(page), card) {
		t.Errorf("index.html lacks %s", card)
	}
}

// An admin widened the profile at 10:00 and CC6.8 in team-a went from Fail to Pass with nothing
// changed in the namespace. criteria.csv showed Fail, then Pass, and nothing in the row said the
// Pass was judged under another version of the profile (profiles.csv lists the edit, but not
// which states rest on which version). Each state now says the profile generation that stated
// it, and a state stated again under another generation is another interval, as one stated
// again by another catalogue is.
func TestEachStateSaysWhichProfileGenerationStatedIt(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	under := func(r journal.Record, generation int64) journal.Record {
		r.Spec = &journal.ProfileSpec{Generation: generation, SHA256: strings.Repeat(string(rune('a'+generation)), 64)}
		return r
	}
	recs := []journal.Record{
		under(changed(h(1), "CC6.8", "Fail"), 1),
		{Type: journal.ProfileChanged, Time: h(10), Profile: "soc2", Spec: &journal.ProfileSpec{Generation: 2, SHA256: strings.Repeat("c", 64)}},
		under(changed(h(10), "CC6.8", "Pass"), 2),
		under(attested(h(12), journal.CriterionState{Criterion: "CC6.8", State: "Pass"}), 2),
		changed(h(14), "CC6.8", "Fail"), // a journal written before states said
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, h(24))...)...), t0, h(24))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "criteria.csv")) {
		got = append(got, strings.Join([]string{r["from"], r["to"], r["state"], r["profile_generation"]}, " "))
	}
	want := []string{
		ts(t0) + " " + ts(h(1)) + " Unknown ",
		ts(h(1)) + " " + ts(h(10)) + " Fail 1",
		ts(h(10)) + " " + ts(h(14)) + " Pass 2",
		ts(h(14)) + " " + ts(h(24)) + " Fail ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("criteria.csv (from to state profile_generation):\n%s\nwant each state with the profile generation that stated it:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

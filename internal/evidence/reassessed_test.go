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

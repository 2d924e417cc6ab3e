package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An operator before 7a0bc3ef journaled a finding failing again after a closing whose report it
// never wrote (it stopped in between) with the closed episode's first-seen time: its opening
// record was the first one's again (dropped as a duplicate), and every later attestation listed
// the finding open with that first-seen time. The pack read them as copies of an episode it saw
// close and showed the deviation closed, remediated, while the finding failed for the rest of
// the period. An attestation later than the closing that lists the finding open shows it open
// again: it reopened (here within the hour, the same row), whatever first-seen time it carries.
func TestAFindingListedOpenAfterItsEpisodeClosedIsOpen(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(1)}
	closed := f
	closed.CloseReason = journal.CloseResolved
	open := func(at time.Time) journal.Record {
		return journal.Record{Type: journal.Attestation, Time: at, Profile: "soc2", Namespace: "team-a",
			Attestation: &journal.AttestationBody{Criteria: []journal.CriterionState{{Criterion: "CC6.1", State: "Fail"}}, Open: []journal.Finding{f}}}
	}
	recs := []journal.Record{
		{Type: journal.FindingOpened, Time: h(1), Profile: "soc2", Namespace: "team-a", Finding: &f},
		{Type: journal.FindingClosed, Time: h(2), Profile: "soc2", Namespace: "team-a", Finding: &closed},
		{Type: journal.OperatorStopped, Time: h(2)},
		{Type: journal.ObservationGap, Time: h(2.5), Interval: &journal.Interval{From: h(2), To: h(2.5), Reason: "no operator was observing"}},
		{Type: journal.OperatorStarted, Time: h(2.5)},
		open(h(2.6)), open(h(20)),
	}
	recs = append(recs, heartbeats(t0, h(2))...)
	recs = append(recs, heartbeats(h(2.5).Add(time.Minute), h(24))...)
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["opened"], r["closed"], r["status"], r["reopened"]}, " "))
	}
	if want := ts(h(1)) + "  open 1"; strings.Join(got, "\n") != want {
		t.Errorf("deviations.csv (opened closed status reopened):\n%s\nwant the finding open again after its closing:\n%s", strings.Join(got, "\n"), want)
	}

	// An attestation built while the evaluation that closed it ran (dated after the closing,
	// which is dated when the evaluation began) still lists it: no reopening.
	recs = append([]journal.Record{recs[0], recs[1], open(h(2).Add(time.Second))}, heartbeats(t0, h(24))...)
	out = buildPack(t, journalOf(t, recs...), t0, h(24))
	got = nil
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["opened"], r["closed"], r["status"], r["reopened"]}, " "))
	}
	if want := ts(h(1)) + " " + ts(h(2)) + " closed 0"; strings.Join(got, "\n") != want {
		t.Errorf("deviations.csv (opened closed status reopened):\n%s\nwant the finding closed, an attestation a second after its closing notwithstanding:\n%s", strings.Join(got, "\n"), want)
	}
}

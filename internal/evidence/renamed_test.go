package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace admin removes a failing container for one evaluation and adds it back under another
// name: the journal closes the finding on the first resolved (nothing on the Deployment fails
// then) and opens another finding key. The pack merged a reopening within ReopenedWithin of a
// remediated closing into the row only under the same finding key, container included, so it
// listed a remediation (with its time to remediate) of a violation that went on, and a second
// row first opened at the re-add. A renamed container (the journal's `moved` closing) likewise
// reset first_opened, so the time to remediate of its eventual fix counted from the rename. Both
// now continue the check's failure on the resource: one row naming both containers, and
// first_opened at the first container's opening.
func TestAFailingContainerAddedBackRenamedContinuesItsDeviation(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	finding, opened, closed := tenantFindingRecords("wl-privileged")
	recs := []journal.Record{
		// api: setup removed for 10 s, added back as setup2, which is open at the end.
		opened(at(0), finding("api", "setup")),
		closed(at(time.Hour), at(0), finding("api", "setup"), journal.CloseResolved),
		opened(at(time.Hour+10*time.Second), finding("api", "setup2")),
		// web: app renamed worker (journaled moved, the opening first), then fixed.
		opened(at(0), finding("web", "app")),
		opened(at(2*time.Hour), finding("web", "worker")),
		closed(at(2*time.Hour+300*time.Millisecond), at(0), finding("web", "app"), journal.CloseMoved),
		closed(at(3*time.Hour), at(2*time.Hour), finding("web", "worker"), journal.CloseResolved),
	}
	from, to := t0.Add(-time.Hour), t0.Add(4*time.Hour)
	recs = append(recs, heartbeats(from, to)...)
	out := buildPack(t, journalOf(t, recs...), from, to)
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["name"], r["container"], r["opened"], r["closed"], r["status"], r["first_opened"], r["remediation_hours"], r["reopened"], r["open_hours"]}, " "))
	}
	want := []string{
		"api setup;setup2 " + ts(at(0)) + "  open " + ts(at(0)) + "  1 " + hours(to.Sub(at(10*time.Second))),
		"web app " + ts(at(0)) + " " + ts(at(2*time.Hour+300*time.Millisecond)) + " closed-moved " + ts(at(0)) + "  0 " + hours(2*time.Hour+300*time.Millisecond),
		"web worker " + ts(at(2*time.Hour)) + " " + ts(at(3*time.Hour)) + " closed " + ts(at(0)) + " " + hours(3*time.Hour) + " 0 " + hours(time.Hour),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv (name container opened closed status first_opened remediation_hours reopened open_hours):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A namespace admin pushes a failing workload past what the operator reads for a while (the
// journal closes the finding not-assessed: nothing says it ended), and renames the container
// while it is: when it fails again under the new name, and is then fixed, its first_opened and
// time to remediate were counted from the new name's opening, the time it failed before hidden.
// Under the same name the pack kept first_opened (the closing is no remediation); under another
// it now does too.
func TestAFindingHiddenAndRenamedKeepsWhenItWasFirstOpened(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	finding, opened, closed := tenantFindingRecords("sec-literal-env-credentials")
	recs := []journal.Record{
		// same: hidden 2 h, failing again under the same name, fixed an hour later.
		opened(at(0), finding("same", "app")),
		closed(at(time.Hour), at(0), finding("same", "app"), journal.CloseNotAssessed),
		opened(at(3*time.Hour), finding("same", "app")),
		closed(at(4*time.Hour), at(3*time.Hour), finding("same", "app"), journal.CloseResolved),
		// renamed: the same, but failing again as worker.
		opened(at(0), finding("renamed", "app")),
		closed(at(time.Hour), at(0), finding("renamed", "app"), journal.CloseNotAssessed),
		opened(at(3*time.Hour), finding("renamed", "worker")),
		closed(at(4*time.Hour), at(3*time.Hour), finding("renamed", "worker"), journal.CloseResolved),
	}
	from, to := t0.Add(-time.Hour), t0.Add(5*time.Hour)
	recs = append(recs, heartbeats(from, to)...)
	out := buildPack(t, journalOf(t, recs...), from, to)
	var got []string
	for _, r := range readCSV(t, filepath.Join(out, "deviations.csv")) {
		got = append(got, strings.Join([]string{r["name"], r["container"], r["opened"], r["status"], r["first_opened"], r["remediation_hours"]}, " "))
	}
	want := []string{
		"renamed app " + ts(at(0)) + " closed-not-assessed " + ts(at(0)) + " ",
		"same app " + ts(at(0)) + " closed-not-assessed " + ts(at(0)) + " ",
		"renamed worker " + ts(at(3*time.Hour)) + " closed " + ts(at(0)) + " " + hours(4*time.Hour),
		"same app " + ts(at(3*time.Hour)) + " closed " + ts(at(0)) + " " + hours(4*time.Hour),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deviations.csv (name container opened status first_opened remediation_hours):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// tenantFindingRecords builds journal records of check's High findings on Deployments of
// namespace tenant (profile soc2): finding, its opening (first seen then) and its closing (first
// seen at first, for reason).
func tenantFindingRecords(check string) (finding func(name, container string) journal.Finding,
	opened func(when time.Time, f journal.Finding) journal.Record,
	closed func(when, first time.Time, f journal.Finding, reason string) journal.Record) {
	finding = func(name, container string) journal.Finding {
		return journal.Finding{Key: journal.FindingKey(check, "Deployment", name, container), Check: check, Severity: "High", Kind: "Deployment", Name: name, Container: container}
	}
	opened = func(when time.Time, f journal.Finding) journal.Record {
		f.FirstSeen = when
		return journal.Record{Type: journal.FindingOpened, Time: when, Profile: "soc2", Namespace: "tenant", Finding: &f}
	}
	closed = func(when, first time.Time, f journal.Finding, reason string) journal.Record {
		f.FirstSeen, f.CloseReason = first, reason
		return journal.Record{Type: journal.FindingClosed, Time: when, Profile: "soc2", Namespace: "tenant", Finding: &f}
	}
	return finding, opened, closed
}

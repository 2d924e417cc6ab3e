package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An operator that restarts knows of an exception only what it restores (the journal's last two
// attestation intervals, and an hour); one it does not know it journals again as requested,
// approved or expired, dated with those events' times, with the spec it has now, in a later
// segment whose time range reaches back to them. The pack of the period they fell in, built
// after such a restart, read that segment and showed the exception with today's reason, expiry
// and spec digest as requested then: a pack of a past period changed with the operator's
// restarts. What the journal stated first of an event is what was known of it then.
func TestAnExceptionStatedAgainLaterDoesNotChangeAPastPeriod(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	then := journal.Exception{Name: "waiver", Owner: "team-a@example.com", Reason: "The setup step loads a kernel module.", Checks: []string{"wl-privileged"},
		Created: t0.Add(time.Hour), Expires: t0.Add(30 * 24 * time.Hour), ApprovedBy: "alice", Generation: 1, SpecSHA256: "aaaa"}
	now := then
	now.Reason, now.Expires, now.SpecSHA256 = "Until the vendor ships a fix.", t0.Add(365*24*time.Hour), "cccc"
	rec := func(typ journal.Type, at time.Time, e journal.Exception) journal.Record {
		return journal.Record{Type: typ, Time: at, Namespace: "team-a", Exception: &e}
	}
	period := []journal.Record{rec(journal.ExceptionRequested, t0.Add(time.Hour), then), rec(journal.ExceptionApproved, t0.Add(2*time.Hour), then)}
	period = append(period, heartbeats(t0, t0.Add(24*time.Hour))...)
	from, to := t0, t0.Add(12*time.Hour)
	atTheTime := readCSV(t, filepath.Join(buildPack(t, journalOf(t, period...), from, to), "exceptions.csv"))

	// Months later, a restarted operator states both again, as the exception is now.
	later := append(period, rec(journal.ExceptionRequested, t0.Add(time.Hour), now), rec(journal.ExceptionApproved, t0.Add(2*time.Hour), now))
	later = append(later, heartbeats(t0.Add(90*24*time.Hour), t0.Add(90*24*time.Hour+time.Hour))...)
	afterwards := readCSV(t, filepath.Join(buildPack(t, journalOf(t, later...), from, to), "exceptions.csv"))
	row := func(rows []map[string]string) string {
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join([]string{r["name"], r["state"], r["requested"], r["approved"], r["expires"], r["reason"], r["spec_sha256"]}, " "))
		}
		return strings.Join(out, "\n")
	}
	if row(afterwards) != row(atTheTime) {
		t.Errorf("exceptions.csv of the period built after the restatement:\n%s\nbuilt before:\n%s", row(afterwards), row(atTheTime))
	}
	if !strings.Contains(row(atTheTime), then.Reason) {
		t.Errorf("exceptions.csv: %s; want the reason requested, %q", row(atTheTime), then.Reason)
	}
}

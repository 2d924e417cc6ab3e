package evidence

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// Bob approved team-a's exception for "legacy image, migrating by March". A week on the tenant
// edited its reason to "accepted permanently by the CISO" (which removes the approval). The
// journal keeps both, but exceptions.csv showed one row with the new reason, an empty approver
// and bob's approval time: it read as if the edited text had been approved, and named nobody.
// The row now keeps who approved, and the reason and spec digest they approved, beside what the
// exception says now.
func TestAnExceptionEditedAfterItsApprovalKeepsWhatWasApproved(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	created := h(1)
	ex := func(reason, approvedBy, spec string) *journal.Exception {
		return &journal.Exception{Name: "legacy", RequestedBy: "alice", ApprovedBy: approvedBy, Owner: "team-a", Reason: reason,
			Checks: []string{"wl-privileged"}, Created: created, Expires: h(24 * 30), SpecSHA256: strings.Repeat(spec, 64)}
	}
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: created, Namespace: "team-a", Exception: ex("legacy image, migrating by March", "", "a")},
		{Type: journal.ExceptionApproved, Time: h(2), Namespace: "team-a", Exception: ex("legacy image, migrating by March", "bob", "a")},
		{Type: journal.ExceptionChanged, Time: h(24 * 7), Namespace: "team-a", Exception: ex("accepted permanently by the CISO", "", "b")},
	}
	out := buildPack(t, journalOf(t, append(recs, heartbeats(t0, h(24*8))...)...), t0, h(24*8))
	rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
	if len(rows) != 1 {
		t.Fatalf("exceptions.csv: %v", rows)
	}
	r := rows[0]
	got := strings.Join([]string{r["state"], r["reason"], r["approved"], r["approved_by"], r["approved_reason"], r["approved_spec_sha256"], r["spec_sha256"]}, " | ")
	want := strings.Join([]string{"Changed", "accepted permanently by the CISO", ts(h(2)), "bob", "legacy image, migrating by March", strings.Repeat("a", 64), strings.Repeat("b", 64)}, " | ")
	if got != want {
		t.Errorf("exceptions.csv (state | reason | approved | approved_by | approved_reason | approved_spec_sha256 | spec_sha256):\n%s\nwant:\n%s", got, want)
	}
}

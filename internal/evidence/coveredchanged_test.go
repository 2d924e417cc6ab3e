package evidence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// Bob approved team-a's waiver, which selects Deployments by label, while it covered one
// finding. The tenant then labelled another Deployment into it: its status said
// CoveredChangedSinceApproval, but the journal and the evidence pack said nothing of it, and an
// auditor saw an approved exception and the findings it waived, as if bob had approved them.
// exceptions.csv now lists when it came to cover findings other than those approved (with both
// digests) and when an approver approved it again; index.html says so while it lasts.
func TestTheEvidencePackShowsAWaiverThatCoveredUnapprovedFindings(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	created := h(1)
	ex := func(approvedBy string) *journal.Exception {
		return &journal.Exception{Name: "by-label", RequestedBy: "alice", ApprovedBy: approvedBy, Owner: "team-a", Reason: "kernel module",
			Checks: []string{"wl-privileged"}, Created: created, Expires: h(24 * 30), SpecSHA256: strings.Repeat("a", 64),
			Match: &journal.ExceptionMatch{LabelSelector: "waiver=yes"}}
	}
	covered := func(typ journal.Type, at time.Time, by, covers, approved string) journal.Record {
		return journal.Record{Type: typ, Time: at, Namespace: "team-a", Exception: &journal.Exception{Name: "by-label", RequestedBy: "alice",
			ApprovedBy: by, Created: created, CoveredDigest: covers, ApprovedCoveredDigest: approved}}
	}
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: created, Namespace: "team-a", Exception: ex("")},
		{Type: journal.ExceptionApproved, Time: h(2), Namespace: "team-a", Exception: ex("bob")},
		covered(journal.ExceptionCoveredChanged, h(5), "bob", "sha256:beta", "sha256:alpha"),
		// The same change journaled by a second leader around a failover.
		covered(journal.ExceptionCoveredChanged, h(5.01), "bob", "sha256:beta", "sha256:alpha"),
	}
	raised := ts(h(5)) + " covers sha256:beta, not what bob approved (sha256:alpha)"
	for name, tc := range map[string]struct {
		more      []journal.Record
		csv, html string
	}{
		"moved and not reviewed": {
			csv: raised, html: "Approved, covering findings not approved since " + ts(h(5)),
		},
		"moved and approved again": {
			more: []journal.Record{covered(journal.ExceptionCoveredCleared, h(30), "carol", "sha256:beta", "sha256:beta")},
			csv:  raised + "; " + ts(h(30)) + " approved again by carol (sha256:beta)",
		},
	} {
		t.Run(name, func(t *testing.T) {
			out := buildPack(t, journalOf(t, append(append(append([]journal.Record{}, recs...), tc.more...), heartbeats(t0, h(24*8))...)...), t0, h(24*8))
			rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
			if len(rows) != 1 {
				t.Fatalf("exceptions.csv: %v", rows)
			}
			if got := rows[0]["covered_changed"]; got != tc.csv {
				t.Errorf("exceptions.csv covered_changed:\n%s\nwant:\n%s", got, tc.csv)
			}
			page, err := os.ReadFile(filepath.Join(out, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			if shown := strings.Contains(string(page), "covering findings not approved since"); shown != (tc.html != "") || tc.html != "" && !strings.Contains(string(page), tc.html) {
				t.Errorf("index.html shows the unapproved coverage: %v; want %q", shown, tc.html)
			}
		})
	}
}

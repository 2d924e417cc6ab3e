package journal

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// copySegment writes a byte-identical copy of a segment under another name (a new object, as
// Object Lock allows), naming another time range for the same sequence number.
func copySegment(t *testing.T, dir, seg string, first, last time.Time) {
	t.Helper()
	ref, ok := parseSegmentName(filepath.Base(seg))
	if !ok {
		t.Fatalf("not a segment: %s", seg)
	}
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prod", "segments", SegmentName(ref.Seq, first, last)), b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// A byte-identical copy of the period's last segment under a later name is the chain's segment
// for that sequence number (the next one links to both), and its name's time range moves it out
// of the window: the records of the period's end vanish from a signed window that verified.
func TestACopyRenamedAfterThePeriodDoesNotHideItsLastSegment(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	from, to := t0.Add(24*time.Hour), t0.Add(4*24*time.Hour) // days 1, 2 and 3 of 0..5
	dir, store := writeDays(t, 6, key)
	copySegment(t, dir, segmentFiles(t, dir)[3], t0.Add(9*24*time.Hour), t0.Add(9*24*time.Hour+time.Hour))
	res, err := Verify(context.Background(), store, "prod", from, to, pub)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("segment 4 (day 3) hidden from the window %s..%s, yet verified: %s", from, to, res.Summary())
	}
	found := false
	for _, p := range res.Problems {
		found = found || p.Kind == ProblemAltered && p.Seq == 4
	}
	if !found {
		t.Errorf("want an altered problem naming segment 4, got %v", res.Problems)
	}
}

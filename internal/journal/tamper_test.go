package journal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	from, to := t0.Add(25*time.Hour), t0.Add(3*24*time.Hour+5*time.Hour) // days 1, 2 and 3 of 0..5
	dir, store := writeDays(t, 6, key)
	copySegment(t, dir, segmentFiles(t, dir)[3], t0.Add(9*24*time.Hour), t0.Add(9*24*time.Hour+time.Hour))
	res, err := Verify(context.Background(), store, "prod", from, to, pub)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("segment 4 (day 3) hidden from the window %s..%s, yet verified: %s", from, to, res.Summary())
	}
	wantAltered(t, res, 4)
}

// A period the chain does not reach (its last segments hidden, or no operator writing) or does
// not begin in (a chain started afresh after the period began) verified as if it were covered,
// and a period with no segment at all verified with zero segments.
func TestAPeriodTheChainDoesNotCoverIsNamedUncovered(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	now := func() time.Time { return t0.Add(365 * 24 * time.Hour) }
	for name, tc := range map[string]struct {
		from, to time.Time
		seq      uint64
	}{
		"the chain ends before the period does (its tail hidden)": {from: t0.Add(time.Hour), to: t0.Add(30 * 24 * time.Hour), seq: 5},
		"the chain begins after the period does":                  {from: t0.Add(-30 * 24 * time.Hour), to: t0.Add(4*24*time.Hour + 5*time.Hour), seq: 1},
		"no segment in the period":                                {from: t0.Add(60 * 24 * time.Hour), to: t0.Add(90 * 24 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			_, store := writeDays(t, 5, key)
			res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", From: tc.from, To: tc.to, PublicKey: pub, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() {
				t.Fatalf("period %s..%s verified: %s", tc.from, tc.to, res.Summary())
			}
			if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemUncovered || res.Problems[0].Seq != tc.seq {
				t.Errorf("want one uncovered problem naming segment %d, got %v", tc.seq, res.Problems)
			}
		})
	}
	t.Run("a period the chain covers, up to now when it ends later", func(t *testing.T) {
		_, store := writeDays(t, 5, key)
		// day(4) ends at 4 days + 5 h; "now" a few minutes later, the period ending tomorrow.
		now := func() time.Time { return t0.Add(4*24*time.Hour + 5*time.Hour + 5*time.Minute) }
		res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", From: t0.Add(time.Hour), To: t0.Add(6 * 24 * time.Hour), PublicKey: pub, Now: now})
		if err != nil || !res.OK() {
			t.Fatalf("%+v, %v", res, err)
		}
	})
}

// The first batch a starting operator writes holds events dated before it started: a profile's
// or an exception's creation time, the first-seen time of a finding its report already showed
// (the journal enabled on a running operator). They do not show that anything was observed
// then: a period that begins before the operator started is not covered from its start.
func TestBackDatedRecordsDoNotCoverThePeriodBeforeTheOperatorStarted(t *testing.T) {
	ctx := context.Background()
	start := t0.Add(100 * 24 * time.Hour)
	f := &Finding{Key: FindingKey("wl-privileged", "Deployment", "api", ""), Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: t0}
	first := []Record{
		{Type: OperatorStarted, Time: start, Operator: &Operator{Identity: "a"}},
		{Type: ProfileCreated, Time: t0.Add(-time.Hour), Profile: "soc2", Spec: &ProfileSpec{Generation: 1, SHA256: "x"}},
		{Type: FindingOpened, Time: t0, Profile: "soc2", Namespace: "team-a", Finding: f},
	}
	var beats []Record
	for at := start.Add(10 * time.Minute); !at.After(start.Add(2 * time.Hour)); at = at.Add(10 * time.Minute) {
		beats = append(beats, Record{Type: OperatorHeartbeat, Time: at})
	}
	store := writeSegments(t, first, beats)
	now := func() time.Time { return start.Add(2 * time.Hour) }
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0, To: start.Add(2 * time.Hour), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemUncovered || res.Problems[0].Seq != 1 {
		t.Errorf("the period %s..%s, the operator started at %s: want one uncovered problem naming segment 1, got %v (%s)", t0, start.Add(2*time.Hour), start, res.Problems, res.Summary())
	}
	// From when it started, the period is covered.
	res, err = Scan(ctx, store, ScanOptions{Cluster: "prod", From: start, To: start.Add(2 * time.Hour), Now: now})
	if err != nil || !res.OK() {
		t.Errorf("the period from the start: %v %v", res.Problems, err)
	}
}

// A copy of the period's first segment under a name that ends before the period (same sequence
// number, a later name, so the chain takes it) is left out of the window on its name alone: only
// its bytes are hashed for the link into the window, and those are unchanged. The records it
// holds from the period's first minutes (within CoverageSlack, so coverage holds) vanished from
// a signed window that verified.
func TestACopyRenamedBeforeThePeriodDoesNotHideItsFirstSegment(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	dir, store := newFileStore(t)
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod", Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	from := t0.Add(24 * time.Hour)
	f := &Finding{Key: FindingKey("wl-privileged", "Deployment", "api", ""), Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: from.Add(5 * time.Minute)}
	batches := [][]Record{
		{{Type: OperatorHeartbeat, Time: from.Add(-time.Hour)}, {Type: FindingOpened, Time: from.Add(5 * time.Minute), Profile: "soc2", Namespace: "team-a", Finding: f}},
		{{Type: OperatorHeartbeat, Time: from.Add(10 * time.Minute)}, {Type: OperatorHeartbeat, Time: from.Add(20 * time.Minute)}},
	}
	for _, b := range batches {
		if err := w.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	copySegment(t, dir, segmentFiles(t, dir)[0], from.Add(-time.Hour+time.Millisecond), from.Add(-2*time.Hour))
	to := from.Add(30 * time.Minute)
	var opened int
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: from, To: to, PublicKey: pub, Now: func() time.Time { return to },
		OnRecord: func(line []byte) error {
			if bytes.Contains(line, []byte(FindingOpened)) {
				opened++
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("segment 1, with the finding opened at %s, hidden from the window %s..%s (%d read), yet verified: %s", f.FirstSeen, from, to, opened, res.Summary())
	}
	wantAltered(t, res, 1)
}

// Whoever can write to the store but holds no signing key can replace a signed journal's last
// segment with one of their own, linked to the one before and unsigned. --public-key names it
// unsigned; --unsigned, which is for a journal the operator does not sign, verified it. A
// journal whose segments carry signatures is not read as unsigned without saying so.
func TestASignedJournalReadAsUnsignedIsAProblem(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	dir, store := writeDays(t, 3, key)
	segs := segmentFiles(t, dir)
	last, ok := parseSegmentName(filepath.Base(segs[2]))
	if !ok {
		t.Fatal(segs[2])
	}
	for _, k := range []string{segmentsPrefix("prod") + last.Name, signaturesPrefix("prod") + last.Name + ".sig"} {
		if err := store.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	prev, err := os.ReadFile(segs[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := day(2)[:1] // the finding opened; its closing kept out
	if err := forged[0].Seal(); err != nil {
		t.Fatal(err)
	}
	data, h, err := encodeSegment("prod", 3, Digest(prev), forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, segmentsPrefix("prod")+SegmentName(3, h.First, h.Last), data); err != nil {
		t.Fatal(err)
	}
	if res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", PublicKey: key.Public().(ed25519.PublicKey)}); err != nil || res.OK() {
		t.Fatalf("with the key: %v %v", res.Problems, err)
	}
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", Unsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || len(res.Problems) != 1 || res.Problems[0].Kind != ProblemSigned {
		t.Errorf("a signed journal with its last segment forged, read with --unsigned: %v (%s); want one problem saying its segments are signed", res.Problems, res.Summary())
	}
	// A journal the operator does not sign verifies with --unsigned.
	_, unsigned := writeDays(t, 3, nil)
	if res, err := Scan(ctx, unsigned, ScanOptions{Cluster: "prod", Unsigned: true}); err != nil || !res.OK() {
		t.Errorf("an unsigned journal: %v %v", res.Problems, err)
	}
}

// An operator whose clock runs a day ahead dates its heartbeats a day ahead: when it stopped
// writing, its last heartbeat still lay after the time of verification, and a period not over
// verified as covered up to now, though nothing was observed for most of a day. A record dated
// after now is not an observation: verification names it.
func TestRecordsDatedAfterNowAreAProblem(t *testing.T) {
	ctx := context.Background()
	ahead := 24 * time.Hour
	var beats []Record
	for at := t0; at.Before(t0.Add(10 * time.Hour)); at = at.Add(10 * time.Minute) {
		beats = append(beats, Record{Type: OperatorHeartbeat, Time: at.Add(ahead)})
	}
	store := writeSegments(t, beats)
	// It stopped at t0+10h (real time); the auditor verifies the month so far at t0+20h.
	now := func() time.Time { return t0.Add(20 * time.Hour) }
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0.Add(ahead), To: t0.AddDate(0, 1, 0), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Problems[0].Kind != ProblemFuture {
		t.Errorf("records dated up to %s, verified at %s: %v (%s); want a problem naming them", t0.Add(ahead+10*time.Hour), now(), res.Problems, res.Summary())
	}
	// A clock a few minutes ahead is within the slack.
	res, err = Scan(ctx, store, ScanOptions{Cluster: "prod", From: t0.Add(ahead), To: t0.AddDate(0, 1, 0), Now: func() time.Time { return t0.Add(ahead + 9*time.Hour + 45*time.Minute) }})
	if err != nil || !res.OK() {
		t.Errorf("a clock five minutes ahead: %v %v", res.Problems, err)
	}
}

// `evidence verify --from 2026-01-01` asks about the period from then on: its last segments
// hidden (or no operator writing for a month) left no trace, as the end of the period was
// checked only when --to was given.
func TestAPeriodWithoutAnEndIsCoveredUpToNow(t *testing.T) {
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	_, store := writeDays(t, 5, key) // records up to 4 days + 5 h
	now := func() time.Time { return t0.Add(30 * 24 * time.Hour) }
	res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", From: t0.Add(time.Hour), PublicKey: pub, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemUncovered || res.Problems[0].Seq != 5 {
		t.Errorf("the period from %s, verified at %s: %v (%s); want one uncovered problem naming segment 5", t0.Add(time.Hour), now(), res.Problems, res.Summary())
	}
	now = func() time.Time { return t0.Add(4*24*time.Hour + 5*time.Hour + 5*time.Minute) }
	if res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", From: t0.Add(time.Hour), PublicKey: pub, Now: now}); err != nil || !res.OK() {
		t.Errorf("verified just after the last record: %v %v", res.Problems, err)
	}
}

// Without a period, verification cannot tell a chain whose newest segments were removed from
// one whose operator stopped: the summary said how many segments and records it read, not when
// they end, so an auditor read "chain verified" for a journal that stopped in March. It says
// the time its records span.
func TestTheSummarySaysWhenTheChainEnds(t *testing.T) {
	_, store := writeDays(t, 5, nil)
	res, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "records from 2026-01-01T01:00:00Z to 2026-01-05T05:00:00Z"; !strings.Contains(res.Summary(), want) {
		t.Errorf("summary %q, want it to say %q", res.Summary(), want)
	}
}

// wantAltered fails the test unless res names segment seq altered.
func wantAltered(t *testing.T, res Result, seq uint64) {
	t.Helper()
	if !slices.ContainsFunc(res.Problems, func(p Problem) bool { return p.Kind == ProblemAltered && p.Seq == seq }) {
		t.Errorf("want an altered problem naming segment %d, got %v", seq, res.Problems)
	}
}

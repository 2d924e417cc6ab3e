package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// failingOnce fails the first Put of a segment whose key holds seq.
type failingOnce struct {
	Store
	seq string
}

func (s *failingOnce) Put(ctx context.Context, key string, data []byte) error {
	if s.seq != "" && strings.Contains(key, "/segments/"+s.seq+"_") {
		s.seq = ""
		return errors.New("connection reset (test)")
	}
	return s.Store.Put(ctx, key, data)
}

// A batch split into segments says so in their headers, so that a reader goes on reading after a
// period until the batch's last segment, where its journal.gap is, whatever segments come
// between. A Write that failed after its first segment leaves the batch open: the retry (what
// was not written, and what came meanwhile, fewer records than a segment holds) ends it.
func TestASplitBatchSaysWhereItGoesOnAndWhereItEnds(t *testing.T) {
	ctx := context.Background()
	_, fs := newFileStore(t)
	store := &failingOnce{Store: fs, seq: fmt.Sprintf("%012d", 2)}
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []Record
	for i := range MaxSegmentRecords + 10 {
		batch = append(batch, Record{Type: OperatorHeartbeat, Time: t0.Add(time.Duration(i) * time.Millisecond), Operator: &Operator{Identity: fmt.Sprint(i)}})
	}
	if err := w.Write(ctx, batch); err == nil {
		t.Fatal("the second segment's write did not fail")
	}
	if err := w.Write(ctx, append(batch[MaxSegmentRecords:], Record{Type: OperatorHeartbeat, Time: t0.Add(time.Minute)})); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, []Record{{Type: OperatorHeartbeat, Time: t0.Add(2 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	first := batch[0] // the batch's first record, whose ID names it
	if err := first.Seal(); err != nil {
		t.Fatal(err)
	}
	refs, err := chainSegments(ctx, fs, "prod", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ref := range refs {
		rc, err := fs.Get(ctx, ref.Key)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := newSegmentReader(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d records, batch %t, continues %t", sr.header.Records, sr.header.Batch == first.ID, sr.header.Continues))
	}
	want := []string{
		fmt.Sprintf("%d records, batch true, continues true", MaxSegmentRecords),
		"11 records, batch true, continues false",
		"1 records, batch false, continues false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// crashingAt refuses every Put of a segment from sequence number seq on: the writer stopped
// there (a crash, an OOM kill) and writes nothing more.
type crashingAt struct {
	Store
	seq string
}

func (s *crashingAt) Put(ctx context.Context, key string, data []byte) error {
	if i := strings.Index(key, "/segments/"); i >= 0 && key[i+len("/segments/"):] >= s.seq {
		return errors.New("the writer crashed (test)")
	}
	return s.Store.Put(ctx, key, data)
}

// A writer that crashed after the first segment of a split batch never ended it: the batch's
// last segment, with the journal.gap of what the writer dropped before it, is not in the chain,
// and nothing said so (verification reported nothing, and a period ending in the batch was read
// to the chain's end, waiting for the batch to end). It is `unended`, from the batch's first
// record to the next writer's first record, and the scan reads no further than that writer's
// segment.
func TestASplitBatchThatNeverEndedIsNamed(t *testing.T) {
	ctx := context.Background()
	_, fs := newFileStore(t)
	a, err := NewWriter(ctx, &crashingAt{Store: fs, seq: fmt.Sprintf("%012d", 2)}, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []Record
	for i := range MaxSegmentRecords + 10 {
		batch = append(batch, Record{Type: OperatorHeartbeat, Time: t0.Add(time.Duration(i) * time.Millisecond), Operator: &Operator{Identity: fmt.Sprint(i)}})
	}
	if err := a.Write(ctx, batch); err == nil {
		t.Fatal("the second segment's write did not fail")
	}
	b, err := NewWriter(ctx, fs, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if err := b.Write(ctx, []Record{{Type: OperatorHeartbeat, Time: t0.Add(time.Duration(i) * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	unended := func(res Result) []string {
		var out []string
		for _, p := range res.Problems {
			if p.Kind == ProblemUnended {
				out = append(out, fmt.Sprintf("%d %s", p.Seq, p.Detail))
			}
		}
		return out
	}
	res, err := Verify(ctx, fs, "prod", time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := unended(res)
	if len(got) != 1 || !strings.HasPrefix(got[0], "1 ") || !strings.Contains(got[0], stamp(t0)) || !strings.Contains(got[0], stamp(t0.Add(time.Hour))) {
		t.Errorf("verification of the chain: unended %q; want segment 1, from %s to %s (all problems: %v)", got, stamp(t0), stamp(t0.Add(time.Hour)), res.Problems)
	}
	// A period that ends in the batch: read up to the next writer's segment, not the chain's end.
	res, err = Scan(ctx, fs, ScanOptions{Cluster: "prod", From: t0, To: t0.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := unended(res); len(got) != 1 || !strings.HasPrefix(got[0], "1 ") {
		t.Errorf("verification of a period ending in the batch: unended %q; want segment 1 (all problems: %v)", got, res.Problems)
	}
	if res.LastSeq != 1 {
		t.Errorf("verification of a period ending in the batch read up to segment %d; want 1 (the next writer's segment 2 says the batch ended unwritten)", res.LastSeq)
	}
}

// A Write that failed after the first segment of a split batch left it open; a retry that holds
// nothing new (what was not written was dropped meanwhile: the queue trims what waits past its
// capacity, or another leader wrote the same records) wrote no segment and forgot the batch, so
// no segment ended it, and verification named a batch the writer never stopped writing as
// unended. The batch stays open until a segment ends it: the next one the writer writes.
func TestASplitBatchARetryWroteNothingOfEndsInTheNextSegment(t *testing.T) {
	ctx := context.Background()
	_, fs := newFileStore(t)
	store := &failingOnce{Store: fs, seq: fmt.Sprintf("%012d", 2)}
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []Record
	for i := range MaxSegmentRecords + 10 {
		batch = append(batch, Record{Type: OperatorHeartbeat, Time: t0.Add(time.Duration(i) * time.Millisecond), Operator: &Operator{Identity: fmt.Sprint(i)}})
	}
	if err := w.Write(ctx, batch); err == nil {
		t.Fatal("the second segment's write did not fail")
	}
	if err := w.Write(ctx, batch[:MaxSegmentRecords]); err != nil { // all written already
		t.Fatal(err)
	}
	if err := w.Write(ctx, []Record{{Type: OperatorHeartbeat, Time: t0.Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(ctx, fs, "prod", time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Segments != 2 {
		t.Errorf("verification: %d segments, problems %v; want 2 segments, none", res.Segments, res.Problems)
	}
}

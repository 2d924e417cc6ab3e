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

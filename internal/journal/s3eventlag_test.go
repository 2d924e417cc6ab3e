package journal

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"
)

// checkStored measured a segment's lag from its latest record of any type. A batch that holds
// only event-dated records, dated long before it was written, is the operator's own: an
// exception that expired at an expiry a namespace admin chose, or revoked at a deletion time,
// journaled when the operator notices it (after a restart, or the reconcile that runs next).
// Its segment was stored days after its last record while the segments before it were stored
// seconds after theirs, and verification named it `rewritten`: a false alarm a tenant can cause
// at will, which teaches auditors to ignore the problem. The lag is measured from the latest
// record the operator dated as it wrote it (DatedAsWritten) that the chain holds up to the
// segment: the writer's clock had reached it when it stored the segment.
func TestABatchOfBackDatedEventsIsNotNamedRewritten(t *testing.T) {
	endpoint := versityGW(t)
	store := bucket(t, endpoint, "eventlag", false, "")
	ctx := context.Background()
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-4 * time.Hour).UTC().Truncate(time.Millisecond)
	stored := map[uint64]time.Time{}
	for i := range 3 {
		at := base.Add(time.Duration(i) * time.Hour)
		if err := w.Write(ctx, []Record{
			{Type: OperatorHeartbeat, Time: at},
			{Type: CriterionChanged, Time: at.Add(time.Minute), Profile: "soc2", Namespace: "team-a", Criterion: &CriterionChange{Criterion: "CC6.1", From: "Pass", To: "Fail"}},
		}); err != nil {
			t.Fatal(err)
		}
		stored[uint64(i+1)] = at.Add(time.Minute + 3*time.Second)
	}
	// Seconds after the last heartbeat, the operator notices an exception whose expiry the
	// namespace admin set three days back, and one revoked (deleted) a day ago: a batch of its
	// own, stored at once.
	noticed := base.Add(2*time.Hour + 2*time.Minute)
	if err := w.Write(ctx, []Record{
		{Type: ExceptionExpired, Time: base.Add(-72 * time.Hour), Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-priv"}},
		{Type: ExceptionRevoked, Time: base.Add(-24 * time.Hour), Profile: "soc2", Namespace: "team-a", Exception: &Exception{Name: "waive-root"}},
	}); err != nil {
		t.Fatal(err)
	}
	stored[4] = noticed.Add(3 * time.Second)
	if err := w.Write(ctx, []Record{{Type: OperatorHeartbeat, Time: base.Add(2*time.Hour + 10*time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	stored[5] = base.Add(2*time.Hour + 10*time.Minute + 3*time.Second)
	root, _ := gwRoots.Load(endpoint)
	keys, err := store.List(ctx, "prod/segments/")
	if err != nil || len(keys) != 5 {
		t.Fatalf("segments %v, %v", keys, err)
	}
	for _, k := range keys {
		ref, _ := parseSegmentName(path.Base(k))
		if err := os.Chtimes(filepath.Join(root.(string), store.bucket, store.prefix+k), stored[ref.Seq], stored[ref.Seq]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Errorf("the operator's own chain, a batch of events dated days back stored seconds after its latest heartbeat: %v (%s)", res.Problems, res.Summary())
	}
}

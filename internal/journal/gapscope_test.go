package journal

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

// gapScopes returns, for each journal.gap record of the store, its interval's droppedBy as
// written (namespace -> records), read from the JSON so that a journal without it reads as none.
func gapScopes(t *testing.T, store Store) (gaps []map[string]int, dropped []int) {
	t.Helper()
	if _, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", OnRecord: func(line []byte) error {
		var r struct {
			Type     Type `json:"type"`
			Interval struct {
				Dropped   int `json:"dropped"`
				DroppedBy []struct {
					Namespace string `json:"namespace"`
					Records   int    `json:"records"`
				} `json:"droppedBy"`
			} `json:"interval"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Type != JournalGap {
			return nil
		}
		by := map[string]int{}
		for _, d := range r.Interval.DroppedBy {
			by[d.Namespace] += d.Records
		}
		gaps, dropped = append(gaps, by), append(dropped, r.Interval.Dropped)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return gaps, dropped
}

// A journal.gap said how many records were dropped, not whose: the evidence pack then made
// every namespace's criteria Unknown from the gap until a record stated them again (for a quiet
// namespace, the next daily attestation), so one tenant's flood cast doubt on every namespace's
// evidence. The gap now names the namespaces whose records were dropped, with how many each
// ("" for records of no namespace: the operator's, the profiles'), whether they were dropped as
// they came (the queue full, the store writable) or trimmed from what waited while the store was
// not writable.
func TestAJournalGapNamesTheNamespacesWhoseRecordsWereDropped(t *testing.T) {
	t.Run("dropped as they came", func(t *testing.T) {
		store, err := NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: time.Hour, Capacity: 8})
		stop := runQueue(t, q)
		q.Add(tenantRecords("tenant", 8)...)
		if !q.AddAndWait(context.Background(), 10*time.Second, tenantRecords("other", 1)...) {
			t.Error("the other namespace's record was not written")
		}
		stop()
		gaps, dropped := gapScopes(t, store)
		if len(gaps) != 1 || len(gaps[0]) != 1 || gaps[0]["tenant"] != 2 || dropped[0] != 2 {
			t.Errorf("journal.gap records dropping %v, by namespace %v; want one of 2 records, all of namespace tenant", dropped, gaps)
		}
	})
	t.Run("trimmed while the store was not writable", func(t *testing.T) {
		fs, err := NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		store := &flakyStore{Store: fs}
		q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: 5 * time.Millisecond, Capacity: 8})
		stop := runQueue(t, q)
		defer stop()
		store.fail.Store(true)
		q.Add(tenantRecords("other", 2)...)
		drained(t, q)
		for i := range 3 {
			burst := tenantRecords("tenant", 6)
			for j := range burst {
				burst[j].Time = t0.Add(time.Duration(i+1) * time.Minute)
			}
			q.Add(burst...)
			drained(t, q)
		}
		store.fail.Store(false)
		deadline := time.Now().Add(10 * time.Second)
		for behind, _, _, _ := q.Status(); behind; behind, _, _, _ = q.Status() {
			if time.Now().After(deadline) {
				t.Fatal("still behind after the store came back")
			}
			runtime.Gosched()
		}
		gaps, dropped := gapScopes(t, fs)
		total, tenant := 0, 0
		for i, by := range gaps {
			total += dropped[i]
			for ns, n := range by {
				if ns != "tenant" {
					t.Errorf("a journal.gap names %d records of %q dropped: only the tenant's burst was", n, ns)
				}
				tenant += n
			}
		}
		if total == 0 || tenant != total {
			t.Errorf("journal.gap records drop %d records and name %d of the tenant's, want them all named", total, tenant)
		}
	})
}

package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

type flakyStore struct {
	Store
	fail atomic.Bool
}

func (s *flakyStore) Put(ctx context.Context, key string, data []byte) error {
	if s.fail.Load() {
		return errors.New("connection refused (test)")
	}
	return s.Store.Put(ctx, key, data)
}

// runQueue starts a queue and returns a function that stops it and waits.
func runQueue(t *testing.T, q *Queue) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- q.Start(ctx) }()
	select {
	case <-q.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the queue did not open the journal")
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func allRecords(t *testing.T, store Store) []Record {
	t.Helper()
	var out []Record
	res, err := Scan(context.Background(), store, ScanOptions{Cluster: "prod", OnRecord: func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}})
	if err != nil || !res.OK() {
		t.Fatalf("scan: %v %v", err, res.Problems)
	}
	return out
}

func TestARestartRecordsTheIntervalNobodyObserved(t *testing.T) {
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeNow{t: t0}
	opts := QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond, Identity: "pod-a"}
	q, _ := NewQueue(opts)
	stop := runQueue(t, q)
	q.Add(day(0)[0]) // at t0+1h
	clock.Set(t0.Add(time.Hour))
	stop()

	// Three hours later another process starts.
	clock.Set(t0.Add(4 * time.Hour))
	opts.Identity = "pod-b"
	q2, _ := NewQueue(opts)
	runQueue(t, q2)()

	var gaps []Interval
	var types []Type
	for _, r := range allRecords(t, store) {
		types = append(types, r.Type)
		if r.Type == ObservationGap {
			gaps = append(gaps, *r.Interval)
		}
	}
	if len(gaps) != 1 || !gaps[0].From.Equal(t0.Add(time.Hour)) || !gaps[0].To.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("gaps %+v; records %v", gaps, types)
	}
}

func TestAFullQueueRecordsTheGapWhenTheStoreIsBack(t *testing.T) {
	fs, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: fs}
	clock := &fakeNow{t: t0}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond, Capacity: 3})
	stop := runQueue(t, q)
	defer stop()
	// Once the start is written (so the drops below are all ours), the store goes away.
	for len(allRecords(t, fs)) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	store.fail.Store(true)
	const n = 20
	for i := range n {
		q.Add(Record{Type: CriterionChanged, Time: t0.Add(time.Duration(i) * time.Minute), Profile: "p", Namespace: "ns",
			Criterion: &CriterionChange{Criterion: fmt.Sprint("C", i), To: "Fail"}})
		time.Sleep(2 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		behind, _, dropped, err := q.Status()
		if behind && dropped > 0 && err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never behind: %v %d %v", behind, dropped, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	clock.Set(t0.Add(time.Hour))
	store.fail.Store(false)
	var written, dropped int
	for time.Now().Before(deadline) {
		written, dropped = 0, 0
		for _, r := range allRecords(t, fs) {
			switch r.Type {
			case CriterionChanged:
				written++
			case JournalGap:
				dropped += r.Interval.Dropped
			}
		}
		if written+dropped == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if written+dropped != n || dropped == 0 {
		for _, r := range allRecords(t, fs) {
			b, _ := json.Marshal(r)
			t.Log(string(b))
		}
		t.Fatalf("%d records written and %d recorded as dropped, want %d in all with some dropped", written, dropped, n)
	}
	for {
		behind, _, _, _ := q.Status()
		if !behind {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still behind after the store came back")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAddAndWaitReturnsOnceWrittenAndNeverWaitsWhileBehind(t *testing.T) {
	fs, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: fs}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: time.Hour})
	stop := runQueue(t, q)
	defer stop()
	rec := day(0)
	// The flush interval is an hour: only the waiter makes it write now.
	if !q.AddAndWait(context.Background(), 10*time.Second, rec[0]) {
		t.Fatal("not written")
	}
	found := false
	for _, r := range allRecords(t, fs) {
		found = found || r.Type == FindingOpened
	}
	if !found {
		t.Fatal("AddAndWait returned before the record was in the journal")
	}
	store.fail.Store(true)
	if q.AddAndWait(context.Background(), 10*time.Second, rec[1]) {
		t.Fatal("written to a failing store?")
	}
	start := time.Now()
	if q.AddAndWait(context.Background(), 10*time.Second, rec[1]) || time.Since(start) > 5*time.Second {
		t.Fatalf("waited %s while the journal was behind", time.Since(start))
	}
}

// The operator.* records name the operator's version and the check catalogue's it evaluates
// with: the evidence pack says, from them, which versions stated each verdict (an upgrade's new
// catalogue can turn a Pass into a Fail with nothing changed in the cluster).
func TestTheOperatorsRecordsNameItsVersionAndCatalogue(t *testing.T) {
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeNow{t: t0}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", Now: clock.Now, FlushInterval: 10 * time.Millisecond,
		Identity: "pod-a", Version: "v1.5.0", Catalogue: "2026.09.01"})
	runQueue(t, q)()
	var types []Type
	for _, r := range allRecords(t, store) {
		types = append(types, r.Type)
		if op := r.Operator; op == nil || *op != (Operator{Identity: "pod-a", Version: "v1.5.0", Catalogue: "2026.09.01"}) {
			t.Errorf("%s record: operator %+v, want pod-a, v1.5.0, catalogue 2026.09.01", r.Type, op)
		}
	}
	if len(types) != 2 {
		t.Errorf("records %v, want operator.started and operator.stopped", types)
	}
}

package journal

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tenantRecords are n finding.opened records of one namespace: what one evaluation of a
// namespace with n failing containers journals.
func tenantRecords(ns string, n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		f := Finding{Key: FindingKey("wl-privileged", "Deployment", fmt.Sprintf("app-%05d", i), "c"), Check: "wl-privileged",
			Kind: "Deployment", Name: fmt.Sprintf("app-%05d", i), Container: "c", FirstSeen: t0}
		recs[i] = Record{Type: FindingOpened, Time: t0, Profile: "soc2", Namespace: ns, Finding: &f}
	}
	return recs
}

func countIn(recs []Record, ns string, typ Type) (n, dropped int) {
	for _, r := range recs {
		if r.Namespace == ns && r.Type == typ {
			n++
		}
		if r.Type == JournalGap {
			dropped += r.Interval.Dropped
		}
	}
	return n, dropped
}

// One namespace's burst (a tenant's namespace leaving the profile's selection with thousands of
// open findings closes them all at once; one that has thousands of failing containers opens
// them at one evaluation) filled the queue the whole cluster shares, with the store writable:
// the next namespace's records were dropped, and the journal.gap that followed made every
// namespace's state unknown in the evidence pack until a record stated it again. A namespace
// now fills at most three quarters of the queue: the rest is kept for the others.
func TestOneNamespacesBurstLeavesRoomForTheOthers(t *testing.T) {
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The flush interval is an hour: the queue is written only when someone waits.
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: time.Hour, Capacity: 8})
	stop := runQueue(t, q)
	q.Add(tenantRecords("tenant", 8)...)
	other := tenantRecords("other", 1)
	if !q.AddAndWait(context.Background(), 10*time.Second, other...) {
		t.Error("the other namespace's record was not written")
	}
	stop()
	recs := allRecords(t, store)
	if n, _ := countIn(recs, "other", FindingOpened); n != 1 {
		t.Errorf("the other namespace's record was dropped: %d of 1 written", n)
	}
	if n, dropped := countIn(recs, "tenant", FindingOpened); n != 6 || dropped != 2 {
		t.Errorf("the tenant's burst: %d written and %d dropped, want 6 (three quarters of the queue) and 2", n, dropped)
	}
	for _, r := range recs {
		if r.Type == JournalGap && strings.Contains(r.Interval.Reason, "not writable") {
			t.Errorf("the gap says %q: the store was writable all along", r.Interval.Reason)
		}
	}
}

// An evaluation whose transitions outnumber the queue's room (a namespace with thousands of
// failing containers, evaluated for the first time) had the excess dropped though the store
// was writable, and a journal.gap said "the journal store was not writable"; AddAndWait said
// the records were written. With the store writable, it now waits for the writer to take them.
func TestAnEvaluationLargerThanTheQueueWaitsForTheWriter(t *testing.T) {
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: time.Hour, Capacity: 8})
	stop := runQueue(t, q)
	if !q.AddAndWait(context.Background(), 10*time.Second, tenantRecords("tenant", 20)...) {
		t.Error("AddAndWait says the records were not written")
	}
	stop()
	recs := allRecords(t, store)
	if n, dropped := countIn(recs, "tenant", FindingOpened); n != 20 || dropped != 0 {
		t.Errorf("%d of 20 records written, %d dropped, with the store writable", n, dropped)
	}
}

// drained waits until the writer has taken every queued record from the channel.
func drained(t *testing.T, q *Queue) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(q.ch) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not take the queued records")
		}
		runtime.Gosched()
	}
}

// While the store is not writable, records wait in the queue up to its capacity, and past it the
// oldest were dropped, whoever's they were: a tenant's burst during an outage pushed out every
// other namespace's transitions that came before it. The namespaces with the most records waiting
// now lose theirs first (their oldest), so a namespace's burst costs its own records.
func TestWhileTheStoreIsDownABurstDropsItsOwnRecordsFirst(t *testing.T) {
	fs, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: fs}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: 5 * time.Millisecond, Capacity: 8})
	stop := runQueue(t, q)
	defer stop()
	store.fail.Store(true)
	// The other namespace's transitions first, then the tenant's burst, a queue's share at a time.
	other := tenantRecords("other", 2)
	q.Add(other...)
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
	recs := allRecords(t, fs)
	if n, _ := countIn(recs, "other", FindingOpened); n != 2 {
		t.Errorf("the other namespace's 2 records: %d written, its records dropped for the tenant's burst", n)
	}
	if n, dropped := countIn(recs, "tenant", FindingOpened); n+dropped != 18 || dropped == 0 {
		t.Errorf("the tenant's 18 records: %d written, %d dropped", n, dropped)
	}
}

// trim levels the namespaces down, the largest first and each one's oldest records first,
// and drops records of no namespace only when the namespaced ones are not enough.
func TestTrimLevelsTheLargestNamespacesDown(t *testing.T) {
	rec := func(ns string, minute int) Record {
		return Record{Type: FindingOpened, Time: t0.Add(time.Duration(minute) * time.Minute), Namespace: ns}
	}
	for name, tc := range map[string]struct {
		batch []Record
		n     int
		kept  []string // namespace@minute
	}{
		"one namespace's burst loses its oldest records": {
			batch: []Record{rec("b", 0), rec("a", 1), rec("a", 2), rec("a", 3), rec("a", 4), rec("c", 5)},
			n:     2, kept: []string{"b@0", "a@3", "a@4", "c@5"},
		},
		"two large namespaces are levelled together": {
			batch: []Record{rec("a", 0), rec("b", 1), rec("a", 2), rec("b", 3), rec("a", 4), rec("b", 5), rec("c", 6)},
			n:     3, kept: []string{"b@3", "a@4", "b@5", "c@6"},
		},
		"records of no namespace go last": {
			batch: []Record{rec("", 0), rec("a", 1), rec("", 2), rec("b", 3)},
			n:     3, kept: []string{"@2"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			kept, from, _ := trim(slices.Clone(tc.batch), tc.n)
			var got []string
			for _, r := range kept {
				got = append(got, fmt.Sprintf("%s@%d", r.Namespace, int(r.Time.Sub(t0).Minutes())))
			}
			if !slices.Equal(got, tc.kept) {
				t.Errorf("kept %v, want %v", got, tc.kept)
			}
			if len(kept) != len(tc.batch)-tc.n || from.IsZero() {
				t.Errorf("kept %d of %d dropping %d; earliest dropped %v", len(kept), len(tc.batch), tc.n, from)
			}
		})
	}
}

// hangingStore's writes wait for release once block is set: a store that stopped answering.
type hangingStore struct {
	Store
	block   atomic.Bool
	release chan struct{}
}

func (s *hangingStore) Put(ctx context.Context, key string, data []byte) error {
	if s.block.Load() {
		<-s.release
	}
	return s.Store.Put(ctx, key, data)
}

// AddAndWait's timeout bounds how long an evaluation waits for its records, also while it waits
// for room in the queue: the wait for room took the timer's tick, and the wait for the write
// that followed had no timeout left, so an evaluation waited as long as a hanging store did.
func TestAddAndWaitReturnsInTimeWhileTheStoreHangs(t *testing.T) {
	fs, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &hangingStore{Store: fs, release: make(chan struct{})}
	q, _ := NewQueue(QueueOptions{Store: store, Cluster: "prod", FlushInterval: time.Hour, Capacity: 8})
	stop := runQueue(t, q)
	defer stop()
	defer close(store.release)
	if !q.AddAndWait(context.Background(), 10*time.Second, Record{Type: OperatorHeartbeat, Time: t0}) {
		t.Fatal("not written")
	}
	store.block.Store(true)
	full := make([]Record, 8)
	for i := range full {
		full[i] = Record{Type: OperatorHeartbeat, Time: t0.Add(time.Duration(i+1) * time.Second)}
	}
	q.Add(full...)
	returned := make(chan bool, 1)
	go func() {
		returned <- q.AddAndWait(context.Background(), 100*time.Millisecond, tenantRecords("tenant", 1)...)
	}()
	select {
	case written := <-returned:
		if written {
			t.Error("AddAndWait says its record was written to a store that hangs")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("AddAndWait with a timeout of 100ms did not return within 10s while the store hung")
	}
}

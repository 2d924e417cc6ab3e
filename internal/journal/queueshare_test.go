package journal

import (
	"context"
	"fmt"
	"strings"
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

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace admin flapping their namespace's label takes it out of a profile's selection, and
// the journal closes every open finding of it at once (out of scope). Those records went to the
// queue without waiting: a namespace with more open findings than the queue had room for (its
// share of 50,000 records) had the rest dropped with the store writable, and the journal.gap that
// says so makes every namespace's state unknown in the evidence pack until a record states it
// again (for a namespace that does not change, the next daily attestation). The closings now
// wait for the writer, as an evaluation's transitions do.
func TestANamespaceLeavingWithManyOpenFindingsDropsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: time.Hour, Capacity: 8, Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h := newJournalHook(q, clock.RealClock{}, time.Hour)
	stopped := make(chan struct{})
	go func() { _ = q.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	<-q.Ready()
	if !h.ready() {
		t.Fatal("the journal's state was not restored")
	}
	const open = 20
	h.mu.Lock()
	tr := h.track("p", "tenant")
	tr.observed = true
	for i := range open {
		f := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", fmt.Sprint("api-", i), "setup"), Check: "wl-privileged",
			Kind: "Deployment", Name: fmt.Sprint("api-", i), Container: "setup", FirstSeen: time.Now().Add(-time.Hour)}
		tr.open[f.Key] = f
	}
	h.mu.Unlock()
	h.forgetNamespace(ctx, "p", "tenant")
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	closed, left := 0, 0
	for _, r := range namespaceRecords(t, store, "p", "tenant") {
		switch r.Type {
		case journal.FindingClosed:
			closed++
		case journal.NamespaceLeft:
			left++
		}
	}
	if closed != open || left != 1 {
		t.Errorf("journaled %d of %d findings closed and %d namespace.left, want all and one", closed, open, left)
	}
	if _, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: "own", OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Type == journal.JournalGap {
			t.Errorf("a journal.gap with the store writable: %+v", r.Interval)
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
}

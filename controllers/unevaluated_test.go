package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestANamespaceGoneIsJournaledNeverEvaluatedOnlyWhenItWasNot: a request that finds a selected
// namespace gone journals it as in scope and never evaluated only when the journal holds no
// record of it: not a namespace that was judged and left already (a second request for it, after
// the one or the full evaluation that journaled it left, must not call it never judged), and not
// twice for two requests.
func TestANamespaceGoneIsJournaledNeverEvaluatedOnlyWhenItWasNot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store, q, h, stop := ownJournal(t, ctx, cancel)
	defer stop()
	if !h.ready() {
		t.Fatal("the journal's state was not restored")
	}
	created := time.Now().Add(-time.Hour)
	h.mu.Lock()
	h.track("p", "judged").observed = true
	h.mu.Unlock()
	h.forgetNamespace(ctx, "p", "judged")
	h.unevaluated("p", "judged", created, time.Now())
	h.unevaluated("p", "never", created, time.Now())
	h.unevaluated("p", "never", created, time.Now().Add(time.Second))
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	never := func(ns string) (n int) {
		for _, r := range namespaceRecords(t, store, "p", ns) {
			if r.Type == journal.NamespaceLeft && r.Interval != nil && r.Interval.Reason == journal.ReasonNeverEvaluated {
				n++
			}
		}
		return n
	}
	if n := never("judged"); n != 0 {
		t.Errorf("a namespace judged and left is journaled %d times as never evaluated", n)
	}
	if n := never("never"); n != 1 {
		t.Errorf("a namespace never evaluated is journaled %d times as such, want once", n)
	}
}

package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// delays records what a handler queues as client-go's delaying queue holds it: each request
// once, due at the earliest time it was added for.
type delays struct {
	queue
	now func() time.Time
	due map[reconcile.Request]time.Time
}

func (d *delays) AddAfter(req reconcile.Request, after time.Duration) {
	at := d.now().Add(after)
	if prev, ok := d.due[req]; !ok || at.Before(prev) {
		d.due[req] = at
	}
}

// A namespace admin flipping an object between failing and passing every second had their
// namespace evaluated after each flip (CoalesceDelay, 250 ms), and every evaluation journaled
// each finding opened or closed: 21,600 records an hour for a container failing 12 checks
// flipped every 4 s (BenchmarkPackWithAFlappingTenant), every one of them read by every evidence
// pack of the cluster. A namespace changed within the pace of its last evaluation now waits
// until the pace has passed, however many changes come meanwhile; one that changes now and then
// is evaluated CoalesceDelay after its change, as before.
func TestAChurningNamespaceIsEvaluatedAtMostOncePerPace(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	q := &delays{now: clock.Now, due: map[reconcile.Request]time.Time{}}
	tenant := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "tenant", Name: "soc2"}}
	quiet := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "quiet", Name: "soc2"}}
	p := &pace{every: 30 * time.Second, now: clock.Now}
	handler := func(req reconcile.Request) *delayedHandler {
		return &delayedHandler{delay: 250 * time.Millisecond, pace: p,
			mapFn: func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{req} }}
	}
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "flapping"}}
	change := func(req reconcile.Request) {
		handler(req).Update(context.Background(), event.UpdateEvent{ObjectOld: obj, ObjectNew: obj}, q)
	}
	evaluations := map[reconcile.Request]int{}
	// step moves the clock and evaluates what is due, as the reconciler does (noting it).
	step := func(d time.Duration) {
		clock.Step(d)
		for req, at := range q.due {
			if !at.After(clock.Now()) {
				delete(q.due, req)
				p.evaluated(req)
				evaluations[req]++
			}
		}
	}
	change(tenant)
	step(250 * time.Millisecond)
	if evaluations[tenant] != 1 {
		t.Fatalf("a namespace that had not changed lately was not evaluated 250ms after its change")
	}
	// It changes every second for a minute; another namespace changes once meanwhile.
	for i := range 60 {
		change(tenant)
		if i == 20 {
			change(quiet)
			step(250 * time.Millisecond)
			if evaluations[quiet] != 1 {
				t.Errorf("another namespace was not evaluated 250ms after its change")
			}
			step(750 * time.Millisecond)
			continue
		}
		step(time.Second)
	}
	step(30 * time.Second)
	// paceBurst evaluations in a row, then one every 30 s (and a fraction earned meanwhile), and
	// the last change's: 61 before the pace.
	if n := evaluations[tenant]; n < paceBurst+2 || n > paceBurst+4 {
		t.Errorf("a namespace changed every second for a minute was evaluated %d times, want %d in a row and then one every %s", n, paceBurst, p.every)
	}
}

// The pace applied from a namespace's second change: a fix and another fix a few seconds apart
// (or the operator-at-scale benchmark's changes, 280 ms each before the pace) had the second
// wait up to the pace, 8 s in the benchmark. A namespace gets paceBurst evaluations in a row
// 250 ms after each change before the pace applies.
func TestAFewChangesInARowAreEachEvaluatedAtOnce(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	q := &delays{now: clock.Now, due: map[reconcile.Request]time.Time{}}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: "soc2"}}
	p := &pace{every: DefaultMinNamespaceInterval, now: clock.Now}
	h := &delayedHandler{delay: 250 * time.Millisecond, pace: p,
		mapFn: func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{req} }}
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app"}}
	paced := 0
	for i := range 30 {
		h.Update(context.Background(), event.UpdateEvent{ObjectOld: obj, ObjectNew: obj}, q)
		got := q.due[req].Sub(clock.Now())
		if got != 250*time.Millisecond && paced == 0 {
			paced = i + 1
		}
		if i < paceBurst && got != 250*time.Millisecond {
			t.Fatalf("change %d, 2 s after the one before: evaluated after %s, want 250ms", i+1, got)
		}
		clock.Step(got)
		delete(q.due, req)
		p.evaluated(req)
		clock.Step(2*time.Second - min(got, 2*time.Second))
	}
	// Kept changing every 2 s, it is paced once the evaluations in hand are spent (one earned
	// every 10 s): from about the 13th change.
	if paced == 0 || paced > 15 {
		t.Errorf("changed every 2 s, the namespace was first paced at change %d of 30, want after %d and by 15", paced, paceBurst)
	}
}

package controllers

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const (
	// maxOwnWrites bounds the resourceVersions remembered per report: a create, a restore and
	// a status update are at most three writes before their events arrive.
	maxOwnWrites = 8
	// ownWriteWait bounds how long a report's watch event waits for the operator's write of
	// that report still in flight (its response is normally already on its way).
	ownWriteWait = 10 * time.Second
)

// ownWrites remembers the resourceVersions of the operator's own writes to each report, so
// that the watch event of such a write does not evaluate the namespace again. Any other
// writer (a person's edit of the status, labels or owner, a forged report) gives the report
// a resourceVersion the operator did not write, and its event passes.
//
// The watch event of a write can arrive before the write's response: an event for a report
// with a write in flight waits for that write to be recorded before it is judged.
type ownWrites struct {
	mu       sync.Mutex
	versions map[types.NamespacedName][]string
	inFlight map[types.NamespacedName]int
	idle     map[types.NamespacedName]chan struct{} // closed when inFlight drops to 0
}

func newOwnWrites() *ownWrites {
	return &ownWrites{
		versions: map[types.NamespacedName][]string{},
		inFlight: map[types.NamespacedName]int{},
		idle:     map[types.NamespacedName]chan struct{}{},
	}
}

// write runs fn, a write of obj, and on success remembers the resourceVersion the API server
// returned in obj. A nil receiver only runs fn (reconcilers built without Setup).
func (w *ownWrites) write(obj client.Object, fn func() error) error {
	if w == nil {
		return fn()
	}
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	if w.inFlight[key] == 0 {
		w.idle[key] = make(chan struct{})
	}
	w.inFlight[key]++
	w.mu.Unlock()

	err := fn()

	w.mu.Lock()
	defer w.mu.Unlock()
	if rv := obj.GetResourceVersion(); err == nil && rv != "" {
		v := append(w.versions[key], rv)
		if len(v) > maxOwnWrites {
			v = v[len(v)-maxOwnWrites:]
		}
		w.versions[key] = v
	}
	if w.inFlight[key]--; w.inFlight[key] == 0 {
		close(w.idle[key])
		delete(w.idle, key)
		delete(w.inFlight, key)
	}
	return err
}

// isOwn says whether obj is, as it stands, a version the operator wrote. Events arrive in
// order, so the versions written before it are forgotten with it.
func (w *ownWrites) isOwn(obj client.Object) bool {
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	idle := w.idle[key]
	w.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-time.After(ownWriteWait):
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	v := w.versions[key]
	i := slices.Index(v, obj.GetResourceVersion())
	if i < 0 {
		return false
	}
	if rest := v[i+1:]; len(rest) > 0 {
		w.versions[key] = slices.Clone(rest)
	} else {
		delete(w.versions, key)
	}
	return true
}

func (w *ownWrites) forget(obj client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.versions, client.ObjectKeyFromObject(obj))
}

// notOwnWrite passes every report event except the creates and updates the operator itself
// wrote: a person's edit, a deletion or a forged report still evaluate the namespace (and so
// are restored), while the operator's own write does not evaluate it a second time. watched,
// when set (tests), is told of each event dropped.
func (w *ownWrites) notOwnWrite(watched func(client.Object, []reconcile.Request)) predicate.Predicate {
	pass := func(obj client.Object) bool {
		if !w.isOwn(obj) {
			return true
		}
		if watched != nil {
			watched(obj, nil)
		}
		return false
	}
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return pass(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return pass(e.ObjectNew) },
		DeleteFunc: func(e event.DeleteEvent) bool {
			w.forget(e.Object)
			return true
		},
	}
}

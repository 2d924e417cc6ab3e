package controllers

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// maxOwnWrites bounds the resourceVersions remembered per report: a create, a restore and a
// status update are at most three writes before their events arrive.
const maxOwnWrites = 8

// ownWrites remembers the resourceVersions of the operator's own writes to each report, so
// that the watch event of such a write does not evaluate the namespace again. Any other
// writer (a person's edit of the status, labels or owner, a forged report) gives the report
// a resourceVersion the operator did not write, and its event passes.
type ownWrites struct {
	mu       sync.Mutex
	versions map[types.NamespacedName][]string
}

func newOwnWrites() *ownWrites {
	return &ownWrites{versions: map[types.NamespacedName][]string{}}
}

// record notes that the operator wrote obj, as the API server returned it. A nil receiver
// records nothing (reconcilers built without Setup).
func (w *ownWrites) record(obj client.Object) {
	if w == nil || obj.GetResourceVersion() == "" {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	w.mu.Lock()
	defer w.mu.Unlock()
	v := append(w.versions[key], obj.GetResourceVersion())
	if len(v) > maxOwnWrites {
		v = v[len(v)-maxOwnWrites:]
	}
	w.versions[key] = v
}

// isOwn says whether obj is, as it stands, a version the operator wrote. Events arrive in
// order, so the versions written before it are forgotten with it.
func (w *ownWrites) isOwn(obj client.Object) bool {
	key := client.ObjectKeyFromObject(obj)
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
// are restored), while the operator's own write does not evaluate it a second time.
func (w *ownWrites) notOwnWrite() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !w.isOwn(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !w.isOwn(e.ObjectNew) },
		DeleteFunc: func(e event.DeleteEvent) bool {
			w.forget(e.Object)
			return true
		},
	}
}

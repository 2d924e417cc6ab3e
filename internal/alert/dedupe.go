package alert

import (
	"container/list"
	"sync"
)

// recentKeys remembers the most recently added keys, up to a bound, forgetting the least
// recently seen first.
type recentKeys struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string, most recent at the front
	index map[string]*list.Element
}

func newRecentKeys(max int) *recentKeys {
	return &recentKeys{max: max, order: list.New(), index: map[string]*list.Element{}}
}

// add records key and reports whether it was new.
func (r *recentKeys) add(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.index[key]; ok {
		r.order.MoveToFront(e)
		return false
	}
	r.index[key] = r.order.PushFront(key)
	for r.order.Len() > r.max {
		oldest := r.order.Back()
		r.order.Remove(oldest)
		delete(r.index, oldest.Value.(string))
	}
	return true
}

// forget removes key, so that it is new again.
func (r *recentKeys) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.index[key]; ok {
		r.order.Remove(e)
		delete(r.index, key)
	}
}

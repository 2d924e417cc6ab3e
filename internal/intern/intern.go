// Package intern shares the bytes of equal long strings among the objects of the operator's
// informer cache, without keeping any string alive: a string is held by the objects that hold
// it, and forgotten once none does.
package intern

import (
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"
	"weak"
)

// Strings shares the bytes of equal strings of at least a given length (Of). Safe for use by
// several goroutines (the informers' transforms run in one each).
type Strings struct {
	min  int
	seed maphash.Seed
	mu   sync.Mutex
	// held are the strings shared, by their hash (a seed drawn at random: no one outside the
	// process can choose strings that collide), each as a weak pointer to its bytes and its
	// length: the table keeps none of them alive.
	held map[uint64][]held
}

type held struct {
	bytes weak.Pointer[byte]
	n     int
}

// New is a table of the strings of min bytes or more (shorter ones are not worth an entry,
// which takes about a hundred bytes with the runtime's weak handle and cleanup), and never of
// those under 16 bytes, which the runtime may allocate several to a block and so never free
// one by one.
func New(min int) *Strings {
	return &Strings{min: max(min, 16), seed: maphash.MakeSeed(), held: map[uint64][]held{}}
}

// Of is s, or a string equal to it whose bytes an earlier call returned and something still
// holds: the caller keeps the result instead of s, and equal strings take the memory of one.
// A string shorter than the table's minimum is s itself.
func (t *Strings) Of(s string) string {
	if len(s) < t.min {
		return s
	}
	h := maphash.String(t.seed, s)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.held[h] {
		if e.n != len(s) {
			continue
		}
		// The pointer Value returns keeps the bytes alive while they are compared, and in the
		// string returned after.
		if p := e.bytes.Value(); p != nil {
			if shared := unsafe.String(p, e.n); shared == s {
				return shared
			}
		}
	}
	// A copy of its own: s may be a part of a larger allocation (a decoder's buffer) that the
	// table's weak pointer, to the start of an allocation, would not follow.
	own := strings.Clone(s)
	p := unsafe.StringData(own)
	t.held[h] = append(t.held[h], held{bytes: weak.Make(p), n: len(own)})
	runtime.AddCleanup(p, t.forget, h)
	return own
}

// forget drops the entries under hash h whose bytes are gone.
func (t *Strings) forget(h uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	left := slices.DeleteFunc(t.held[h], func(e held) bool { return e.bytes.Value() == nil })
	if len(left) == 0 {
		delete(t.held, h)
	} else {
		t.held[h] = left
	}
}

// Len is the number of strings in the table: those something may still hold.
func (t *Strings) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, es := range t.held {
		n += len(es)
	}
	return n
}

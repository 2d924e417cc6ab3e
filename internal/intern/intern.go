// Package intern shares the bytes of equal long strings among the objects of the operator's
// informer cache, without keeping any string alive: a string is held by the objects that hold
// it, and forgotten once none does.
package intern

import (
	"hash/maphash"
	"maps"
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
	// length: the table keeps none of them alive. Of a string whose hash another holds, the
	// bytes are not shared.
	held map[uint64]held
	// swept is how many entries held had when those whose bytes are gone were last dropped:
	// they are dropped again once it holds twice as many, which costs each entry added O(1).
	swept int
}

type held struct {
	bytes weak.Pointer[byte]
	n     int
}

// New is a table of the strings of min bytes or more (shorter ones are not worth an entry,
// which takes about 60 bytes with the runtime's weak handle), and never of those under 16
// bytes, which the runtime may allocate several to a block and so never free one by one.
func New(min int) *Strings {
	return &Strings{min: max(min, 16), seed: maphash.MakeSeed(), held: map[uint64]held{}}
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
	if e, ok := t.held[h]; ok {
		// The pointer Value returns keeps the bytes alive while they are compared, and in the
		// string returned after.
		p := e.bytes.Value()
		if p != nil {
			if shared := unsafe.String(p, e.n); shared == s {
				return shared
			}
			return s // another string of the same hash, which keeps its entry
		}
	}
	if len(t.held) >= 2*max(t.swept, 1024) {
		maps.DeleteFunc(t.held, func(_ uint64, e held) bool { return e.bytes.Value() == nil })
		t.swept = len(t.held)
	}
	// A copy of its own: s may be a part of a larger allocation (a decoder's buffer) that the
	// table's weak pointer, to the start of an allocation, would not follow.
	own := strings.Clone(s)
	t.held[h] = held{bytes: weak.Make(unsafe.StringData(own)), n: len(own)}
	return own
}

// Len is the number of strings in the table that something still holds.
func (t *Strings) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.held {
		if e.bytes.Value() != nil {
			n++
		}
	}
	return n
}

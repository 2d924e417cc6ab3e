package hugeheap

import (
	"testing"
	"time"
)

// steps stands in for advice's reserve, collection and limit: the collection waits for release.
type steps struct {
	release   chan struct{}
	collected bool
	limit     int64
}

func newAdvice(s *steps, reserved bool) *advice {
	return &advice{
		freed:    make(chan struct{}),
		reserve:  func() bool { return reserved },
		collect:  func() { <-s.release; s.collected = true },
		setLimit: func(limit int64) { s.limit = limit },
	}
}

// deadlockGuard is how long a test waits for a call that must return at once before it says the
// call blocked. Passing tests never wait for it.
const deadlockGuard = time.Minute

// At start-up the initialiser must not wait for the collection of the reserve (the other
// packages' initialisers run meanwhile), and Advise must: a scan reads nothing before the
// reserve is collected and the start-up limit set (TestTheCollectorWaitsAtStartUp holds that
// for the process's own advice, in a child started as a scan).
func TestStartUpAdviceCollectsBesideTheInitialisers(t *testing.T) {
	s := &steps{release: make(chan struct{})}
	a := newAdvice(s, true)

	returned := make(chan struct{})
	go func() {
		a.advise(true, ScanMemoryLimit)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(deadlockGuard):
		t.Fatal("advise at start-up waited for the collection of the reserve")
	}

	select {
	case <-a.freed:
		t.Fatal("the advice was done before the collection ran")
	default:
	}

	close(s.release)
	a.wait()
	if !s.collected || s.limit != ScanMemoryLimit {
		t.Fatalf("wait returned before the collection (%v) and the limit (%d, want %d)", s.collected, s.limit, ScanMemoryLimit)
	}
}

// From any other caller (Advise first), and where nothing was reserved, the advice is done
// before advise returns.
func TestAdviceElsewhereIsDoneWhenItReturns(t *testing.T) {
	for _, tc := range []struct {
		name            string
		async, reserved bool
		limit           int64
	}{
		{"Advise first", false, true, 0},
		{"at start-up, nothing reserved", true, false, ScanMemoryLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &steps{release: make(chan struct{})}
			close(s.release)
			a := newAdvice(s, tc.reserved)
			a.advise(tc.async, tc.limit)
			select {
			case <-a.freed:
			default:
				t.Fatal("advise returned before the advice was done")
			}
			if s.collected != tc.reserved || s.limit != tc.limit {
				t.Errorf("collected %v (want %v), limit %d (want %d)", s.collected, tc.reserved, s.limit, tc.limit)
			}
		})
	}
}

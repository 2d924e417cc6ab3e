package scan

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/soc2-operator/soc2-operator/internal/hugeheap"
)

// memoryFloor is the least soft memory limit a scan sets (see memoryBudget); the limit it runs
// under from start-up too (internal/hugeheap).
const memoryFloor = hugeheap.ScanMemoryLimit

// memoryBudget keeps a scan's memory near flat, and collects only when memory reaches it. Go's
// collector lets the heap grow to twice what was live after the last collection (GOGC=100): at
// the end of a 20,000-object scan about 65 MB is live (the findings, and what cross-object
// checks keep), so the heap peaked at about 115 MB and the process at 200 MiB. With a soft
// memory limit (debug.SetMemoryLimit) of memoryFloor the collector runs earlier instead. After
// every collection the limit is raised to 1.5 times the live heap (watch), so that on a larger
// input the collector never runs without pause (at worst as with GOGC=50), in every phase of
// the scan. Raised only as files were read, the limit stayed where reading left it while the
// end of a 60,000-object scan grew the live heap from 140 to 165 MB: the collector then ran
// back to back, 20 cycles in 5 s with the goal 1-4 MB above the live heap.
//
// Under the limit the collector is off (GOGC=off with a memory limit, as the Go GC guide
// describes for a process that knows its memory): a scan's heap is mostly what it keeps, so
// the cycles GOGC=100 ran while it grew found little to free. A 3,000-object scan then runs
// no collection at all. Measured against GOGC=100 under the same limit (medians of 8
// interleaved runs): 3,000 objects 0.220 -> 0.195 s, 20,000 objects 0.94 -> 0.88 s; peak RSS
// 79-83 -> 99-101 MiB at 3,000 (nothing is collected, so all it allocates stays mapped) and
// 151-162 -> 162-164 MiB at 20,000. A scan process has the collector off from start-up too,
// under the same limit (internal/hugeheap's holdCollector, which says what that gained).
//
// The budget covers reading, judging and building the report, and writing the summary table:
// stop puts the limit and the collector back (Go's defaults, no limit and GOGC=100, where
// GOMEMLIMIT and GOGC are not set). The other outputs are written after it stops (see Run). A
// GOMEMLIMIT set by the user is left as it is, and then the collector too; a GOGC set by the
// user is kept, under the budget's limit.
type memoryBudget struct {
	// mu guards the fields below: adjust runs after each collection on the runtime's cleanup
	// goroutine (watch), stop on the scan's.
	mu    sync.Mutex
	on    bool
	limit int64
	// gcOff is whether the budget turned the collector off (GOGC is not set).
	gcOff bool
	// liveHeap returns the heap live after the last collection (liveHeap; tests give their
	// own to newMemoryBudget).
	liveHeap func() int64
}

func startMemoryBudget() *memoryBudget { return newMemoryBudget(liveHeap) }

func newMemoryBudget(live func() int64) *memoryBudget {
	b := &memoryBudget{}
	if os.Getenv("GOMEMLIMIT") != "" {
		return b
	}
	b.on = true
	b.liveHeap = live
	b.adjust()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1) // off already when start-up turned it off (internal/hugeheap)
		b.gcOff = true
	}
	b.watch()
	return b
}

// cycleSentinel is what watch lets go of to hear of the next collection: an object with a
// pointer, so that the runtime's tiny allocator does not place it beside others that would
// keep it reachable.
type cycleSentinel struct{ _ *byte }

// watch adjusts the limit after every collection while the budget is on. The live heap is
// known only after a collection, so that is when the limit can follow it, whatever the scan is
// doing: reading files, or judging at the end and building the report, which read none. The
// runtime runs a cleanup of an object it found unreachable after the collection that found
// it; each arms the next.
func (b *memoryBudget) watch() {
	runtime.AddCleanup(new(cycleSentinel), func(b *memoryBudget) {
		if b.adjust() {
			b.watch()
		}
	}, b)
}

// liveHeap is the heap live after the last collection, as the runtime counts it.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// adjust raises the limit from the heap live after the last collection to the larger of
// memoryFloor and 1.5 times it, and reports whether the budget is on. It never lowers it: once
// the held objects are let go (after the end of the scan) the memory is still the process's,
// and under a lower limit the collector would run back to back until the runtime had handed
// it back to the kernel.
func (b *memoryBudget) adjust() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.on {
		return false
	}
	if limit := max(memoryFloor, b.liveHeap()/2*3); limit > b.limit {
		b.limit = limit
		debug.SetMemoryLimit(limit)
	}
	return true
}

// stop puts back Go's defaults for the limit and the collector; once stopped, the budget
// does nothing.
func (b *memoryBudget) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.on {
		// Go's defaults, which GOMEMLIMIT and GOGC being unset mean: whatever start-up set
		// (internal/hugeheap) is not put back.
		if b.gcOff {
			debug.SetGCPercent(100)
		}
		debug.SetMemoryLimit(math.MaxInt64)
		b.on = false
	}
}

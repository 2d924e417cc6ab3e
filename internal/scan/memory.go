package scan

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// memoryFloor is the least soft memory limit a scan sets (see memoryBudget).
const memoryFloor = 120 << 20

// memoryBudget keeps a scan's memory near flat. Go's collector lets the heap grow to twice
// what was live after the last collection (GOGC=100): at the end of a 20,000-object scan about
// 65 MB is live (the findings, and what cross-object checks keep), so the heap peaked at about
// 115 MB and the process at 200 MiB. With a soft memory limit (debug.SetMemoryLimit) of
// memoryFloor the collector runs earlier instead: there about 0.1 s more CPU for 30-40 MiB less.
// As the live heap grows the limit is raised to 1.5 times it, so that on a larger input the
// collector never runs without pause (at worst as with GOGC=50). The budget covers reading,
// judging and building the report, not writing it. A GOMEMLIMIT set by the user is left as it
// is.
type memoryBudget struct {
	on          bool
	limit, prev int64
	sinceAdjust int
	// liveHeap returns the heap live after the last collection (liveHeap; tests replace it).
	liveHeap func() int64
}

func startMemoryBudget() *memoryBudget {
	b := &memoryBudget{}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return b
	}
	b.on, b.prev = true, debug.SetMemoryLimit(-1)
	b.liveHeap = liveHeap
	b.adjust()
	return b
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

// adjust sets the limit from the heap live after the last collection: the larger of
// memoryFloor and 1.5 times it.
func (b *memoryBudget) adjust() {
	if !b.on {
		return
	}
	if limit := max(memoryFloor, b.liveHeap()/2*3); limit != b.limit {
		b.limit = limit
		debug.SetMemoryLimit(limit)
	}
}

// read is called as objects are read: it adjusts the limit every 32 calls.
func (b *memoryBudget) read() {
	if b.sinceAdjust++; b.sinceAdjust >= 32 {
		b.sinceAdjust = 0
		b.adjust()
	}
}

// stop puts back the limit there was before; once stopped, the budget does nothing.
func (b *memoryBudget) stop() {
	if b.on {
		debug.SetMemoryLimit(b.prev)
		b.on = false
	}
}

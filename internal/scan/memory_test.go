package scan

import (
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
)

// heldMemory is the memory a soft limit governs: all the runtime has mapped, less the heap it
// has handed back to the kernel.
func heldMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// TestMemoryBudget: a scan sets a soft memory limit of at least memoryFloor and puts back the
// limit there was; with GOMEMLIMIT set by the user it leaves the limit alone.
func TestMemoryBudget(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Run("GOMEMLIMIT unset", func(t *testing.T) {
		b := startMemoryBudget()
		if got := debug.SetMemoryLimit(-1); !b.on || got < memoryFloor || got == before {
			t.Errorf("limit during the scan: %d (on: %v), want at least %d", got, b.on, memoryFloor)
		}
		b.stop()
		if got := debug.SetMemoryLimit(-1); got != before {
			t.Errorf("limit after the scan: %d, want %d back", got, before)
		}
	})
	t.Run("raised with the live heap", func(t *testing.T) {
		// The live heap is read after every collection on the runtime's goroutine too, so it
		// is set through an atomic, not by replacing the budget's function.
		var live atomic.Int64
		b := newMemoryBudget(live.Load)
		defer b.stop()
		for _, c := range []struct{ live, want int64 }{
			{10 << 20, memoryFloor},        // small inputs: the floor
			{memoryFloor / 2, memoryFloor}, // 1.5 times it is still under the floor
			{200 << 20, 300 << 20},         // larger: 1.5 times the live heap, never below it
			// Not lowered as the live heap shrinks: the memory is held already (the peak is
			// past), and under a lower limit the collector would run back to back until the
			// runtime had handed it back to the kernel (at 60,000 objects, 8 cycles in 0.5 s
			// after the held objects were let go, each with the goal at the live heap).
			{100 << 20, 300 << 20},
		} {
			live.Store(c.live)
			b.adjust()
			if got := debug.SetMemoryLimit(-1); got != c.want {
				t.Errorf("live heap %d MiB: limit %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
			}
		}
	})
	t.Run("raised after a collection with no file read", func(t *testing.T) {
		// The end of a scan (judging what cross-object checks need, building the report)
		// reads no file, and its live heap grows: at 60,000 objects from 140 to 165 MB, under a
		// limit left where reading had left it, so the collector ran without pause for 5 of the
		// scan's 12 seconds.
		t.Setenv("GOMEMLIMIT", "")
		var live atomic.Int64
		live.Store(memoryFloor / 2)
		b := newMemoryBudget(live.Load)
		defer b.stop()
		live.Store(400 << 20)
		want := int64(600 << 20)
		// The budget hears of a collection after it (a cleanup on the runtime's goroutine); a
		// few more collections let that run.
		for range 100 {
			if debug.SetMemoryLimit(-1) == want {
				return
			}
			runtime.GC()
			runtime.Gosched()
		}
		t.Errorf("limit after 100 collections with 400 MiB live: %d MiB, want %d MiB (1.5 times it)", debug.SetMemoryLimit(-1)>>20, want>>20)
	})
	t.Run("not set again once stopped", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "")
		var live atomic.Int64
		live.Store(memoryFloor / 2)
		b := newMemoryBudget(live.Load)
		b.stop()
		want := debug.SetMemoryLimit(-1) // Go's default, as stop puts it back
		live.Store(400 << 20)
		for range 10 {
			runtime.GC()
			runtime.Gosched()
		}
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("limit after the budget stopped and 10 collections: %d MiB, want %d MiB as stop left it", got>>20, want>>20)
		}
	})
	t.Run("the collector waits for the limit", func(t *testing.T) {
		percent := gcPercent()
		b := startMemoryBudget()
		if got := gcPercent(); got != -1 {
			t.Errorf("GC percent during the scan: %d, want -1 (off until the memory limit)", got)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 32 {
			sink = make([]byte, 1<<20) // 32 MiB in all, well under the limit
		}
		runtime.ReadMemStats(&after)
		if after.NumGC != before.NumGC {
			t.Errorf("%d collections for 32 MiB under a limit of %d MiB, want none", after.NumGC-before.NumGC, b.limit>>20)
		}
		// The memory the limit governs, at its peak: what the runtime holds and has not handed
		// back to the kernel. Not the heap's address space, which on a busy machine runs ahead
		// of the limit (the collector's CPU cap lets the program allocate on), while the
		// scavenger hands what is free back.
		var peak uint64
		for range 4 * memoryFloor >> 20 {
			sink = make([]byte, 1<<20)
			for i := 0; i < len(sink); i += 4 << 10 {
				sink[i] = 1 // written, as what a scan reads is
			}
			peak = max(peak, heldMemory())
		}
		runtime.ReadMemStats(&after)
		t.Logf("%d collections; %d MiB held at the peak", after.NumGC-before.NumGC, peak>>20)
		if after.NumGC-before.NumGC < 2 {
			t.Errorf("%d collections for %d MiB of garbage under a limit of %d MiB, want the limit to hold", after.NumGC-before.NumGC, 4*memoryFloor>>20, b.limit>>20)
		}
		if peak > 2*memoryFloor {
			t.Errorf("%d MiB held at the peak for %d MiB of garbage under a limit of %d MiB", peak>>20, 4*memoryFloor>>20, b.limit>>20)
		}
		b.stop()
		if got := gcPercent(); got != percent {
			t.Errorf("GC percent after the scan: %d, want %d back", got, percent)
		}
	})
	t.Run("off since start-up", func(t *testing.T) {
		// A scan process starts with the collector off under a limit (internal/hugeheap);
		// once the budget stops, the collector runs as Go's defaults have it, GOGC=100 and no
		// limit, not off for good or under the start-up's limit.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryFloor))
		b := startMemoryBudget()
		b.stop()
		if got := gcPercent(); got != 100 {
			t.Errorf("GC percent after the scan: %d, want 100 (GOGC unset)", got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("memory limit after the scan: %d, want none (GOMEMLIMIT unset)", got)
		}
	})
	t.Run("GOGC set", func(t *testing.T) {
		t.Setenv("GOGC", "200")
		percent := gcPercent()
		b := startMemoryBudget()
		if got := gcPercent(); got != percent {
			t.Errorf("GC percent with GOGC set: %d, want %d untouched", got, percent)
		}
		b.stop()
	})
	t.Run("GOMEMLIMIT set", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "1GiB")
		b := startMemoryBudget()
		b.adjust()
		if got := debug.SetMemoryLimit(-1); b.on || got != before {
			t.Errorf("limit with GOMEMLIMIT set: %d (on: %v), want %d untouched", got, b.on, before)
		}
		if got := gcPercent(); got == -1 {
			t.Error("the collector is off with GOMEMLIMIT set: the limit is the user's, and may be far")
		}
		b.stop()
	})
}

// TestTheSummaryTableIsWrittenUnderTheBudget: the default output is written with the collector
// still off (putting it back first started a collection of all the scan allocated); the
// outputs that build a document as large as the report are written after the budget stops.
func TestTheSummaryTableIsWrittenUnderTheBudget(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent := gcPercent()
	for _, c := range []struct {
		args []string
		want int // GC percent at the first write
	}{
		{nil, -1},
		{[]string{"-o", "wide"}, percent},
		{[]string{"-o", "json"}, percent},
		{[]string{"-o", "sarif"}, percent},
	} {
		w := &gcPercentAtWrite{at: 1}
		Run(append([]string{"-f", "testdata/manifests/shop.yaml", "--fail-on", "none"}, c.args...), strings.NewReader(""), w, io.Discard, scanNow)
		if w.at != c.want {
			t.Errorf("%v: GC percent while the output was written %d, want %d", c.args, w.at, c.want)
		}
		if got := gcPercent(); got != percent {
			t.Errorf("%v: GC percent after the scan %d, want %d back", c.args, got, percent)
		}
	}
}

// gcPercentAtWrite records the GC percent at the first Write.
type gcPercentAtWrite struct{ at int }

func (w *gcPercentAtWrite) Write(p []byte) (int, error) {
	if w.at == 1 {
		w.at = gcPercent()
	}
	return len(p), nil
}

var sink []byte

// gcPercent is the collector's GOGC percent now.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

package scan

import (
	"runtime/debug"
	"testing"
)

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
		b := startMemoryBudget()
		defer b.stop()
		for _, c := range []struct{ live, want int64 }{
			{10 << 20, memoryFloor},        // small inputs: the floor
			{memoryFloor / 2, memoryFloor}, // 1.5 times it is still under the floor
			{200 << 20, 300 << 20},         // larger: 1.5 times the live heap, never below it
			{100 << 20, 150 << 20},         // and down again as the live heap shrinks
		} {
			b.liveHeap = func() int64 { return c.live }
			b.adjust()
			if got := debug.SetMemoryLimit(-1); got != c.want {
				t.Errorf("live heap %d MiB: limit %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
			}
		}
	})
	t.Run("GOMEMLIMIT set", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "1GiB")
		b := startMemoryBudget()
		b.adjust()
		if got := debug.SetMemoryLimit(-1); b.on || got != before {
			t.Errorf("limit with GOMEMLIMIT set: %d (on: %v), want %d untouched", got, b.on, before)
		}
		b.stop()
	})
}

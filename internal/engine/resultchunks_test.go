package engine

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
)

// TestResultChunks: results appended in pieces of any size come back, from any index to any
// other, as one list would give them, across chunk boundaries; release lets go only of chunks
// wholly before the index it is given. Every field of a result survives its packed form.
func TestResultChunks(t *testing.T) {
	checks := []*PlannedCheck{{index: 0}, {index: 1}, {index: 2}}
	objects := []*Object{nil, {Name: "a"}, {Name: "b"}}
	exceptions := []*ExceptionOutcome{nil, {Key: "ns/ex"}}
	rc := resultChunks{table: newResultTable(checks)}
	var flat []Result
	for i, piece := 0, 1; len(flat) < 3*chunkSize+100; piece = piece*7%1013 + 1 {
		rs := make([]Result, piece)
		for j := range rs {
			rs[j] = Result{Check: checks[i%3], Object: objects[j%3], Status: Status(i % 5), Exception: exceptions[i%2],
				Message: string(rune('a'+i%26)) + string(rune('a'+j%26))}
			if i%4 == 0 {
				rs[j].Container = fmt.Sprint("c", j%7)
			}
			i++
		}
		rc.append(rs)
		flat = append(flat, rs...)
	}
	if rc.n != len(flat) {
		t.Fatalf("holds %d results, want %d", rc.n, len(flat))
	}
	for _, r := range [][2]int{{0, len(flat)}, {chunkSize - 3, chunkSize + 3}, {5, 5}, {2*chunkSize - 1, 3*chunkSize + 1}, {len(flat) - 1, len(flat)}} {
		if got := rc.appendTo(nil, r[0], r[1]); !slices.Equal(got, flat[r[0]:r[1]]) {
			t.Errorf("results %d to %d differ from the list's", r[0], r[1])
		}
	}
	first := &rc.chunks[0][0]
	to := resultChunks{table: rc.table}
	rc.release(chunkSize+1, &to)
	if rc.chunks[0] != nil || rc.chunks[1] == nil {
		t.Fatalf("release(chunkSize+1) let go of chunks 0: %v, 1: %v; want only 0", rc.chunks[0] == nil, rc.chunks[1] == nil)
	}
	if got := rc.appendTo(nil, chunkSize+1, 2*chunkSize+5); !slices.Equal(got, flat[chunkSize+1:2*chunkSize+5]) {
		t.Error("results after a release differ from the list's")
	}
	// The chunk let go of is given to to emptied, and to fills it before making one.
	if len(to.spare) != 1 || len(to.spare[0]) != 0 || to.spare[0][:1][0] != (packedResult{}) {
		t.Fatalf("release gave %d spare chunks (want 1, empty and cleared)", len(to.spare))
	}
	to.appendRange(&rc, chunkSize+1, 3*chunkSize+7)
	if &to.chunks[0][0] != first || len(to.spare) != 0 {
		t.Error("appendRange made a new chunk with a spare one at hand")
	}
	got := to.take()
	if !slices.Equal(got, flat[chunkSize+1:3*chunkSize+7]) || len(got) != cap(got) {
		t.Errorf("take gave %d results (room %d), not results %d to %d", len(got), cap(got), chunkSize+1, 3*chunkSize+7)
	}
	if to.n != 0 || to.chunks != nil {
		t.Error("take left results in the list")
	}
}

// TestCollectBefore: a collection is run before an allocation that would pass the heap's goal,
// and none before one that would not.
func TestCollectBefore(t *testing.T) {
	forced := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC() // the heap is now well below its goal
	before := forced()
	collectBefore(0)
	if got := forced(); got != before {
		t.Fatalf("%d collections before an allocation of nothing", got-before)
	}
	collectBefore(1 << 50)
	if got := forced(); got != before+1 {
		t.Fatalf("%d collections before an allocation past any goal, want 1", got-before)
	}
}

// TestReleaser: each object of the set is released once however its results are ordered,
// objects outside it (already let go) and nil stay as they are.
func TestReleaser(t *testing.T) {
	a, b, kept := &Object{Name: "a"}, &Object{Name: "b"}, &Object{Name: "stub"}
	calls := map[*Object]int{}
	rl := newReleaser([]*Object{a, b}, func(o *Object) *Object {
		calls[o]++
		return &Object{Name: o.Name + "-stub"}
	})
	var got []*Object
	for _, o := range []*Object{a, a, b, a, nil, kept, b} {
		got = append(got, rl.of(o))
	}
	if got[0] == a || got[0] != got[1] || got[0] != got[3] || got[2] != got[6] || got[2] == b || got[0] == got[2] {
		t.Errorf("a and b are not each given one copy: %v", got)
	}
	if got[4] != nil || got[5] != kept {
		t.Errorf("nil and an object outside the set became %v and %v", got[4], got[5])
	}
	if calls[a] != 1 || calls[b] != 1 || len(calls) != 2 {
		t.Errorf("release called %v, want once for a and for b", calls)
	}
}

//go:build race

package engine_test

// raceEnabled: under the race detector, sync.Pool drops a quarter of what is put back, so
// regexp (which keeps its matchers in pools) allocates one per match: the tests that count
// allocations skip their counts under it.
const raceEnabled = true

//go:build race

package hugeheap

// raceEnabled: the race detector's shadow memory is resident memory and page faults of the
// process too, so the tests that count those skip their counts under it.
const raceEnabled = true

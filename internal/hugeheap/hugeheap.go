// Package hugeheap asks the kernel to back the Go heap of a short-lived process, a scan, with
// transparent huge pages (2 MiB) instead of 4 KiB pages.
//
// Every 4 KiB page of heap a process touches for the first time is a page fault. On the
// virtual machines CI runs on a fault costs about 19 µs, and a 20,000-object scan touched
// about 28,000 pages: a quarter of its CPU time. Go's runtime asks for huge pages only for its
// own metadata, and Debian's and Ubuntu's kernels give them only where a process asks
// (transparent_hugepage/enabled is "madvise"). With the heap advised, the same scan takes
// about 4,000 faults.
//
// Start-up: a scan's heap is advised by this package's initialiser, when the process was
// started as `soc2-operator scan`, so that the heap the other packages' initialisers allocate
// (about 5 MiB: client-go's scheme, controller-runtime, the AWS SDK) is covered too. Go
// initialises the packages of a program in the order of their import paths, each once the
// packages it imports are (the order the Go specification gives since Go 1.21), and this
// package imports only the standard library, so it comes before them. Advise does the same
// from anywhere else; it acts once per process.
//
// The initialiser first turns the collector off for the rest of a scan's start-up (see
// holdCollector); the scan's memory budget (internal/scan) decides from there.
package hugeheap

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "scan" {
		var limit int64
		if holdCollector() {
			limit = ScanMemoryLimit
		}
		startUp.advise(true, limit)
	}
}

// advice is what advising the heap does, once per process (startUp). Its steps are fields so
// that a test can stand in for them (the reserve, the collection, the limit).
type advice struct {
	once sync.Once
	// freed is closed once the advice is done and the reserve it grew the heap by is collected.
	freed    chan struct{}
	reserve  func() (reserved bool) // adviseHugePages
	collect  func()                 // runtime.GC
	setLimit func(limit int64)      // debug.SetMemoryLimit
}

var startUp = advice{
	freed:    make(chan struct{}),
	reserve:  adviseHugePages,
	collect:  runtime.GC,
	setLimit: func(limit int64) { debug.SetMemoryLimit(limit) },
}

// advise advises the heap (reserve: adviseHugePages) once and collects the reserve, then sets
// limit as the memory limit when it is not 0 (after the collection: the reserve alone is over
// ScanMemoryLimit) and closes freed. Held until a later cycle, the reserve would push the
// scan's heap out into memory no advice covers (measured: more faults than with none).
//
// With async (at start-up) the collection runs on a goroutine of its own, so that the other
// packages' initialisers run meanwhile instead of waiting for it; Advise waits for it. A
// scan of 2,998 objects: 0.173 -> 0.165 s and 0.176 -> 0.174 s (medians of 40 and 30
// interleaved rounds).
func (a *advice) advise(async bool, limit int64) {
	a.once.Do(func() {
		reserved := a.reserve()
		collect := func() {
			if reserved {
				a.collect()
			}
			if limit != 0 {
				a.setLimit(limit)
			}
			close(a.freed)
		}
		if async && reserved {
			go collect()
			return
		}
		collect()
	})
}

// wait advises (synchronously, if nothing has yet) and returns once the reserve is collected
// and the limit set.
func (a *advice) wait() {
	a.advise(false, 0)
	<-a.freed
}

// ScanMemoryLimit is the soft memory limit a scan runs under with the collector off: from
// start-up, so that what it reads before its memory budget (internal/scan) takes over (a
// profile, exceptions files) cannot grow the heap without bound, and then as the budget's
// least limit, which it raises with the live heap.
const ScanMemoryLimit = 120 << 20

// holdCollector turns the collector off, where neither GOGC nor GOMEMLIMIT says how it should
// run, and reports whether it did (the caller then sets ScanMemoryLimit); a scan's memory
// budget (internal/scan) takes over from there, and puts back Go's defaults (GOGC=100, no
// limit) when the scan is done. It is called before the reserve is allocated, so that the
// allocation does not start a collection of its own besides the one that frees the reserve:
// `scan --help` 71-72 -> 63-67 ms (perf stat, three alternated sets of 20), a 2,998-object scan
// 0.187 -> 0.182 s (median of 30 interleaved rounds), for 7 MiB more peak RSS (97-102 MiB at
// 2,998 objects, 160-162 MiB at 19,991).
//
// With the collector on, the rest of start-up allocates about 5 MiB, over Go's first heap goal
// of 4 MiB, and ran two more collections; after them the runtime's scavenger handed the unused
// reserve back to the kernel while the other initialisers ran (GODEBUG=scavtrace=1: 130 MiB, at
// 83-88% of a core). Turning it off here, with the memory budget kept through writing the
// summary table (internal/scan), which it was not before: median 0.189 -> 0.181 s wall, 0.298
// -> 0.279 s CPU over 40 interleaved rounds on 2,998 objects; neither change alone gained
// (0.191 s with the table's alone).
func holdCollector() (held bool) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetGCPercent(-1)
	return true
}

// Advise asks for huge pages for the Go heap, once per process, where the kernel gives them
// on request (see adviseHugePages), and returns once the reserve is collected and, in a scan
// process, the start-up memory limit is set: a scan calls it before it reads anything. It is
// safe to call from any goroutine.
func Advise() { startUp.wait() }

// Command scanprof profiles `soc2-operator scan`: it runs the scan -n times in one process
// (output discarded) under a CPU profile, and writes an allocation profile too. A scan of a few
// thousand objects takes about 0.1 s of a core, ten samples of the CPU profiler; repeated, its
// profile shows where the time goes. The process's start-up (package initialisation) is not in
// it: GODEBUG=inittrace=1 soc2-operator scan --help shows that.
//
//	go build -tags offline -o /tmp/scanprof ./hack/scanprof
//	/tmp/scanprof scan -n 30 -cpu cpu.prof -mem mem.prof -- -f DIR --fail-on none
//	go tool pprof -top -cum /tmp/scanprof cpu.prof
//
// The first argument must be `scan`, as for the binary: internal/hugeheap reads it at start-up
// (huge pages and the collector held off for a scan process). Build it with -tags offline to
// profile the offline build's scan, without to profile the full binary's (the same scan).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/scan"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "scan" {
		fmt.Fprintln(os.Stderr, "usage: scanprof scan [-n N] [-cpu FILE] [-mem FILE] -- SCAN-ARGS...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("scanprof", flag.ExitOnError)
	n := fs.Int("n", 20, "scans to run")
	cpuFile := fs.String("cpu", "cpu.prof", "the CPU profile")
	memFile := fs.String("mem", "", "the allocation profile (none when empty)")
	_ = fs.Parse(os.Args[2:])
	if *memFile != "" {
		runtime.MemProfileRate = 4096
	}
	cpu, err := os.Create(*cpuFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 0
	for range *n {
		code = scan.Run(fs.Args(), os.Stdin, io.Discard, io.Discard, time.Now)
	}
	pprof.StopCPUProfile()
	if err := cpu.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *memFile != "" {
		m, err := os.Create(*memFile)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(m, 0)
			if cerr := m.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "scanprof: %d scans, the last exited %d\n", *n, code)
}

// Command coldmem times the first touch of fresh anonymous memory: what a process pays, on top
// of its own work, for every page of heap it uses for the first time. It maps SIZE MiB, with
// -huge advised for transparent huge pages (madvise(MADV_HUGEPAGE), as internal/hugeheap
// advises a scan's heap), writes one byte per 4 KiB page and prints the time per MiB.
//
//	go run ./hack/coldmem [-huge] [SIZE]
//
// On a virtual machine whose kernel reports freed memory to its host (virtio-balloon free page
// reporting), the cost depends on how long ago the memory was freed: run it after a few idle
// seconds, then at once again after a run with -huge, and compare (README, "Cold memory").
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	huge := flag.Bool("huge", false, "advise the memory for transparent huge pages")
	flag.Parse()
	mib := 100
	if flag.NArg() > 0 {
		n, err := strconv.Atoi(flag.Arg(0))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "coldmem: SIZE %q is not a positive number of MiB\n", flag.Arg(0))
			os.Exit(2)
		}
		mib = n
	}
	size := mib << 20
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fmt.Fprintf(os.Stderr, "coldmem: mmap %d MiB: %v\n", mib, err)
		os.Exit(1)
	}
	if *huge {
		if err := syscall.Madvise(mem, syscall.MADV_HUGEPAGE); err != nil {
			fmt.Fprintf(os.Stderr, "coldmem: madvise(MADV_HUGEPAGE): %v\n", err)
			os.Exit(1)
		}
	}
	start := time.Now()
	for i := 0; i < size; i += 4096 {
		mem[i] = 1
	}
	took := time.Since(start)
	fmt.Printf("%d MiB, huge pages %v: %v, %.2f ms per MiB\n", mib, *huge, took.Round(time.Microsecond), float64(took.Microseconds())/1000/float64(mib))
}

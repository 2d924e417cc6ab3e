package scan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// hugeHeapReserve is how far the Go heap is grown, untouched, before a scan reads its input, so
// that the kernel may back that much of it with 2 MiB pages (adviseHugePages). At 20,000
// objects a scan's heap stays within it.
const hugeHeapReserve = 128 << 20

// thpEnabledFile says when the kernel backs anonymous memory with transparent huge pages:
// "always", only where a process asks ("madvise"), or "never"; the mode in use is bracketed.
const thpEnabledFile = "/sys/kernel/mm/transparent_hugepage/enabled"

var hugePages struct {
	once sync.Once
	lo   uintptr // the heap's address range the advice was given for, when it was
	hi   uintptr
	err  error // why it was not, or nil when there was nothing to do
}

// adviseHugePages asks the kernel to back the Go heap with transparent huge pages
// (madvise(MADV_HUGEPAGE)) when the kernel gives them only to processes that ask, as Debian's
// and Ubuntu's do by default. Go's runtime asks only for its own metadata, so every 4 KiB page
// of heap a scan touches for the first time is one page fault: about 29,000 of them at 20,000
// objects, a quarter of a second of CPU on a virtual machine where a fault costs 19 µs. With
// 2 MiB pages that is about 4,000. A scan is a short process that uses nearly all the heap it
// touches, so the pages cost no more memory (peak RSS is the same, measured).
//
// The advice holds for the mapping it is given to, and the runtime maps new heap as it grows,
// which the advice would not cover: so the heap is first grown by hugeHeapReserve, with an
// allocation the runtime takes from fresh memory and does not zero (none of it is touched; a
// test holds that), the mapping that holds it is advised, and the allocation is collected for
// the scan to use. It is done once per process. GODEBUG=disablethp=1, Go's own switch for
// huge pages, turns it off; so does a kernel that gives huge pages always or never, and it
// is not done in a 32-bit process.
func adviseHugePages() {
	hugePages.once.Do(func() {
		hugePages.lo, hugePages.hi, hugePages.err = adviseHeap(os.Getenv("GODEBUG"), thpEnabledFile)
	})
}

func adviseHeap(godebug, enabledFile string) (lo, hi uintptr, err error) {
	if disablesTHP(godebug) || unsafe.Sizeof(uintptr(0)) < 8 {
		return 0, 0, nil // asked not to; or a 32-bit process, whose address space is scarce
	}
	mode, err := os.ReadFile(enabledFile)
	if err != nil || thpMode(mode) != "madvise" {
		return 0, 0, nil // no transparent huge pages, or nothing to ask for
	}
	block := make([]byte, hugeHeapReserve)
	lo, hi, err = mappingOf(uintptr(unsafe.Pointer(unsafe.SliceData(block))))
	runtime.KeepAlive(block)
	if err != nil {
		return 0, 0, err
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, syscall.MADV_HUGEPAGE); errno != 0 {
		return 0, 0, fmt.Errorf("madvise(MADV_HUGEPAGE) over the heap %#x-%#x: %w", lo, hi, errno)
	}
	runtime.GC() // the reserve is free for the scan from its first allocation
	return lo, hi, nil
}

// disablesTHP reports whether a GODEBUG value sets disablethp=1; the last setting wins, as in
// the runtime.
func disablesTHP(godebug string) bool {
	off := false
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			off = v == "1"
		}
	}
	return off
}

// thpMode is the bracketed mode of the kernel's transparent_hugepage/enabled file.
func thpMode(content []byte) string {
	_, rest, ok := bytes.Cut(content, []byte("["))
	if !ok {
		return ""
	}
	mode, _, ok := bytes.Cut(rest, []byte("]"))
	if !ok {
		return ""
	}
	return string(mode)
}

// mappingOf is the range of the memory mapping of this process that holds addr, read from
// /proc/self/maps.
func mappingOf(addr uintptr) (lo, hi uintptr, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a, z uint64
		if _, err := fmt.Sscanf(sc.Text(), "%x-%x", &a, &z); err != nil {
			continue
		}
		if uint64(addr) >= a && uint64(addr) < z {
			return uintptr(a), uintptr(z), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("reading /proc/self/maps: %w", err)
	}
	return 0, 0, fmt.Errorf("no mapping in /proc/self/maps holds the heap address %#x", addr)
}

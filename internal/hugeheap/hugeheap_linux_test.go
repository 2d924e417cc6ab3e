package hugeheap

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestMain: started by a test below as a child (SOC2_HUGEPAGES_CHILD), this binary reports on
// itself as hp.key=value lines instead of running the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("SOC2_HUGEPAGES_CHILD") {
	case "touch":
		hugePagesChild()
		os.Exit(0)
	case "startup":
		// Whether the initialiser advised the heap; then what a scan sees once Advise, the
		// first thing it does, returns (the manager never calls it).
		advised, err := hugePages.hi > hugePages.lo, hugePages.err
		if os.Args[1] == "scan" {
			Advise()
		}
		cycles := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(cycles)
		fmt.Printf("hp.startupAdvised=%v\nhp.err=%v\nhp.gcPercent=%d\nhp.gcCycles=%d\nhp.memoryLimit=%d\n", advised, err, gcPercent(), cycles[0].Value.Uint64(), debug.SetMemoryLimit(-1))
		os.Exit(0)
	case "garbage":
		// What a scan reads before its memory budget starts (a profile, exceptions files),
		// after Advise as a scan does: four times the start-up limit of garbage, every page of
		// it written, as reading is.
		Advise()
		for range garbage >> 20 {
			sink = make([]byte, 1<<20)
			for i := 0; i < len(sink); i += 4 << 10 {
				sink[i] = 1
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("hp.numGC=%d\n", ms.NumGC)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// garbage is how much the "garbage" child allocates and writes.
const garbage = 4 * ScanMemoryLimit

// runChild runs this test binary as a fresh process in mode (see TestMain), with env added and
// args as its arguments, and returns what it reports.
func runChild(t *testing.T, mode string, env []string, args ...string) map[string]string {
	t.Helper()
	got, _ := runChildRSS(t, mode, env, args...)
	return got
}

// runChildRSS is runChild that also returns the child's peak resident set in bytes.
func runChildRSS(t *testing.T, mode string, env []string, args ...string) (map[string]string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SOC2_HUGEPAGES_CHILD="+mode, "GODEBUG="), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s %v: %v\n%s", mode, args, err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "hp.") {
			got[strings.TrimPrefix(k, "hp.")] = v
		}
	}
	return got, int(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10 // KiB on Linux
}

// TestHugePagesForTheHeap runs a fresh process (this test binary, as a scan is one) that
// advises the heap as a scan does and then touches 32 MiB of new heap: that memory lies in the
// advised mapping, the advice did not touch the reserve it grew the heap by, and, where the
// kernel gives huge pages on request, touching it took a few dozen page faults instead of the
// 8,192 that 4 KiB pages take.
func TestHugePagesForTheHeap(t *testing.T) {
	skipOn32Bit(t)
	mode, err := os.ReadFile(thpEnabledFile)
	if err != nil {
		t.Skipf("this kernel has no transparent huge pages (%v): adviseHugePages does nothing", err)
	}
	// The child is told the kernel gives huge pages on request whatever it does here, so that the
	// advice is given and checked on every machine; the faults are checked where it is so.
	fake := filepath.Join(t.TempDir(), "enabled")
	if err := os.WriteFile(fake, []byte("always [madvise] never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runChild(t, "touch", []string{"SOC2_HUGEPAGES_ENABLED=" + fake})
	t.Logf("child: %v", got)
	if got["err"] != "<nil>" {
		t.Fatalf("advising the heap: %s", got["err"])
	}
	if got["inside"] != "true" {
		t.Errorf("new heap at %s is not in the advised mapping %s-%s", got["addr"], got["lo"], got["hi"])
	}
	if !strings.Contains(" "+got["flags"]+" ", " hg ") {
		t.Errorf("the heap's mapping has VmFlags %q, want hg (MADV_HUGEPAGE)", got["flags"])
	}
	if rss, err := strconv.Atoi(got["rssAfterAdvice"]); err != nil || rss >= 32<<10 {
		t.Errorf("the advised mapping holds %d KiB after the advice: the %d MiB reserve was touched (or not read)", rss, reserve>>20)
	}
	if objects, err := strconv.Atoi(got["heapObjects"]); err != nil || objects >= reserve/2 {
		t.Errorf("after the advice the heap holds %s bytes of objects: the %d MiB reserve is not free for what comes next", got["heapObjects"], reserve>>20)
	}
	faults, _ := strconv.Atoi(got["faults"])
	if raceEnabled {
		t.Logf("built with -race, whose shadow memory faults in 4 KiB pages: %d faults for 32 MiB, not checked", faults)
		return
	}
	if thpMode(mode) != "madvise" && thpMode(mode) != "always" {
		t.Logf("this kernel gives no huge pages (%q): %d faults for 32 MiB, not checked", strings.TrimSpace(string(mode)), faults)
		return
	}
	if faults <= 0 || faults > 1024 {
		t.Errorf("touching 32 MiB of new heap took %d page faults, want at most 1,024 (4 KiB pages take 8,192)", faults)
	}
}

func hugePagesChild() {
	hugePages.lo, hugePages.hi, _, hugePages.err = adviseHeap(os.Getenv("GODEBUG"), os.Getenv("SOC2_HUGEPAGES_ENABLED"))
	runtime.GC() // the reserve collected, as advise does
	rssAfter := smapsField(hugePages.lo, "Rss")
	objects := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(objects)
	fmt.Printf("hp.heapObjects=%d\n", objects[0].Value.Uint64())
	before := minorFaults()
	buf := make([]byte, 32<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	faults := minorFaults() - before
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	fmt.Printf("hp.err=%v\nhp.lo=%#x\nhp.hi=%#x\nhp.addr=%#x\nhp.inside=%v\nhp.flags=%s\nhp.rssAfterAdvice=%s\nhp.faults=%d\n",
		hugePages.err, hugePages.lo, hugePages.hi, addr, addr >= hugePages.lo && addr+uintptr(len(buf)) <= hugePages.hi,
		smapsField(addr, "VmFlags"), rssAfter, faults)
}

// minorFaults is this process's minor page faults so far.
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Minflt)
}

// smapsField is a field of /proc/self/smaps for the mapping holding addr: its number in KiB or
// the rest of its line.
func smapsField(addr uintptr, field string) string {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var a, z uint64
		if _, err := fmt.Sscanf(line, "%x-%x ", &a, &z); err == nil { // a mapping's first line
			in = uint64(addr) >= a && uint64(addr) < z
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); in && ok && k == field {
			return strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	return "not found"
}

// TestHugePagesAskedOnlyWhenUseful: the heap is advised only where the kernel gives huge pages
// on request, and GODEBUG=disablethp=1 (Go's switch for them) keeps it from being.
func TestHugePagesAskedOnlyWhenUseful(t *testing.T) {
	skipOn32Bit(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, godebug, file string
		advised             bool
	}{
		{"madvise", "", write("madvise", "always [madvise] never\n"), true},
		{"always: the kernel gives them anyway", "", write("always", "[always] madvise never\n"), false},
		{"never", "", write("never", "always madvise [never]\n"), false},
		{"no such file", "", filepath.Join(dir, "missing"), false},
		{"disablethp=1", "madvdontneed=1,disablethp=1", write("m2", "always [madvise] never\n"), false},
		{"disablethp=1 then 0", "disablethp=1,disablethp=0", write("m3", "always [madvise] never\n"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, reserved, err := adviseHeap(c.godebug, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if advised := hi > lo; advised != c.advised {
				t.Errorf("advised %v (%#x-%#x), want %v", advised, lo, hi, c.advised)
			}
			if reserved != c.advised {
				t.Errorf("the heap grown by the reserve: %v, want %v (only where it is advised)", reserved, c.advised)
			}
			if c.advised && !strings.Contains(" "+smapsField(lo, "VmFlags")+" ", " hg ") {
				t.Errorf("mapping %#x-%#x has VmFlags %q, want hg", lo, hi, smapsField(lo, "VmFlags"))
			}
		})
	}
}

func skipOn32Bit(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) < 8 {
		t.Skip("a 32-bit process does not advise its heap")
	}
}

// TestHugePagesFromStartUp: a process started as `soc2-operator scan` has its heap advised by
// this package's initialiser, before main and before the initialisers of the packages that
// allocate most of the start-up heap; any other process is left alone. The children are this
// test binary, started with "scan" or "manager" as its first argument.
func TestHugePagesFromStartUp(t *testing.T) {
	skipOn32Bit(t)
	mode, err := os.ReadFile(thpEnabledFile)
	if err != nil || thpMode(mode) != "madvise" {
		t.Skipf("this kernel does not give huge pages on request (%q, %v): nothing is advised", strings.TrimSpace(string(mode)), err)
	}
	got := runChild(t, "startup", []string{"GOGC=", "GOMEMLIMIT="}, "scan")
	if got["startupAdvised"] != "true" || got["err"] != "<nil>" {
		t.Errorf("started as scan: advised %q (%s), want true at start-up", got["startupAdvised"], got["err"])
	}
	// The collector is off before the reserve is allocated, so that only the collection that
	// frees it runs, not one started by the allocation too.
	if got["gcCycles"] != "1" {
		t.Errorf("started as scan: %s collections by the end of start-up, want 1", got["gcCycles"])
	}
	if got := runChild(t, "startup", nil, "manager"); got["startupAdvised"] != "false" {
		t.Errorf("started as manager: advised %q, want false", got["startupAdvised"])
	}
}

// TestTheCollectorWaitsAtStartUp: a process started as `soc2-operator scan` runs no
// collection from this package's initialiser on, unless GOGC or GOMEMLIMIT says how it should
// (the scan's memory budget takes over in internal/scan); any other process keeps Go's
// default.
func TestTheCollectorWaitsAtStartUp(t *testing.T) {
	// Under a limit: a scan that allocates much before its budget starts is still collected,
	// and its memory stays near the limit. Peak RSS, not the heap's address space: the limit is
	// soft, and on a busy machine the collector's CPU cap lets the heap run ahead of it (up to
	// 398 MiB of heap mapped for 480 MiB of garbage, measured under load), but the scavenger
	// hands what is free back to the kernel.
	got, rss := runChildRSS(t, "garbage", []string{"GOGC=", "GOMEMLIMIT="}, "scan")
	if n, _ := strconv.Atoi(got["numGC"]); n < 2 {
		t.Errorf("started as scan, %d MiB of garbage: %s collections, want the start-up limit to hold", garbage>>20, got["numGC"])
	}
	if raceEnabled {
		t.Logf("built with -race, whose shadow memory is resident too: a peak RSS of %d MiB, not checked", rss>>20)
	} else if rss > 2*ScanMemoryLimit {
		t.Errorf("started as scan, %d MiB of garbage: a peak RSS of %d MiB, want the start-up limit (%d MiB) to hold", garbage>>20, rss>>20, ScanMemoryLimit>>20)
	}
	for _, c := range []struct {
		name  string
		env   []string
		args  []string
		limit string
	}{
		{"scan", nil, []string{"scan"}, strconv.Itoa(ScanMemoryLimit)},
		{"scan with GOGC set", []string{"GOGC=300"}, []string{"scan"}, strconv.Itoa(math.MaxInt64)},
		{"manager", nil, []string{"manager"}, strconv.Itoa(math.MaxInt64)},
	} {
		env := append([]string{"GOGC=", "GOMEMLIMIT="}, c.env...)
		if got := runChild(t, "startup", env, c.args...)["memoryLimit"]; got != c.limit {
			t.Errorf("%s: memory limit after start-up %s, want %s", c.name, got, c.limit)
		}
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"scan", nil, []string{"scan"}, "-1"},
		{"scan with GOGC set", []string{"GOGC=300"}, []string{"scan"}, "300"},
		{"scan with GOMEMLIMIT set", []string{"GOMEMLIMIT=1GiB"}, []string{"scan"}, "100"},
		{"manager", nil, []string{"manager"}, "100"},
	} {
		env := append([]string{"GOGC=", "GOMEMLIMIT="}, c.env...)
		if got := runChild(t, "startup", env, c.args...)["gcPercent"]; got != c.want {
			t.Errorf("%s: GC percent after start-up %s, want %s", c.name, got, c.want)
		}
	}
}

var sink []byte

// gcPercent is the collector's GOGC percent now.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// Command testrun runs the tests of a list of packages as `go test` does, but keeps the test
// binaries. `make test` uses it.
//
// Linking is most of what a warm `go test -count=1 ./...` costs here: each of the 26 test
// binaries links controller-runtime, client-go and the API types (40-80 MB), about 100
// CPU-seconds in all on two cores against about 70 for running every test. testrun builds them
// with `go test -c -o DIR/`, and the go command does not link a binary again when the one in
// DIR already carries the build ID it would write (the same check that keeps `go install` from
// relinking), so an unchanged package costs nothing to build and a changed one relinks only the
// binaries that depend on it. Then testrun runs the binaries, several at once (the suites
// spend much of their time waiting on an API server), the slowest of the last run first, each in
// its package's directory as go test does, and reports each package as go test does: "ok" with
// the time, or the output and FAIL.
//
// Usage:
//
//	testrun [-bin DIR] [-p N] [go test flags] packages...
//
// The go test flags it knows are the build flags (-race, -tags, -ldflags, -gcflags, -cover,
// -covermode, -coverpkg, -trimpath, -mod), which go to `go test -c`; -json, which runs each
// binary under `go tool test2json` as go test -json does; and the test flags (-run, -skip, -v,
// -count, -short, -timeout, -failfast, -parallel, -cpu, -shuffle, -bench, -benchtime,
// -benchmem, -artifacts, -outputdir, -fullpath), which go to each binary as -test.<name>. Any
// other flag is an error, so that a flag is never silently dropped. Test results are never
// cached (every run runs every test, as with -count=1), and -vet is not run (make verify vets).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testrun:", err)
	}
	os.Exit(code)
}

// buildValueFlags and buildBoolFlags are the go test build flags testrun passes to `go test -c`.
var (
	buildValueFlags = set("tags", "ldflags", "gcflags", "asmflags", "covermode", "coverpkg", "mod", "modfile", "overlay", "pgo")
	buildBoolFlags  = set("race", "msan", "asan", "cover", "trimpath", "a")
	testValueFlags  = set("run", "skip", "count", "timeout", "parallel", "cpu", "shuffle", "bench", "benchtime", "outputdir")
	testBoolFlags   = set("v", "short", "failfast", "benchmem", "artifacts", "fullpath")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// options is what the command line asks for.
type options struct {
	bin      string   // where the test binaries are kept
	parallel int      // binaries run at once
	json     bool     // go test -json output
	verbose  bool     // -v: print the output of passing packages too
	timeout  string   // -timeout, go test's default when not given
	build    []string // flags for go test -c
	test     []string // flags for each test binary (-test.<name>)
	packages []string
}

// parseArgs splits go test's command line into build flags, test flags and packages.
func parseArgs(args []string) (options, error) {
	o := options{bin: filepath.Join("bin", "test"), parallel: runtime.NumCPU() + 1, timeout: "10m"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			o.packages = append(o.packages, args[i:]...)
			break
		}
		if a == "--" {
			o.packages = append(o.packages, args[i+1:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		name = strings.TrimPrefix(name, "test.")
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag -%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case name == "bin" || name == "p" || name == "outputdir" || name == "timeout":
			v, err := takeValue()
			if err != nil {
				return o, err
			}
			switch name {
			case "bin":
				o.bin = v
			case "p":
				n, err := parsePositive(v)
				if err != nil {
					return o, fmt.Errorf("flag -p: %w", err)
				}
				o.parallel = n
			case "outputdir":
				// go test resolves the directory against its own working directory; each
				// binary runs in its package's directory.
				abs, err := filepath.Abs(v)
				if err != nil {
					return o, err
				}
				o.test = append(o.test, "-test.outputdir="+abs)
			case "timeout":
				o.timeout = v
			}
		case name == "json" || name == "v":
			b, err := parseBool(name, value, hasValue)
			if err != nil {
				return o, err
			}
			if name == "json" {
				o.json = b
			} else {
				o.verbose = b
				o.test = append(o.test, fmt.Sprintf("-test.v=%t", b))
			}
		case name == "vet":
			// Accepted so that GO_TEST_FLAGS written for go test work; testrun never vets.
			if _, err := takeValue(); err != nil {
				return o, err
			}
		case buildValueFlags[name]:
			v, err := takeValue()
			if err != nil {
				return o, err
			}
			o.build = append(o.build, "-"+name+"="+v)
		case buildBoolFlags[name]:
			if _, err := parseBool(name, value, hasValue); err != nil {
				return o, err
			}
			o.build = append(o.build, a)
		case testValueFlags[name]:
			v, err := takeValue()
			if err != nil {
				return o, err
			}
			o.test = append(o.test, "-test."+name+"="+v)
		case testBoolFlags[name]:
			b, err := parseBool(name, value, hasValue)
			if err != nil {
				return o, err
			}
			o.test = append(o.test, fmt.Sprintf("-test.%s=%t", name, b))
		default:
			return o, fmt.Errorf("flag %s is not one testrun passes on (see hack/testrun/main.go); run go test directly for it", a)
		}
	}
	if len(o.packages) == 0 {
		return o, errors.New("no packages given")
	}
	if _, err := time.ParseDuration(o.timeout); err != nil {
		return o, fmt.Errorf("flag -timeout: %w", err)
	}
	o.test = append(o.test, "-test.timeout="+o.timeout)
	return o, nil
}

func parsePositive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return n, nil
}

func parseBool(name, value string, hasValue bool) (bool, error) {
	switch {
	case !hasValue || value == "true":
		return true, nil
	case value == "false":
		return false, nil
	}
	return false, fmt.Errorf("flag -%s takes true or false, not %q", name, value)
}

// pkg is one package to test.
type pkg struct {
	importPath, dir string
	tests           bool // it has test files
}

// binary is where go test -c -o DIR/ writes the package's test binary: DIR/<last element of
// the import path>.test.
func (p pkg) binary(dir string) string {
	return filepath.Join(dir, path.Base(p.importPath)+".test")
}

func run(args []string, stdout, stderr io.Writer) (int, error) {
	o, err := parseArgs(args)
	if err != nil {
		return 2, err
	}
	pkgs, err := list(o.packages)
	if err != nil {
		return 2, err
	}
	if err := checkNames(pkgs); err != nil {
		return 2, err
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return 2, err
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return 2, err
	}
	for _, p := range pkgs {
		if !p.tests {
			// A binary left from when the package had tests would run them.
			if err := os.Remove(p.binary(bin)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return 2, err
			}
		}
	}
	build := append([]string{"test", "-c", "-o", bin + string(filepath.Separator)}, o.build...)
	if !hasFlag(o.build, "ldflags") {
		// No symbol table or DWARF: a quarter less linking. Stack traces and the race
		// detector's reports read the pclntab, which stays.
		build = append(build, "-ldflags=-s -w")
	}
	for _, p := range pkgs {
		build = append(build, p.importPath)
	}
	cmd := exec.Command("go", build...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		// Nothing runs: a binary left from an earlier build would test old code.
		fmt.Fprintln(stdout, "FAIL (the test binaries did not build; nothing was run)")
		return 1, nil
	}

	durations := loadDurations(bin)
	size := map[string]int64{}
	for _, p := range pkgs {
		if fi, err := os.Stat(p.binary(bin)); err == nil {
			size[p.importPath] = fi.Size()
		}
	}
	order := schedule(pkgs, durations, size)

	timeout, _ := time.ParseDuration(o.timeout)
	var (
		mu     sync.Mutex
		failed bool
		work   = make(chan pkg)
		wg     sync.WaitGroup
	)
	for range min(o.parallel, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				out, elapsed, ok := runPackage(p, bin, o, timeout)
				mu.Lock()
				if ok {
					durations[p.importPath] = elapsed.Seconds()
				} else {
					failed = true
				}
				report(stdout, p, out, elapsed, ok, o)
				mu.Unlock()
			}
		}()
	}
	for _, p := range order {
		work <- p
	}
	close(work)
	wg.Wait()
	saveDurations(bin, durations)
	if failed {
		if !o.json {
			fmt.Fprintln(stdout, "FAIL")
		}
		return 1, nil
	}
	return 0, nil
}

// schedule orders the packages slowest first, so that the longest does not start last: by the
// last run's times; packages not timed yet go first, the largest binaries (the suites that
// start a control plane) before the others.
func schedule(pkgs []pkg, durations map[string]float64, size map[string]int64) []pkg {
	order := slices.Clone(pkgs)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i].importPath, order[j].importPath
		da, aTimed := durations[a]
		db, bTimed := durations[b]
		switch {
		case aTimed != bTimed:
			return !aTimed
		case aTimed:
			return da > db
		}
		return size[a] > size[b]
	})
	return order
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if strings.HasPrefix(f, "-"+name+"=") {
			return true
		}
	}
	return false
}

// list resolves the package patterns as go test would.
func list(patterns []string) ([]pkg, error) {
	var out bytes.Buffer
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}{{len .XTestGoFiles}}"}, patterns...)...)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list %s: %w", strings.Join(patterns, " "), err)
	}
	var pkgs []pkg
	for line := range strings.Lines(out.String()) {
		fields := strings.Split(strings.TrimSpace(line), "\t")
		if len(fields) != 3 {
			return nil, fmt.Errorf("go list printed %q", line)
		}
		pkgs = append(pkgs, pkg{importPath: fields[0], dir: fields[1], tests: fields[2] != "00"})
	}
	return pkgs, nil
}

// checkNames refuses two packages whose binaries would have the same name.
func checkNames(pkgs []pkg) error {
	seen := map[string]string{}
	for _, p := range pkgs {
		name := path.Base(p.importPath)
		if other, ok := seen[name]; ok {
			return fmt.Errorf("packages %s and %s would both build %s.test; test them in two runs", other, p.importPath, name)
		}
		seen[name] = p.importPath
	}
	return nil
}

// runPackage runs one package's test binary in its directory. A package without test files
// has no binary: it passes with go test's "[no test files]".
func runPackage(p pkg, bin string, o options, timeout time.Duration) ([]byte, time.Duration, bool) {
	exe := p.binary(bin)
	if _, err := os.Stat(exe); errors.Is(err, os.ErrNotExist) {
		return nil, 0, true
	}
	var cmd *exec.Cmd
	if o.json {
		args := append([]string{"tool", "test2json", "-t", "-p", p.importPath, exe, "-test.v=test2json"}, o.test...)
		cmd = exec.Command("go", args...)
	} else {
		cmd = exec.Command(exe, o.test...)
	}
	cmd.Dir = p.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A binary that dies can leave a process it started (etcd, kube-apiserver) holding its
	// output open: stop reading a second after it exits.
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(&out, "%s: %v\n", exe, err)
		return out.Bytes(), 0, false
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// As go test does: the binary panics at -timeout; one that hangs past that is killed a
	// minute later.
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout + time.Minute):
		_ = cmd.Process.Kill()
		err = <-done
		fmt.Fprintf(&out, "*** Test killed: ran too long (%s).\n", timeout+time.Minute)
		if err == nil {
			err = errors.New("killed")
		}
	}
	return out.Bytes(), time.Since(start), err == nil
}

// report prints one package's result as go test does.
func report(w io.Writer, p pkg, out []byte, elapsed time.Duration, ok bool, o options) {
	switch {
	case out == nil && ok && o.json:
		fmt.Fprintf(w, "{\"Action\":\"skip\",\"Package\":%q}\n", p.importPath)
	case o.json:
		_, _ = w.Write(out)
	case out == nil && ok:
		fmt.Fprintf(w, "?   \t%s\t[no test files]\n", p.importPath)
	case ok && !o.verbose:
		fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", p.importPath, elapsed.Seconds())
	case ok:
		_, _ = w.Write(out) // ends with the binary's PASS
		fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", p.importPath, elapsed.Seconds())
	default:
		_, _ = w.Write(out)
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", p.importPath, elapsed.Seconds())
	}
}

// The last run's time of each package, to start the slowest first.
const durationsFile = "durations.json"

func loadDurations(bin string) map[string]float64 {
	d := map[string]float64{}
	if data, err := os.ReadFile(filepath.Join(bin, durationsFile)); err == nil {
		_ = json.Unmarshal(data, &d) // a damaged file only loses the order
	}
	return d
}

func saveDurations(bin string, d map[string]float64) {
	if data, err := json.MarshalIndent(d, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(bin, durationsFile), append(data, '\n'), 0o644)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	outdir, err := filepath.Abs("out")
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseArgs([]string{"-short", "-vet=off", "-count=1", "-run", "TestA|TestB", "-race", "-tags", "e2e",
		"-timeout", "45m", "-artifacts", "-outputdir", "out", "-v", "-json", "-p", "4", "-bin", "/tmp/b", "./a/...", "./b"})
	if err != nil {
		t.Fatal(err)
	}
	wantTest := []string{"-test.short=true", "-test.count=1", "-test.run=TestA|TestB", "-test.artifacts=true",
		"-test.outputdir=" + outdir, "-test.v=true", "-test.timeout=45m"}
	if !slices.Equal(o.test, wantTest) {
		t.Errorf("test flags %q, want %q", o.test, wantTest)
	}
	if want := []string{"-race", "-tags=e2e"}; !slices.Equal(o.build, want) {
		t.Errorf("build flags %q, want %q", o.build, want)
	}
	if !o.json || !o.verbose || o.parallel != 4 || o.bin != "/tmp/b" {
		t.Errorf("json %t verbose %t p %d bin %q", o.json, o.verbose, o.parallel, o.bin)
	}
	if want := []string{"./a/...", "./b"}; !slices.Equal(o.packages, want) {
		t.Errorf("packages %q, want %q", o.packages, want)
	}

	o, err = parseArgs([]string{"./..."})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-test.timeout=10m"}; !slices.Equal(o.test, want) {
		t.Errorf("default test flags %q, want go test's %q", o.test, want)
	}

	for _, bad := range [][]string{
		{"-coverprofile", "c.out", "./..."}, // not passed on: refused, not dropped
		{"-run"},                            // no value
		{"-short=yes", "./..."},             // not a bool
		{"-p", "0", "./..."},                // not positive
		{"-p", "3x", "./..."},               // not a number
		{"-timeout", "soon", "./..."},       // not a duration
		{"-short"},                          // no packages
	} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted it", bad)
		}
	}
}

// TestRunKeepsTheBinaries runs testrun on a module with a passing, a failing and an untested
// package, then again: the unchanged binaries are not linked again, and a changed package's is.
func TestRunKeepsTheBinaries(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("good/good.go", "package good\n\nfunc Two() int { return 2 }\n")
	write("good/good_test.go", "package good\n\nimport \"testing\"\n\nfunc TestTwo(t *testing.T) {\n\tif Two() != 2 {\n\t\tt.Fatal(Two())\n\t}\n}\n")
	write("bad/bad_test.go", "package bad\n\nimport \"testing\"\n\nfunc TestBroken(t *testing.T) { t.Error(\"broken on purpose\") }\n")
	write("untested/untested.go", "package untested\n")
	t.Chdir(dir)
	bin := filepath.Join(dir, "bin")

	testrun := func(args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code, err := run(append([]string{"-bin", bin}, args...), &stdout, &stderr)
		if err != nil {
			t.Fatalf("testrun %q: %v\n%s", args, err, stderr.String())
		}
		return code, stdout.String()
	}
	// The go command touches an up-to-date binary's modification time, and writes a new file
	// when it links, so "not linked again" is "still the same file".
	stat := func(name string) os.FileInfo {
		t.Helper()
		fi, err := os.Stat(filepath.Join(bin, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}

	code, out := testrun("./...")
	if code != 1 {
		t.Errorf("exit code %d with a failing package, want 1\n%s", code, out)
	}
	for _, want := range []string{"ok  \texample.com/m/good\t", "broken on purpose", "FAIL\texample.com/m/bad\t",
		"?   \texample.com/m/untested\t[no test files]", "\nFAIL\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	good, bad := stat("good.test"), stat("bad.test")

	// Nothing changed: no binary is written again.
	if code, out := testrun("-run", "TestTwo", "./good"); code != 0 || !strings.Contains(out, "ok  \texample.com/m/good\t") {
		t.Errorf("exit code %d, output:\n%s", code, out)
	}
	if !os.SameFile(stat("good.test"), good) {
		t.Error("good.test was written again though nothing changed")
	}

	// A change to good relinks good's binary only, and its test sees the change.
	write("good/good.go", "package good\n\nfunc Two() int { return 3 }\n")
	code, out = testrun("-json", "./...")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if os.SameFile(stat("good.test"), good) {
		t.Error("good.test was not linked again after good.go changed")
	}
	if !os.SameFile(stat("bad.test"), bad) {
		t.Error("bad.test was linked again though bad did not change")
	}
	actions := map[string]string{}
	for line := range strings.Lines(out) {
		var e struct{ Action, Package, Test string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("-json output line %q: %v", line, err)
		}
		if e.Test == "" && e.Action != "output" && e.Action != "start" {
			actions[e.Package] = e.Action
		}
	}
	want := map[string]string{"example.com/m/good": "fail", "example.com/m/bad": "fail", "example.com/m/untested": "skip"}
	for p, a := range want {
		if actions[p] != a {
			t.Errorf("-json: package %s %q, want %q (all: %v)", p, actions[p], a, actions)
		}
	}

	// A package whose tests are removed is not tested with its old binary.
	if err := os.Remove(filepath.Join(dir, "bad", "bad_test.go")); err != nil {
		t.Fatal(err)
	}
	write("bad/bad.go", "package bad\n")
	write("good/good.go", "package good\n\nfunc Two() int { return 2 }\n")
	if code, out := testrun("./..."); code != 0 || !strings.Contains(out, "?   \texample.com/m/bad\t[no test files]") {
		t.Errorf("exit code %d, output:\n%s", code, out)
	}

	// A package that does not build: nothing runs, not even the binaries left from before.
	write("good/good.go", "package good\n\nfunc Two() int { return }\n")
	if code, out := testrun("./..."); code != 1 || strings.Contains(out, "ok  ") || strings.Contains(out, "broken on purpose") {
		t.Errorf("exit code %d, output:\n%s", code, out)
	}
}

func TestScheduleStartsTheSlowestFirst(t *testing.T) {
	pkgs := []pkg{{importPath: "quick"}, {importPath: "slow"}, {importPath: "new-small"}, {importPath: "new-large"}, {importPath: "middling"}}
	durations := map[string]float64{"quick": 0.1, "slow": 20, "middling": 5}
	size := map[string]int64{"new-small": 5 << 20, "new-large": 80 << 20, "quick": 90 << 20}
	var got []string
	for _, p := range schedule(pkgs, durations, size) {
		got = append(got, p.importPath)
	}
	if want := []string{"new-large", "new-small", "slow", "middling", "quick"}; !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

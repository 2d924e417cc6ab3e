//go:build e2e

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// result is what a run of the built binary printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	bin, err := testenv.BuildOperator()
	if err != nil {
		t.Fatal(err)
	}
	return execBinary(t, bin, args...)
}

// execBinary runs bin with args and returns what it printed and how it exited.
func execBinary(t *testing.T, bin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // never reach a real cluster
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

// TestUsage: help and a bare invocation print the commands on stdout and exit 0, without
// starting the manager; a flag before any command says how the manager starts now.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"-h"}, {"help"}} {
		r := runBinary(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("soc2-operator %v: exit %d, stderr %q; want 0 and nothing", args, r.code, r.stderr)
		}
		for _, want := range []string{"Usage: soc2-operator <command> [flags]", "  manager ", "  scan ", "  checks ", "  version "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("soc2-operator %v: stdout lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}
	r := runBinary(t, "--leader-elect")
	if r.code != 2 || !strings.Contains(r.stderr, "the operator now starts with `soc2-operator manager --leader-elect`") || r.stdout != "" {
		t.Errorf("soc2-operator --leader-elect: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, "scna")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "scna"`) {
		t.Errorf("soc2-operator scna: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runBinary(t, "scan", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage: soc2-operator scan") || !strings.Contains(r.stdout, "-fail-on") || r.stderr != "" {
		t.Errorf("soc2-operator scan --help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestScanOfNothingFails: a CI job with a wrong path exits 2 and says why on stderr.
func TestScanOfNothingFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a manifest"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, "scan", "-f", dir)
	if r.code != 2 || !strings.Contains(r.stderr, dir+": no manifest files (*.yaml, *.yml, *.json) found") {
		t.Errorf("scan -f %s: exit %d, stderr %q; want 2 and the reason", dir, r.code, r.stderr)
	}
}

// TestBuiltVersion: the binary the tests build and `make build` both stamp git describe (a tag,
// or the commit), which SARIF carries as tool.driver.version; neither reports "dev".
func TestBuiltVersion(t *testing.T) {
	describe, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Fatalf("git describe: %v", err)
	}
	r := runBinary(t, "scan", "-f", "internal/scan/testdata/manifests/shop.yaml", "-o", "sarif", "--fail-on", "none")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Version string } `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	if v := log.Runs[0].Tool.Driver.Version; v != strings.TrimSpace(string(describe)) {
		t.Errorf("tool.driver.version = %q, want %q (git describe)", v, strings.TrimSpace(string(describe)))
	}
	out, err := exec.Command("make", "-n", "build").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	want := "-X github.com/soc2-operator/soc2-operator/internal/version.Version=" + strings.TrimSpace(string(describe))
	if !strings.Contains(string(out), want) {
		t.Errorf("make build does not stamp the version: want %q in\n%s", want, out)
	}
}

// TestOfflineBuild: the offline build (make build-offline) links no Kubernetes client,
// controller-runtime, AWS SDK or Prometheus client; it scans and lists checks exactly as the
// full binary does, lists only its own commands, and says so when asked for another.
func TestOfflineBuild(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "offline", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps -tags offline .: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, heavy := range []string{"sigs.k8s.io/controller-runtime/", "k8s.io/client-go/", "github.com/aws/aws-sdk-go-v2/", "github.com/prometheus/client_golang/"} {
			if strings.HasPrefix(dep+"/", heavy) {
				t.Errorf("the offline build links %s", dep)
			}
		}
	}
	// What make build-offline runs (its go build line: under a parent make, make -n also prints
	// the directories it enters), into a temporary directory.
	out, err = exec.Command("make", "--no-print-directory", "-n", "build-offline").Output()
	if err != nil {
		t.Fatalf("make -n build-offline: %v", err)
	}
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, " go build ") {
			line = l
		}
	}
	bin := filepath.Join(t.TempDir(), "soc2-operator")
	if line == "" || !strings.Contains(line, "bin/offline/soc2-operator") {
		t.Fatalf("make -n build-offline runs no go build into bin/offline/soc2-operator:\n%s", out)
	}
	line = strings.Replace(line, "bin/offline/soc2-operator", bin, 1)
	if b, err := exec.Command("sh", "-c", line).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}
	offline := func(args ...string) result { return execBinary(t, bin, args...) }
	for _, args := range [][]string{
		{"scan", "-f", "internal/scan/testdata/manifests"},
		{"scan", "-f", "internal/scan/testdata/manifests", "--details"},
		{"checks"},
	} {
		if got, want := offline(args...), runBinary(t, args...); got != want {
			t.Errorf("%v: the offline build gave exit %d, stdout %d bytes, stderr %q; the full binary exit %d, stdout %d bytes, stderr %q",
				args, got.code, len(got.stdout), got.stderr, want.code, len(want.stdout), want.stderr)
		}
	}
	help := offline("--help")
	if help.code != 0 {
		t.Errorf("offline --help: exit %d, stderr %q", help.code, help.stderr)
	}
	// Every command of the full build: the offline build lists scan, checks and version, and
	// says of each other one that it is not in this build.
	inOffline := map[string]bool{"scan": true, "checks": true, "version": true}
	for _, c := range allCommands() {
		listed := strings.Contains(help.stdout, "\n  "+c.name+" ")
		if listed != inOffline[c.name] {
			t.Errorf("offline --help lists %s: %v, want %v:\n%s", c.name, listed, inOffline[c.name], help.stdout)
		}
		if inOffline[c.name] {
			continue
		}
		r := offline(c.name)
		if r.code != 2 || !strings.Contains(r.stderr, c.name+" is not in this build: it is the offline build") {
			t.Errorf("offline %s: exit %d, stderr %q; want 2 and why", c.name, r.code, r.stderr)
		}
	}
}

// TestMinNamespaceIntervalIsBounded: the pace of change-triggered evaluations (controllers/pace.go)
// is a flag; a negative one, or one so long that a change would wait for hours, is refused with
// the flag named, before the manager looks for a cluster.
func TestMinNamespaceIntervalIsBounded(t *testing.T) {
	for _, v := range []string{"-1s", "6m"} {
		r := runBinary(t, "manager", "--min-namespace-interval="+v, "--kubeconfig=/nonexistent")
		if r.code != 2 || !strings.Contains(r.stderr, "--min-namespace-interval ") {
			t.Errorf("manager --min-namespace-interval=%s: exit %d, stderr %q; want 2 and the flag named", v, r.code, r.stderr)
		}
	}
	r := runBinary(t, "manager", "--help")
	if !strings.Contains(r.stdout+r.stderr, "-min-namespace-interval") {
		t.Errorf("manager --help does not list --min-namespace-interval: %q", r.stdout+r.stderr)
	}
}

//go:build e2e

package demo

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// proc is a process seen in /proc: its id and start time (so a reused id is not mistaken for
// it) and its command name.
type proc struct {
	pid       int
	ppid      int
	comm      string
	state     string
	startTime string
}

func readProc(pid int) (proc, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false
	}
	s := string(data)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return proc{}, false
	}
	fields := strings.Fields(s[close+1:]) // state ppid pgrp ... (starttime is field 22 of stat)
	if len(fields) < 20 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	return proc{pid: pid, ppid: ppid, comm: s[open+1 : close], state: fields[0], startTime: fields[19]}, true
}

// descendants are every process below pid.
func descendants(pid int) []proc {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]proc{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(n); ok {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

// TestCtrlCStopsEverythingEvenWhenTeeIsGone runs the demo command as `make demo | tee` does and
// presses Ctrl-C the way a terminal does when tee dies with it: the demo's output pipe is closed
// first, then SIGINT arrives. The demo must exit 0, and no kube-apiserver, etcd or operator it
// started may survive it, and its temp dir (with the operator binary built into it) is removed.
func TestCtrlCStopsEverythingEvenWhenTeeIsGone(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./hack/demo")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hack/demo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	var dir string
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		line := scanner.Text()
		printed.WriteString(line + "\n")
		if strings.Contains(line, "export KUBECONFIG=") {
			dir = filepath.Dir(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export KUBECONFIG=")))
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	if !strings.Contains(printed.String(), "Press Ctrl-C") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the demo did not come up; it printed:\n%s\nstderr:\n%s", printed.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "soc2-operator")); err != nil {
		t.Errorf("the operator binary is not in the demo's temp dir %s: %v", dir, err)
	}
	started := descendants(cmd.Process.Pid)
	seen := map[string]bool{}
	for _, p := range started {
		seen[p.comm] = true
	}
	for _, want := range []string{"kube-apiserver", "etcd", "soc2-operator"} {
		if !seen[want] {
			t.Errorf("no %s among the demo's processes %v", want, started)
		}
	}

	stdout.Close() // tee is gone
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the demo did not stop within 2 minutes of Ctrl-C; stderr:\n%s", stderr.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Errorf("after Ctrl-C the demo exited with %v, want 0; stderr:\n%s", exit, stderr.String())
	} else if err != nil {
		t.Fatal(err)
	}
	for _, p := range started {
		if now, ok := readProc(p.pid); ok && now.startTime == p.startTime && now.state != "Z" {
			t.Errorf("%s (pid %d) survived the demo", p.comm, p.pid)
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the demo's temp dir %s is still there after Ctrl-C (%v)", dir, err)
	}
}

package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// BuildOperator builds the soc2-operator binary and returns its path. It stamps the version as
// `make build` does (git describe), so that what the tests run reports the commit it was built
// from, as a release binary does, and not "dev".
//
// The binary is kept in the temporary directory under a hash of what goes into it (the
// version, the Go toolchain and every file of the module but tests), so that the test
// processes of one `go test ./...` (faulttest, scaletest, the CLI tests) link it once between
// them, and a later run with the same sources not at all. A lock makes parallel test processes
// wait for the one building it.
func BuildOperator() (string, error) {
	buildOnce.Do(func() { buildPath, buildErr = buildOperator() })
	return buildPath, buildErr
}

func buildOperator() (string, error) {
	root := RepoRoot()
	version := ""
	describe := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	describe.Dir = root
	if v, err := describe.Output(); err == nil {
		version = string(bytes.TrimSpace(v))
	}
	key, err := sourceHash(root, version)
	if err != nil {
		return "", err
	}
	cache := filepath.Join(os.TempDir(), "soc2-operator-bin")
	dir := filepath.Join(cache, key[:16])
	bin := filepath.Join(dir, "soc2-operator")
	lock, err := lockBuild(dir)
	if err != nil {
		return "", err
	}
	defer lock.Close() // and with it the lock
	defer pruneBuilds(cache, key[:16], keptBuilds)
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		_ = os.Chtimes(bin, now, now) // used: the last to be pruned
		return bin, nil
	}
	args := []string{"build", "-o", bin + ".tmp"}
	if version != "" {
		args = append(args, "-ldflags", "-X github.com/soc2-operator/soc2-operator/internal/version.Version="+version)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building soc2-operator: %v\n%s", err, out)
	}
	return bin, os.Rename(bin+".tmp", bin)
}

// lockBuild creates dir if need be and takes its lock, waiting for a process that holds it. A
// process pruning the cache removes a build's directory only with its lock held, so a lock
// taken on a file that is no longer in the directory is tried again.
func lockBuild(dir string) (*os.File, error) {
	path := filepath.Join(dir, "lock")
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		lock, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err == nil {
			if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
				lock.Close()
				return nil, fmt.Errorf("locking %s: %w", path, err)
			}
			held, _ := lock.Stat()
			if now, serr := os.Stat(path); serr == nil && held != nil && os.SameFile(held, now) {
				return lock, nil
			}
			lock.Close()
			err = fmt.Errorf("%s was removed while it was being locked", path)
		}
		if attempt == 4 {
			return nil, err
		}
	}
}

// keptBuilds is how many builds of other sources the cache keeps (the most recently used),
// for a checkout that goes back and forth between commits. Each is about 90 MB: without a
// limit, two days of edits left 3.8 GB of them on a development machine whose disk was 98%
// full when CI failed to link the demo's binary.
const keptBuilds = 3

// pruneBuilds removes from the cache every build but current and the keep most recently used
// others. A build another test process holds the lock of is left alone.
func pruneBuilds(cache, current string, keep int) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	type build struct {
		dir  string
		used time.Time
	}
	var builds []build
	for _, e := range entries {
		if !e.IsDir() || e.Name() == current {
			continue
		}
		dir := filepath.Join(cache, e.Name())
		used := time.Time{} // no binary (an unfinished build): the least recently used
		if fi, err := os.Stat(filepath.Join(dir, "soc2-operator")); err == nil {
			used = fi.ModTime()
		}
		builds = append(builds, build{dir, used})
	}
	sort.Slice(builds, func(i, j int) bool { return builds[i].used.After(builds[j].used) })
	for _, b := range builds[min(keep, len(builds)):] {
		lock, err := os.OpenFile(filepath.Join(b.dir, "lock"), os.O_RDWR, 0)
		if err != nil {
			continue // being created, or not a build; lockBuild creates the lock first
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(b.dir)
		}
		lock.Close()
	}
}

// sourceHash hashes the version, the Go toolchain and the content of every file git knows in
// the module (tracked, or untracked and not ignored), tests excepted.
func sourceHash(root, version string) (string, error) {
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		return "", fmt.Errorf("listing the module's files: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", version, runtime.Version())
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "_artifacts/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted, not yet staged
			}
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// AdminKubeconfig writes a kubeconfig for a cluster-admin user of the environment and returns
// its path.
func AdminKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "soc2-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("adding a user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// ManagerProcess is `soc2-operator manager` running as its own process, as users run it.
type ManagerProcess struct {
	cmd        *exec.Cmd
	MetricsURL string
	ProbeURL   string
	// metricsAddr is the metrics endpoint's host and port (WaitReady).
	metricsAddr string
	output      *syncBuffer
	done        chan error
}

// StartManager starts the operator binary with a kubeconfig, plain-HTTP metrics and probes on
// free local ports, and extra flags.
func StartManager(bin, kubeconfig string, extra ...string) (*ManagerProcess, error) {
	metricsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	probePort, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"manager",
		"--kubeconfig", kubeconfig,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--metrics-secure=false",
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", probePort),
		"--log-format", "console",
	}, extra...)
	m := &ManagerProcess{
		cmd:         exec.Command(bin, args...),
		MetricsURL:  fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
		ProbeURL:    fmt.Sprintf("http://127.0.0.1:%d", probePort),
		metricsAddr: fmt.Sprintf("127.0.0.1:%d", metricsPort),
		output:      &syncBuffer{},
		done:        make(chan error, 1),
	}
	m.cmd.Stdout, m.cmd.Stderr = m.output, m.output
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.done <- m.cmd.Wait() }()
	return m, nil
}

// WaitReady waits until /readyz answers 200 and the metrics port listens. The manager starts
// its probe and metrics servers side by side, so /readyz can answer before the metrics port
// listens: a caller that scrapes as soon as the manager is ready must not meet a refused
// connection. (Listening, not answering 200: with --metrics-secure the endpoint serves HTTPS
// and refuses a request without a token.)
func (m *ManagerProcess) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-m.done:
			return fmt.Errorf("the manager exited: %v\n%s", err, m.Output())
		default:
		}
		if answersOK(m.ProbeURL+"/readyz") && listening(m.metricsAddr) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the manager was not ready within %s\n%s", timeout, m.Output())
}

// answersOK reports whether a GET of target answers 200.
func answersOK(target string) bool {
	resp, err := http.Get(target)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// listening reports whether addr (host:port) accepts a TCP connection.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// WaitListening waits until addr (host:port) accepts a TCP connection: a server a test started
// (a process, or a runnable of a manager) is serving once it does.
func WaitListening(addr string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); !listening(addr); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s", addr, timeout)
		}
	}
	return nil
}

// Pid is the process ID.
func (m *ManagerProcess) Pid() int { return m.cmd.Process.Pid }

// PeakRSS is the process's peak resident memory (VmHWM), in bytes.
func (m *ManagerProcess) PeakRSS() (int64, error) {
	return procStatusBytes(m.Pid(), "VmHWM:")
}

// RSS is the process's current resident memory, in bytes.
func (m *ManagerProcess) RSS() (int64, error) {
	return procStatusBytes(m.Pid(), "VmRSS:")
}

func procStatusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(strings.TrimPrefix(line, field))
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// Stop sends SIGTERM and waits for the process to exit (SIGKILL after the timeout).
func (m *ManagerProcess) Stop(timeout time.Duration) error {
	_ = m.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-m.done:
		m.done <- err
		return nil
	case <-time.After(timeout):
		_ = m.cmd.Process.Kill()
		return fmt.Errorf("the manager did not stop within %s", timeout)
	}
}

// Kill stops the process at once, as a crash would.
func (m *ManagerProcess) Kill() {
	_ = m.cmd.Process.Kill()
	err := <-m.done
	m.done <- err
}

// Output is what the process printed so far.
func (m *ManagerProcess) Output() string { return m.output.String() }

// Metric returns the sum of every sample of a metric whose line starts with prefix.
func (m *ManagerProcess) Metric(ctx context.Context, prefix string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.MetricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	total := 0.0
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += v
		}
	}
	return total, nil
}

// FreePort returns a TCP port free on the loopback interface.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Package testenv starts the real control plane (kube-apiserver and etcd, built by
// hack/control-plane.sh) for tests, with the operator's CRDs installed.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the root of the checkout, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Assets returns the directory holding kube-apiserver, etcd and kubectl: $KUBEBUILDER_ASSETS
// when set, else the cache of hack/control-plane.sh. It never builds: `make test` builds first.
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	script := filepath.Join(RepoRoot(), "hack", "control-plane.sh")
	out, err := exec.Command(script, "--path").Output()
	if err != nil {
		return "", fmt.Errorf("running %s --path: %w", script, err)
	}
	dir := strings.TrimSpace(string(out))
	if err := exec.Command(script, "--check").Run(); err != nil {
		return "", fmt.Errorf("the control plane is not built in %s: run `make test` or hack/control-plane.sh once", dir)
	}
	return dir, nil
}

// Kubectl is the path of the kubectl built with the control plane.
func Kubectl() (string, error) {
	dir, err := Assets()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("kubectl: %w", err)
	}
	return path, nil
}

// Start starts an API server and etcd with the CRDs of config/crd/bases installed. Call
// Stop on the returned environment when done.
func Start(opts ...func(*envtest.Environment)) (*envtest.Environment, *rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	for _, o := range opts {
		o(env)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest: %w", err)
	}
	if cfg == nil {
		return nil, nil, errors.New("starting envtest: no rest config")
	}
	cfg.QPS, cfg.Burst = ClientQPS, ClientBurst
	return env, cfg, nil
}

// ClientQPS and ClientBurst limit the tests' own clients as kubectl's defaults do (50 requests
// a second, bursts of 300): at client-go's default of 5 a second the suites waited on their own
// setup and polling (internal/tenanttest took 31 s instead of 17 to 24). The operator in the
// test process keeps its own limits (StartOperator).
const (
	ClientQPS   = 50
	ClientBurst = 300
)

// AddUser adds a user to env (envtest.Environment.AddUser) and returns its rest config, with
// the tests' client limits.
func AddUser(env *envtest.Environment, name string, groups ...string) (*rest.Config, error) {
	u, err := env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding user %s: %w", name, err)
	}
	cfg := rest.CopyConfig(u.Config())
	cfg.QPS, cfg.Burst = ClientQPS, ClientBurst
	return cfg, nil
}

// Eventually retries f every 100ms until it returns nil, and fails the test with f's last
// error, and what was being waited for, when the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: still not true after %s: %v", what, timeout, err)
}

// Chromium is the path of Debian's chromium for browser tests: $SOC2_CHROMIUM when set (make
// test sets it), else what hack/chromium.sh prints (it installs the package on a fresh machine).
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SOC2_CHROMIUM"); p != "" {
		return p
	}
	out, err := exec.Command(filepath.Join(RepoRoot(), "hack", "chromium.sh")).Output()
	if err != nil {
		t.Fatalf("hack/chromium.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// ChromiumTempDir is a directory for Chromium's TMPDIR, removed after the test: Chromium leaves
// its singleton socket's directory (org.chromium.Chromium.*) in TMPDIR behind. The path is
// short, as a Unix socket's must be (t.TempDir's, with the test's name in it, is too long).
// The test fails when Chromium left nothing there: it was not given the directory, and its
// files pile up in /tmp again.
func ChromiumTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "org.chromium.") {
				return
			}
		}
		if !t.Failed() {
			t.Errorf("Chromium left nothing in its TMPDIR %s: it was not given it (chromedp.Env(\"TMPDIR=\"+dir))", dir)
		}
	})
	return dir
}

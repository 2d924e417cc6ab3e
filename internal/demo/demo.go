// Package demo runs the operator on a local control plane (kube-apiserver and etcd built by
// hack/control-plane.sh): no cluster needed. It installs the CRDs, creates sample namespaces
// with compliant and non-compliant workloads and the soc2-baseline profile, runs the operator
// binary against it, and shows the result with the real kubectl.
package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

var expiresLine = regexp.MustCompile(`(?m)^  expires: .*$`)

// Namespaces are the application namespaces the demo creates; each gets a report.
var Namespaces = []string{"legacy", "payments", "shop"}

// Profile is the profile the demo applies.
const Profile = "soc2-baseline"

// The demo's exception is requested by a payments developer and approved by security.
const (
	SampleException = "legacy-gateway-writable-rootfs"
	Requester       = "payments-dev@example.com"
	Approver        = "security@example.com"
)

// Demo is a running demo.
type Demo struct {
	env        *envtest.Environment
	dir        string
	Kubeconfig string
	Kubectl    string
	Manager    *testenv.ManagerProcess
	// Binary is the operator binary the demo runs.
	Binary string
	// JournalDir is the evidence journal's store (a directory in the demo's temp dir), signed
	// with the key whose public half is PublicKey; Started is when the demo began.
	JournalDir, PublicKey string
	Started               time.Time
	// DashboardURL is where the operator serves its dashboard; sign in with the token of
	// DashboardViewer (kubectl create token).
	DashboardURL string
}

// Cluster is the demo's cluster name in the journal.
const Cluster = "demo"

// DashboardViewer is the ServiceAccount (in namespace default) the demo binds to read every
// report, for signing in to the dashboard.
const DashboardViewer = "dashboard-viewer"

// Start brings everything up and waits until every namespace has its report. Progress goes
// to log.
func Start(ctx context.Context, log io.Writer) (*Demo, error) {
	root := testenv.RepoRoot()
	step := func(format string, args ...any) { fmt.Fprintf(log, "==> "+format+"\n", args...) }

	step("Starting the local control plane (kube-apiserver, etcd) with the CRDs installed")
	env, _, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	d := &Demo{env: env, Started: time.Now().UTC()}
	ok := false
	defer func() {
		if !ok {
			d.Stop()
		}
	}()
	if d.dir, err = os.MkdirTemp("", "soc2-operator-demo-"); err != nil {
		return nil, err
	}
	if d.Kubeconfig, err = testenv.AdminKubeconfig(env, d.dir); err != nil {
		return nil, err
	}
	if d.Kubectl, err = testenv.Kubectl(); err != nil {
		return nil, err
	}

	step("Creating the demo namespaces and workloads (config/demo)")
	if _, err := d.Run(ctx, "apply", "-f", filepath.Join(root, "config", "demo")); err != nil {
		return nil, err
	}
	if _, err := d.Run(ctx, "label", "namespace", "default", "compliance.soc2-operator.io/exclude=true"); err != nil {
		return nil, err
	}
	step("Applying the %s profile (config/samples) and the roles for people (config/rbac/user_roles.yaml)", Profile)
	if _, err := d.Run(ctx, "apply", "-f", filepath.Join(root, "config", "samples", "compliance_v1alpha1_complianceprofile_baseline.yaml")); err != nil {
		return nil, err
	}
	if _, err := d.Run(ctx, "apply", "-f", filepath.Join(root, "config", "rbac", "user_roles.yaml")); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"create", "rolebinding", "payments-requesters", "-n", "payments", "--clusterrole=controlexception-requester-role", "--user=" + Requester},
		{"create", "rolebinding", "payments-approvers", "-n", "payments", "--clusterrole=controlexception-approver-role", "--user=" + Approver},
	} {
		step("kubectl %s", strings.Join(args, " "))
		if _, err := d.Run(ctx, args...); err != nil {
			return nil, err
		}
	}

	step("Creating the dashboard's viewer (ServiceAccount default/%s, bound to compliance-viewer-role in every namespace)", DashboardViewer)
	for _, args := range [][]string{
		{"create", "serviceaccount", DashboardViewer, "-n", "default"},
		{"create", "clusterrolebinding", "soc2-dashboard-viewer", "--clusterrole=compliance-viewer-role", "--serviceaccount=default:" + DashboardViewer},
	} {
		if _, err := d.Run(ctx, args...); err != nil {
			return nil, err
		}
	}

	step("Building the operator into %s (the first build compiles every package: a few minutes; they print as they compile)", d.dir)
	bin, err := buildOperator(ctx, d.dir, log)
	if err != nil {
		return nil, err
	}
	d.Binary = bin
	step("Starting the operator with its dashboard, journaling evidence to %s", filepath.Join(d.dir, "journal"))
	key, err := d.signingKey()
	if err != nil {
		return nil, err
	}
	uiAddr, err := freeAddress()
	if err != nil {
		return nil, err
	}
	d.DashboardURL = "http://" + uiAddr
	d.JournalDir = filepath.Join(d.dir, "journal")
	if d.Manager, err = testenv.StartManager(bin, d.Kubeconfig, "--admin-namespace", engine.DefaultAdminNamespace,
		"--journal-store", d.JournalDir, "--cluster-name", Cluster, "--journal-signing-key", key,
		"--journal-attestation-interval", "1m", "--ui-bind-address", uiAddr); err != nil {
		return nil, err
	}
	if err := d.Manager.WaitReady(60 * time.Second); err != nil {
		return nil, err
	}
	// The sample exception, expiring 30 days from now: within the profile's 90-day policy
	// whenever the demo runs. The payments developer requests it; security approves it.
	ex, err := os.ReadFile(filepath.Join(root, "config", "samples", "compliance_v1alpha1_controlexception.yaml"))
	if err != nil {
		return nil, err
	}
	ex = expiresLine.ReplaceAll(ex, []byte(`  expires: "`+time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)+`"`))
	exFile := filepath.Join(d.dir, "exception.yaml")
	if err := os.WriteFile(exFile, ex, 0o644); err != nil {
		return nil, err
	}
	if err := d.waitExceptionPolicies(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	// The API server checks approvals now; the operator trusts them once it has confirmed its
	// policies, and never trusts an approval it saw before then (README, Approving exceptions).
	wait := []string{"wait", "--for=condition=Ready", "complianceprofile/" + Profile, "--timeout=60s"}
	step("kubectl %s   # approvals count once the operator trusts its admission policies", strings.Join(wait, " "))
	if _, err := d.Run(ctx, wait...); err != nil {
		return nil, fmt.Errorf("the profile did not become Ready: %w\noperator output:\n%s", err, d.Manager.Output())
	}
	// An exception created in the same second as the policies counts as predating them
	// (creation times are kept to the second), and its approval is never trusted: on a fast
	// machine the request came that soon.
	testenv.NextSecond()
	step("kubectl apply -f config/samples/compliance_v1alpha1_controlexception.yaml --as %s   # the request", Requester)
	if _, err := d.Run(ctx, "apply", "-f", exFile, "--as", Requester); err != nil {
		return nil, err
	}
	approve := []string{"patch", "controlexception", SampleException, "-n", "payments", "--type", "merge",
		"-p", `{"approval":{"approvedBy":"` + Approver + `"}}`, "--as", Approver}
	step("kubectl %s   # the approval, by a second person", strings.Join(quote(approve), " "))
	if _, err := d.Run(ctx, approve...); err != nil {
		return nil, err
	}
	step("Waiting for the reports")
	if err := d.waitReports(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	if err := d.waitFor(ctx, 30*time.Second, "1", "get", "controlexception", SampleException, "-n", "payments", "-o", "jsonpath={.status.matchedFindings}"); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// buildOperator builds the operator binary into dir (removed with the demo's files), printing
// each package as it compiles (`go build -v`) so a cold build shows progress.
func buildOperator(ctx context.Context, dir string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "soc2-operator")
	args := []string{"build", "-v", "-o", bin}
	describe := exec.CommandContext(ctx, "git", "describe", "--tags", "--always", "--dirty")
	describe.Dir = testenv.RepoRoot()
	if v, err := describe.Output(); err == nil && len(bytes.TrimSpace(v)) > 0 {
		args = append(args, "-ldflags", "-X github.com/soc2-operator/soc2-operator/internal/version.Version="+string(bytes.TrimSpace(v)))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	// The error carries the end of what go printed (the compiler's or linker's message), also
	// when log is io.Discard, as in the tests.
	tail := &lastBytes{max: 4 << 10}
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building soc2-operator with go %s: %w\n%s", strings.Join(args, " "), err, tail)
	}
	return bin, nil
}

// lastBytes keeps the last max bytes written to it, from the start of a line where it can.
type lastBytes struct {
	max int
	buf []byte
}

func (w *lastBytes) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(p), nil
}

func (w *lastBytes) String() string {
	s := string(w.buf)
	if len(w.buf) == w.max {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return strings.TrimRight(s, "\n")
}

// freeAddress is a free loopback address for the dashboard: 127.0.0.1:8082 when free, for a
// person running the demo; in a test binary always a port the kernel picks, since test packages
// that start demos run at once (go test ./...), and two that both found 8082 free raced for it:
// the loser's operator stopped ("address already in use").
func freeAddress() (string, error) {
	candidates := []string{"127.0.0.1:8082", "127.0.0.1:0"}
	if testing.Testing() {
		candidates = candidates[1:]
	}
	for _, addr := range candidates {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		addr = l.Addr().String()
		l.Close()
		return addr, nil
	}
	return "", fmt.Errorf("no free port for the dashboard")
}

// waitReports waits until every demo namespace's report has a result.
func (d *Demo) waitReports(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		out, err := d.Run(ctx, "get", "compliancereports", "-A", "-o", `jsonpath={range .items[*]}{.metadata.namespace}={.status.result}{"\n"}{end}`)
		if err == nil {
			last = out
			done := 0
			for _, ns := range Namespaces {
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, ns+"=") && len(line) > len(ns)+1 {
						done++
					}
				}
			}
			if done == len(Namespaces) {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("the reports were not all written within %s (have: %q)\noperator output:\n%s", timeout, last, d.Manager.Output())
}

// waitFor waits until kubectl args prints want.
func (d *Demo) waitFor(ctx context.Context, timeout time.Duration, want string, args ...string) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		out, err := d.Run(ctx, args...)
		if err == nil && strings.TrimSpace(out) == want {
			return nil
		}
		last = fmt.Sprint(out, err)
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("kubectl %s printed %q, not %q, for %s\noperator output:\n%s", strings.Join(args, " "), last, want, timeout, d.Manager.Output())
}

// waitExceptionPolicies waits until the operator's admission policies record who requests an
// exception (they take effect a moment after the operator applies them).
func (d *Demo) waitExceptionPolicies(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	probe := filepath.Join(d.dir, "probe.yaml")
	if err := os.WriteFile(probe, []byte(`apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata: {name: probe, namespace: payments}
spec: {checks: [wl-privileged], reason: probing the policies, owner: demo, expires: "2099-01-01T00:00:00Z"}
`), 0o644); err != nil {
		return err
	}
	var last string
	for time.Now().Before(deadline) {
		out, err := d.Run(ctx, "create", "--dry-run=server", "-f", probe, "-o", "jsonpath={.spec.requestedBy}")
		if err == nil && out != "" {
			return nil
		}
		last = fmt.Sprint(out, err)
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("the operator's admission policies did not take effect within %s (%s)\noperator output:\n%s", timeout, last, d.Manager.Output())
}

// Run runs the real kubectl against the demo's API server and returns its standard output.
func (d *Demo) Run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.Kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.Kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &KubectlError{Args: args, Stderr: stderr.String(), Err: err}
	}
	return stdout.String(), nil
}

// KubectlError is a kubectl command that failed, with what it printed.
type KubectlError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *KubectlError) Error() string {
	return fmt.Sprintf("kubectl %s: %v: %s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

// Show prints what a user would look at: every report, everything in the soc2 category, and
// one report's criteria.
func (d *Demo) Show(ctx context.Context, w io.Writer) error {
	for _, args := range [][]string{
		{"get", "compliancereports", "-A"},
		{"get", "soc2", "-A"},
		{"get", "compliancereport", Profile, "-n", "legacy", "-o",
			`jsonpath={range .status.criteria[*]}{.id}{"\t"}{.status}{"\t"}{.failed}{" failed\t"}{.title}{"\n"}{end}`},
	} {
		fmt.Fprintf(w, "\n$ kubectl %s\n", strings.Join(quote(args), " "))
		out, err := d.Run(ctx, args...)
		if err != nil {
			return err
		}
		fmt.Fprint(w, out)
	}
	return nil
}

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " {}\"\t") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// signingKey writes a fresh ed25519 key pair for the journal's signatures (in a cluster it is
// mounted from a Secret) and returns the private key's path.
func (d *Demo) signingKey() (string, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	priv, pub, err := journal.EncodeKeys(key)
	if err != nil {
		return "", err
	}
	path := filepath.Join(d.dir, "journal-signing-key.pem")
	d.PublicKey = filepath.Join(d.dir, "journal-public-key.pem")
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return "", err
	}
	return path, os.WriteFile(d.PublicKey, pub, 0o644)
}

// PackArgs are the arguments of `soc2-operator evidence pack` for the demo's period: from the
// moment the demo began (the journal does not cover the day before it), to the end of today.
func (d *Demo) PackArgs(out string) []string {
	return []string{"evidence", "pack", "--store", d.JournalDir, "--cluster", Cluster,
		"--from", d.Started.UTC().Format(time.RFC3339), "--to", time.Now().UTC().Format(time.DateOnly),
		"--public-key", d.PublicKey, "-o", out}
}

// EvidencePack builds the evidence pack of the demo's period into out and verifies the
// journal, with the operator binary as a user runs it; their output goes to w.
func (d *Demo) EvidencePack(ctx context.Context, out string, w io.Writer) error {
	for _, args := range [][]string{
		d.PackArgs(out),
		{"evidence", "verify", "--store", d.JournalDir, "--public-key", d.PublicKey},
	} {
		fmt.Fprintf(w, "$ soc2-operator %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, d.Binary, args...)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("soc2-operator %s: %w", args[0]+" "+args[1], err)
		}
	}
	return nil
}

// Dir is the demo's temporary directory (removed by Stop).
func (d *Demo) Dir() string { return d.dir }

// Stop stops the operator and the control plane and removes the demo's files.
func (d *Demo) Stop() {
	if d.Manager != nil {
		_ = d.Manager.Stop(10 * time.Second)
	}
	if d.env != nil {
		_ = d.env.Stop()
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

//go:build e2e

// Package faulttest runs the operator binary, as users run it, through faults: the API server
// going away and coming back, writes being refused, and a leader dying.
package faulttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

var (
	env        *envtest.Environment
	k8s        client.Client
	kubeconfig string
	bin        string
	// approver approves exceptions as a second user.
	approver client.Client
)

const adminNamespace = engine.DefaultAdminNamespace

// workDir is the package's temporary directory (removed at the end).
var workDir string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "soc2-faulttest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	workDir = dir
	// The API server's certificates live in a directory of ours, so that it can be stopped and
	// started again on the same address with the same identity.
	certDir := dir + "/apiserver"
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		return 0, err
	}
	var cfgErr error
	env, _, cfgErr = testenv.Start(func(e *envtest.Environment) {
		e.ControlPlane.GetAPIServer().CertDir = certDir
	})
	if cfgErr != nil {
		return 0, cfgErr
	}
	defer func() { _ = env.Stop() }()
	if kubeconfig, err = testenv.AdminKubeconfig(env, dir); err != nil {
		return 0, err
	}
	if bin, err = testenv.BuildOperator(); err != nil {
		return 0, err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	if k8s, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adminNamespace}}); err != nil {
		return 0, err
	}
	if approver, err = testenv.ApproverClient(env, k8s); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// eventually is testenv.Eventually.
var eventually = testenv.Eventually

// scenario creates a namespace with one privileged Deployment and a profile selecting it.
func scenario(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"fault": name}}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, testenv.PrivilegedAgent(name)); err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"fault": name}},
		// The privileged finding is Critical: let an exception waive it.
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, p) })
}

func report(name string) (*v1alpha1.ComplianceReport, error) {
	rep := &v1alpha1.ComplianceReport{}
	err := k8s.Get(context.Background(), types.NamespacedName{Namespace: name, Name: name}, rep)
	return rep, err
}

// privilegedFinding returns the wl-privileged finding's result ("" when not listed).
func privilegedFinding(rep *v1alpha1.ComplianceReport) v1alpha1.CheckResult {
	for _, f := range rep.Status.Findings {
		if f.Check == "wl-privileged" && f.Resource.Name == "agent" {
			return f.Result
		}
	}
	return ""
}

func startManager(t *testing.T, extra ...string) *testenv.ManagerProcess {
	t.Helper()
	return startManagerAs(t, kubeconfig, extra...)
}

// startManagerAs starts the operator with the credentials of kubeconfig.
func startManagerAs(t *testing.T, kubeconfig string, extra ...string) *testenv.ManagerProcess {
	t.Helper()
	mgr, err := testenv.StartManager(bin, kubeconfig, append([]string{"--admin-namespace", adminNamespace}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mgr.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("operator output:\n%s", tail(mgr.Output(), 60))
		}
	})
	if err := mgr.WaitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	return mgr
}

// killAPIServer kills the kube-apiserver process at once, as a crash would (a graceful stop
// waits for open watches).
func killAPIServer() error {
	certDir := env.ControlPlane.APIServer.CertDir
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(args, "kube-apiserver") && strings.Contains(args, certDir) {
			p, err := os.FindProcess(pid)
			if err != nil {
				return err
			}
			if err := p.Signal(syscall.SIGKILL); err != nil {
				return err
			}
			for i := 0; i < 100; i++ {
				if _, err := os.Stat(filepath.Join("/proc", e.Name())); os.IsNotExist(err) {
					return nil
				}
				if status, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); strings.Contains(string(status), ") Z ") {
					return nil // a zombie until envtest's process handle reaps it
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Errorf("kube-apiserver %d did not die", pid)
		}
	}
	return fmt.Errorf("no kube-apiserver process with %s found", certDir)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestRecoversFromAnAPIServerOutage stops the API server while an evaluation is due (an
// exception expires during the outage), and starts it again: the operator process keeps
// running, counts the namespace as stale while it cannot write, and converges without a restart.
func TestRecoversFromAnAPIServerOutage(t *testing.T) {
	ctx := context.Background()
	const name = "fault-outage"
	scenario(t, name)
	// The operator applies its admission policies at start; the exception is requested once
	// they are in force, and approved by a second user.
	mgr := startManager(t)
	if err := testenv.WaitAdmissionPolicies(ctx, k8s, name, testenv.ProfileTrusts(k8s, name)); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(20 * time.Second).Truncate(time.Second)
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: name},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "The agent needs the host for now.",
			Owner: "platform@example.com", Expires: metav1.NewTime(expires)},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 18*time.Second, "the finding is Excepted", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if got := privilegedFinding(rep); got != v1alpha1.ResultExcepted {
			return fmt.Errorf("finding %q", got)
		}
		return nil
	})
	pid := mgr.Pid()

	// The API server goes away before the exception expires: the re-evaluation at the expiry
	// happens during the outage and cannot be written.
	if time.Until(expires) < 2*time.Second {
		t.Fatal("the operator took too long to start for this scenario's timing")
	}
	time.Sleep(time.Until(expires.Add(-2 * time.Second)))
	if err := killAPIServer(); err != nil {
		t.Fatal(err)
	}
	outage := time.Now()
	eventually(t, 30*time.Second, "the operator counts the namespace as stale during the outage", func() error {
		n, err := mgr.Metric(ctx, fmt.Sprintf(`soc2_operator_reports_stale{profile=%q}`, name))
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("soc2_operator_reports_stale = %v", n)
		}
		return nil
	})
	// The API server stays down until the operator has tried, and failed, to evaluate the
	// namespace after the exception expired.
	failedAtExpiry := -1.0
	eventually(t, 60*time.Second, "an evaluation after the expiry failed during the outage", func() error {
		if time.Now().Before(expires) {
			return fmt.Errorf("the exception has not expired yet")
		}
		failed, err := mgr.Metric(ctx, fmt.Sprintf(`soc2_operator_evaluations_total{outcome="error",profile=%q`, name))
		if err != nil {
			return err
		}
		if failedAtExpiry < 0 {
			failedAtExpiry = failed
		}
		if failed <= failedAtExpiry {
			return fmt.Errorf("%v failed evaluations, none since the expiry", failed)
		}
		return nil
	})
	if err := env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatalf("restarting the API server: %v", err)
	}
	t.Logf("the API server was down for %s", time.Since(outage).Round(time.Second))
	back := time.Now()

	eventually(t, 90*time.Second, "the report shows the expired exception's finding failing again", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if got := privilegedFinding(rep); got != v1alpha1.ResultFail {
			return fmt.Errorf("finding %q", got)
		}
		if !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
			return fmt.Errorf("conditions %+v", rep.Status.Conditions)
		}
		return nil
	})
	t.Logf("converged %s after the API server came back", time.Since(back).Round(100*time.Millisecond))
	eventually(t, 10*time.Second, "nothing is stale any more", func() error {
		if n, err := mgr.Metric(ctx, fmt.Sprintf(`soc2_operator_reports_stale{profile=%q}`, name)); err != nil || n != 0 {
			return fmt.Errorf("soc2_operator_reports_stale = %v (%v)", n, err)
		}
		return nil
	})
	if mgr.Pid() != pid {
		t.Error("the operator restarted")
	}
}

// freeze is a ValidatingAdmissionPolicy that refuses every change to a report's content while
// letting conditions change: the write of a new evaluation fails, the Stale mark does not.
const freeze = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: freeze-reports
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [compliance.soc2-operator.io]
        apiVersions: [v1alpha1]
        operations: [UPDATE]
        resources: [compliancereports/status]
  validations:
    - expression: "!has(oldObject.status) || !has(oldObject.status.summary) || object.status.summary == oldObject.status.summary"
      message: reports are frozen for maintenance
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: freeze-reports
spec:
  policyName: freeze-reports
  validationActions: [Deny]
`

// TestReportsTurnStaleWhenWritesFail refuses the write of a new evaluation: the report keeps
// its old content, marked Stale=True with reason WriteFailed and the API server's message, and
// its printed STATUS is Unknown with STALE True (not the old verdict); once
// writes are allowed again, the new content lands and Stale turns False.
func TestReportsTurnStaleWhenWritesFail(t *testing.T) {
	ctx := context.Background()
	const name = "fault-refused"
	scenario(t, name)
	startManager(t)
	eventually(t, 30*time.Second, "the report is written", func() error {
		rep, err := report(name)
		if err != nil || privilegedFinding(rep) != v1alpha1.ResultFail {
			return fmt.Errorf("%v", err)
		}
		return nil
	})
	var objs []client.Object
	for _, doc := range strings.Split(freeze, "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
	}
	defer func() {
		for _, o := range objs {
			_ = k8s.Delete(ctx, o)
		}
	}()
	// The policy takes a moment to reach the API server's admission chain; keep changing the
	// workload (unprivileged, privileged, ...) until a write is refused.
	var rep *v1alpha1.ComplianceReport
	privileged := false
	eventually(t, 60*time.Second, "Stale=True with reason WriteFailed", func() error {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: "agent"}, d); err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &privileged
		privileged = !privileged
		if err := k8s.Update(ctx, d); err != nil && !apierrors.IsConflict(err) {
			return err
		}
		time.Sleep(time.Second)
		var err error
		if rep, err = report(name); err != nil {
			return err
		}
		c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonWriteFailed {
			return fmt.Errorf("Stale condition %+v", c)
		}
		if !strings.Contains(c.Message, "reports are frozen for maintenance") {
			return fmt.Errorf("the Stale message does not give the API server's reason: %q", c.Message)
		}
		if rep.Status.Result != v1alpha1.Unknown {
			return fmt.Errorf("result %s while the report is stale, want Unknown", rep.Status.Result)
		}
		return nil
	})
	frozen := rep.Status.Summary
	// What a person sees without -o wide: not the old verdict, and that the report is stale.
	if row := printedReport(t, name); row["STATUS"] != "Unknown" || row["STALE"] != "True" {
		t.Errorf("kubectl get compliancereports prints %v while writes are refused, want STATUS Unknown and STALE True", row)
	}

	for _, o := range objs {
		if err := k8s.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	objs = nil
	// The workload's current state, whichever it is, reaches the report, and Stale clears.
	eventually(t, 90*time.Second, "the new content written and Stale=False", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
			return fmt.Errorf("conditions %+v", rep.Status.Conditions)
		}
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: "agent"}, d); err != nil {
			return err
		}
		want := v1alpha1.CheckResult("")
		if p := d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged; p != nil && *p {
			want = v1alpha1.ResultFail
		}
		if got := privilegedFinding(rep); got != want {
			return fmt.Errorf("finding %q, want %q (frozen summary was %+v)", got, want, frozen)
		}
		return nil
	})
	if row := printedReport(t, name); row["STATUS"] == "Unknown" || row["STALE"] != "False" {
		t.Errorf("kubectl get compliancereports prints %v once writes are allowed again, want a result and STALE False", row)
	}
}

// printedReport runs `kubectl get compliancereports` in the namespace, as a person would, and
// returns the report's row by column name.
func printedReport(t *testing.T, ns string) map[string]string {
	t.Helper()
	kubectl, err := testenv.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "compliancereports", "-n", ns).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get compliancereports: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get compliancereports -n %s: want one report\n%s", ns, out)
	}
	header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	got := map[string]string{}
	for i, h := range header {
		if i < len(row) {
			got[h] = row[i]
		}
	}
	return got
}

// TestLeaderElection runs two operators with leader election, each as the operator's
// ServiceAccount bound only to the roles config/default ships (leases: get, create, update):
// only the leader writes; when it dies, the other takes over and keeps the reports true.
func TestLeaderElection(t *testing.T) {
	ctx := context.Background()
	const name = "fault-leader"
	scenario(t, name)
	asOperator := shippedRoles(t)
	flags := []string{"--leader-elect", "--leader-election-namespace", adminNamespace,
		"--leader-election-id", "fault-leader", "--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms"}
	a := startManagerAs(t, asOperator, flags...)
	b := startManagerAs(t, asOperator, flags...)
	writes := func(m *testenv.ManagerProcess) float64 {
		n, err := m.Metric(ctx, fmt.Sprintf(`soc2_operator_report_writes_total{operation="create",profile=%q`, name))
		if err != nil {
			t.Fatal(err)
		}
		m2, err := m.Metric(ctx, fmt.Sprintf(`soc2_operator_report_writes_total{operation="update",profile=%q`, name))
		if err != nil {
			t.Fatal(err)
		}
		return n + m2
	}
	eventually(t, 30*time.Second, "the report is written", func() error {
		rep, err := report(name)
		if err != nil || privilegedFinding(rep) != v1alpha1.ResultFail {
			return fmt.Errorf("%v", err)
		}
		return nil
	})
	leader, follower := a, b
	if writes(b) > 0 {
		leader, follower = b, a
	}
	if writes(leader) == 0 || writes(follower) != 0 {
		t.Fatalf("writes: leader %v, follower %v; want only the leader to write", writes(leader), writes(follower))
	}

	leader.Kill() // a crash: the lease is not released, the follower waits for it to expire
	killed := time.Now()
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: "agent"}, d); err != nil {
		t.Fatal(err)
	}
	no := false
	d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &no
	if err := k8s.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the new leader writes the change", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if got := privilegedFinding(rep); got != "" {
			return fmt.Errorf("finding still %q", got)
		}
		return nil
	})
	t.Logf("the follower took over and wrote the change %s after the leader died", time.Since(killed).Round(100*time.Millisecond))
	if writes(follower) == 0 {
		t.Error("the report changed but the new leader counts no write")
	}
}

// TestPolicyReportsWithoutTheirCRDs asks for PolicyReports on a cluster that does not serve
// them: the profile says so in its Ready condition, and the ComplianceReports are still written.
func TestPolicyReportsWithoutTheirCRDs(t *testing.T) {
	ctx := context.Background()
	const name = "fault-no-policyreports"
	scenario(t, name)
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.PolicyReports = true
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	startManager(t)
	eventually(t, 30*time.Second, "Ready=False with reason PolicyReportsUnavailable, and the report written", func() error {
		got := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, got); err != nil {
			return err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonPolicyReportsUnavailable ||
			!strings.Contains(c.Message, "install the PolicyReport CRDs") {
			return fmt.Errorf("Ready %+v", c)
		}
		if rep, err := report(name); err != nil || privilegedFinding(rep) != v1alpha1.ResultFail {
			return fmt.Errorf("report: %v", err)
		}
		return nil
	})
}

// TestReportsNamingNoProfileAreSweptAtStart: a report written while the operator was not
// running, named after no profile (left by a profile deleted meanwhile, or forged), is deleted
// when the operator starts; watch events alone would never see it.
func TestReportsNamingNoProfileAreSweptAtStart(t *testing.T) {
	ctx := context.Background()
	const name = "fault-sweep"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	// Only the operator may write reports once its admission policy is in place (an earlier
	// test's operator applied it): the report is forged as before the install, without it.
	writer := &admissionv1.ValidatingAdmissionPolicyBinding{}
	writer.Name = admissionpolicy.ReportWriter
	if err := k8s.Delete(ctx, writer); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	forged := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "no-such-profile", Namespace: name},
		Spec: v1alpha1.ComplianceReportSpec{Profile: "no-such-profile"}}
	eventually(t, 10*time.Second, "a report written without the policy", func() error {
		return k8s.Create(ctx, forged) // the API server stops applying the deleted binding a moment later
	})
	forged.Status.Result = v1alpha1.Compliant
	if err := k8s.Status().Update(ctx, forged); err != nil {
		t.Fatal(err)
	}
	startManager(t) // it applies its policies again
	eventually(t, 30*time.Second, "the report is deleted", func() error {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(forged), &v1alpha1.ComplianceReport{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}

//go:build e2e

package kubectlplugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/demo"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// The tests share the demo's cluster: a real kube-apiserver and etcd, the operator binary
// running against it with its admission policies, the demo's namespaces (legacy failing,
// payments with one approved exception, shop compliant) and their reports. The same binary is
// linked as kubectl-soc2 into a directory on PATH, and every command goes through the real
// kubectl, as a user types it.
var (
	d          *demo.Demo
	pluginDir  string
	kubeconfig string // contexts "demo" (the envtest API server) and "unreachable" (current)
)

func TestMain(m *testing.M) {
	testenv.Main(m, func(m *testing.M) (int, error) {
		var err error
		d, err = demo.Start(context.Background(), io.Discard)
		if err != nil {
			return 0, err
		}
		defer d.Stop()
		if pluginDir, err = os.MkdirTemp("", "kubectl-soc2-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(pluginDir)
		// What `make kubectl-plugin` does: the operator binary under the plugin's name.
		if err := os.Symlink(d.Binary, filepath.Join(pluginDir, "kubectl-soc2")); err != nil {
			return 0, err
		}
		if kubeconfig, err = twoContexts(d.Kubeconfig, pluginDir); err != nil {
			return 0, err
		}
		return m.Run(), nil
	})
}

// twoContexts writes a kubeconfig whose current context points at nothing (so only --context
// reaches the cluster) and whose context "demo" is the demo's admin.
func twoContexts(src, dir string) (string, error) {
	cfg, err := clientcmd.LoadFromFile(src)
	if err != nil {
		return "", err
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		return "", fmt.Errorf("%s has no current context", src)
	}
	demoCtx := ctx.DeepCopy()
	cfg.Contexts["demo"] = demoCtx
	unreachable := cfg.Clusters[ctx.Cluster].DeepCopy()
	unreachable.Server = "https://127.0.0.1:1"
	cfg.Clusters["unreachable"] = unreachable
	bad := ctx.DeepCopy()
	bad.Cluster = "unreachable"
	cfg.Contexts["unreachable"] = bad
	cfg.CurrentContext = "unreachable"
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

type result struct {
	stdout, stderr string
	code           int
}

// kubectl runs the real kubectl with the plugin on PATH and the two-context kubeconfig; lines
// fit COLUMNS=100 unless env says otherwise.
func kubectl(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(d.Kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"), "COLUMNS=100")
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// ok runs `kubectl soc2 ARGS --context demo` and fails the test unless it exits 0.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := kubectl(t, nil, append(append([]string{"soc2"}, args...), "--context", "demo")...)
	if r.code != 0 {
		t.Fatalf("kubectl soc2 %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// rows splits table output into the header's fields and each row's line.
func rows(t *testing.T, out string) (header string, byFirst map[string]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	byFirst = map[string]string{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, " ") {
			byFirst[f[0]] = l
		}
	}
	return lines[0], byFirst
}

// findingRows are the table's rows without the messages wrapped under them.
func findingRows(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n")[1:] {
		if l != "" && !strings.HasPrefix(l, " ") {
			rows = append(rows, strings.Fields(l))
		}
	}
	return rows
}

func fits(t *testing.T, out string, width int) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > width {
			t.Errorf("line of %d characters, wider than %d:\n%s", n, width, l)
		}
	}
}

func TestStatusShowsEveryNamespacesCriteria(t *testing.T) {
	wide := kubectl(t, []string{"COLUMNS=200"}, "soc2", "status", "-A", "--context", "demo")
	if wide.code != 0 {
		t.Fatalf("exit %d: %s", wide.code, wide.stderr)
	}
	header, byNS := rows(t, wide.stdout)
	// One profile: no PROFILE column (-o wide has it).
	if got := strings.Join(strings.Fields(header), " "); got != "NAMESPACE RESULT SCORE FINDINGS EXCEPTED EVALUATED CRITERIA" {
		t.Errorf("header %q", got)
	}
	if len(byNS) != 3 {
		t.Errorf("want a line for each of legacy, payments and shop:\n%s", wide.stdout)
	}
	for ns, want := range map[string][]string{
		// legacy fails 9 criteria, among them CC6.1 (a privileged container: Critical).
		"legacy":   {" NonCompliant ", "(C2 ", "9 fail: CC6.1 CC6.3 ", " pass"},
		"payments": {" Compliant ", " 100 ", " 1 ", "1 excepted: CC6.8"},
		"shop":     {" Compliant ", " 100 ", " pass"},
	} {
		for _, w := range want {
			if !strings.Contains(byNS[ns], w) {
				t.Errorf("%s's line lacks %q:\n%s", ns, w, wide.stdout)
			}
		}
	}
	fits(t, wide.stdout, 200)

	// 100 columns: the criteria are cut, the failing count first.
	out := ok(t, "status", "-A")
	fits(t, out, 100)
	if _, byNS := rows(t, out); !strings.Contains(byNS["legacy"], "9 fail") || !strings.Contains(byNS["legacy"], "…") {
		t.Errorf("at 100 columns want legacy's criteria cut after the failing count:\n%s", out)
	}
	narrow := kubectl(t, []string{"COLUMNS=72"}, "soc2", "status", "-A", "--context", "demo")
	if narrow.code != 0 {
		t.Fatalf("exit %d: %s", narrow.code, narrow.stderr)
	}
	fits(t, narrow.stdout, 72)
	// -o wide cuts nothing, and lists every report's criteria.
	w := ok(t, "status", "-A", "-o", "wide")
	if h, byNS := rows(t, w); !strings.HasPrefix(h, "NAMESPACE  PROFILE") || !strings.Contains(byNS["legacy"], demo.Profile) ||
		!strings.Contains(w, "9 fail: CC6.1") || strings.Count(w, "Criteria of ") != 3 {
		t.Errorf("-o wide:\n%s", w)
	}
}

func TestStatusOfOneNamespaceListsEveryCriterion(t *testing.T) {
	out := ok(t, "status", "-n", "legacy")
	if strings.Contains(out, "payments") {
		t.Errorf("-n legacy shows another namespace:\n%s", out)
	}
	if !regexp.MustCompile(`CRITERION +STATUS +CHECKS +UNASSESSED +FAILED`).MatchString(out) {
		t.Errorf("the criteria table does not count the checks that assessed nothing (UNASSESSED):\n%s", out)
	}
	_, crit := rows(t, out[strings.Index(out, "CRITERION"):])
	if !strings.Contains(crit["CC6.1"], "Fail") || !strings.Contains(crit["CC6.1"], "Logical access security") {
		t.Errorf("CC6.1 line %q: want Fail and its title\n%s", crit["CC6.1"], out)
	}
	if len(crit) < 9 {
		t.Errorf("want every criterion in scope listed, got %d:\n%s", len(crit), out)
	}
}

func TestStatusPrintsTheReportsAsJSONAndYAML(t *testing.T) {
	var l struct {
		Kind  string                      `json:"kind"`
		Items []v1alpha1.ComplianceReport `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok(t, "status", "-A", "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	if l.Kind != "List" || len(l.Items) != 3 {
		t.Fatalf("want a List of 3 reports, got %s with %d", l.Kind, len(l.Items))
	}
	for _, r := range l.Items {
		if r.Kind != "ComplianceReport" || r.APIVersion != v1alpha1.GroupVersion.String() || r.Spec.Profile != demo.Profile || len(r.Status.Criteria) == 0 {
			t.Errorf("item %s/%s: kind %q, apiVersion %q, profile %q, %d criteria", r.Namespace, r.Name, r.Kind, r.APIVersion, r.Spec.Profile, len(r.Status.Criteria))
		}
	}
	var y struct {
		Items []v1alpha1.ComplianceReport `json:"items"`
	}
	if err := yaml.Unmarshal([]byte(ok(t, "status", "-n", "payments", "-o", "yaml")), &y); err != nil {
		t.Fatal(err)
	}
	if len(y.Items) != 1 || y.Items[0].Namespace != "payments" || y.Items[0].Status.Summary.Excepted != 1 {
		t.Errorf("-n payments -o yaml: %+v", y.Items)
	}
}

// TestKubectlFlagsChooseTheCluster: the kubeconfig's current context points at nothing;
// --context, before or after the subcommand, reaches the cluster. kubectl itself refuses flags
// before a plugin's name.
func TestKubectlFlagsChooseTheCluster(t *testing.T) {
	r := kubectl(t, nil, "soc2", "status", "-A")
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("the current context's unreachable server: exit %d, stderr %q; want 1 and the server named", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"soc2", "--context", "demo", "status", "-A"},
		{"soc2", "status", "-A", "--context=demo"},
		{"soc2", "status", "--kubeconfig", d.Kubeconfig, "-A"},
	} {
		r := kubectl(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "legacy") {
			t.Errorf("kubectl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	r = kubectl(t, nil, "--context", "demo", "soc2", "status")
	if r.code == 0 || !strings.Contains(r.stderr, "flags cannot be placed before plugin name") {
		t.Errorf("kubectl --context demo soc2: exit %d, stderr %q (kubectl has refused this since plugins exist)", r.code, r.stderr)
	}
	// --as: a user who may not read reports is told so, with the role that grants it.
	r = kubectl(t, nil, "soc2", "status", "-n", "legacy", "--context", "demo", "--as", "nobody@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "you may not list compliancereports in namespace legacy") || !strings.Contains(r.stderr, "compliance-viewer-role") {
		t.Errorf("--as nobody: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestFindingsOfACriterion(t *testing.T) {
	out := ok(t, "findings", "legacy", "--criterion", "CC6.1")
	header, _ := rows(t, out)
	for _, col := range []string{"SEVERITY", "CHECK", "RESOURCE", "CONTAINER", "RESULT", "FIRST SEEN"} {
		if !strings.Contains(header, col) {
			t.Errorf("header %q lacks %s", header, col)
		}
	}
	supports := map[string]bool{}
	for _, c := range checks.Catalogue() {
		supports[c.ID] = slices.Contains(c.Criteria, "CC6.1")
	}
	lines := findingRows(out)
	if len(lines) == 0 {
		t.Fatalf("no findings:\n%s", out)
	}
	sawPrivileged := false
	for _, f := range lines {
		if !supports[f[1]] {
			t.Errorf("check %s does not support CC6.1: %v", f[1], f)
		}
		if f[1] == "wl-privileged" && slices.Contains(f, "sysctl-tuner") && f[0] == "Critical" {
			sawPrivileged = true
		}
	}
	if !sawPrivileged {
		t.Errorf("want legacy's privileged container sysctl-tuner listed as a Critical wl-privileged finding:\n%s", out)
	}
	// The message is under its finding, whole.
	if !strings.Contains(strings.Join(strings.Fields(out), " "), `violates PodSecurity "restricted:latest": privileged (container "sysctl-tuner" must not set securityContext.privileged=true)`) {
		t.Errorf("the privileged finding's message is missing:\n%s", out)
	}
	fits(t, out, 100)

	// --severity is a floor; -o wide prints a line per finding, message included.
	for _, f := range findingRows(ok(t, "findings", "legacy", "--severity", "high")) {
		if f[0] != "Critical" && f[0] != "High" {
			t.Errorf("--severity high listed a %s finding: %v", f[0], f)
		}
	}
	wide := ok(t, "findings", "legacy", "--check", "wl-privileged", "-o", "wide")
	if h, _ := rows(t, wide); !strings.HasSuffix(h, "EXCEPTION  MESSAGE") {
		t.Errorf("-o wide header %q: want EXCEPTION and MESSAGE last", h)
	}
	for _, l := range strings.Split(strings.TrimSpace(wide), "\n")[1:] {
		if !strings.HasPrefix(l, "Critical  wl-privileged") || !strings.Contains(l, "violates PodSecurity") {
			t.Errorf("-o wide: want one line per finding with its message:\n%s", wide)
		}
	}

	// payments' finding is excepted, naming the exception.
	if out := ok(t, "findings", "-n", "payments"); !strings.Contains(out, "excepted by payments/"+demo.SampleException+": ") || findingRows(out)[0][4] != "Excepted" {
		t.Errorf("payments: want the excepted finding with its exception:\n%s", out)
	}
	var j struct {
		Findings []struct {
			Namespace, Profile, Check string
			Criteria                  []string
		}
		// Each report the findings come from, with what it lists and counts.
		Reports []struct {
			Namespace, Profile            string
			ListedFindings, TotalFindings int
			Stale                         bool
		}
	}
	if err := json.Unmarshal([]byte(ok(t, "findings", "legacy", "--criterion", "cc6.1", "-o", "json")), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Findings) != len(lines) || j.Findings[0].Namespace != "legacy" || j.Findings[0].Profile != demo.Profile || !slices.Contains(j.Findings[0].Criteria, "CC6.1") {
		t.Errorf("-o json: %d findings (table %d), first %+v", len(j.Findings), len(lines), j.Findings)
	}
	if len(j.Reports) != 1 || j.Reports[0].Namespace != "legacy" || j.Reports[0].Profile != demo.Profile ||
		j.Reports[0].TotalFindings < j.Reports[0].ListedFindings || j.Reports[0].ListedFindings < len(j.Findings) || j.Reports[0].Stale {
		t.Errorf("-o json: reports %+v, want legacy's report of %s, listing at least the %d findings, current", j.Reports, demo.Profile, len(j.Findings))
	}

	r := kubectl(t, nil, "soc2", "findings", "legacy", "--criterion", "CC9.9", "--context", "demo")
	if r.code != 2 || !strings.Contains(r.stderr, "--criterion CC9.9: not a SOC 2 criterion") {
		t.Errorf("unknown criterion: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestNoReportSaysWhy: default is excluded from the profile (the demo labels it so).
func TestNoReportSaysWhy(t *testing.T) {
	r := kubectl(t, nil, "soc2", "status", "-n", "default", "--context", "demo")
	want := "No ComplianceReports in namespace default. The ComplianceProfiles (soc2-baseline) do not select it"
	if r.code != 0 || !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Errorf("status -n default: exit %d, stdout %q, stderr %q; want 0 and %q", r.code, r.stdout, r.stderr, want)
	}
	r = kubectl(t, nil, "soc2", "findings", "default", "--context", "demo")
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("findings default: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestExplainACheck(t *testing.T) {
	out := ok(t, "explain", "wl-privileged")
	var c = checks.Catalogue()[0]
	if c.ID != "wl-privileged" {
		t.Fatalf("the catalogue starts with %s", c.ID)
	}
	for _, want := range []string{"wl-privileged: " + c.Title, "Severity:  Critical", "CC6.1  Logical access security", "CC6.8", "privileged (baseline)",
		"What it checks, and why:", "How to fix a failure:", strings.Fields(c.Remediation)[0]} {
		if !strings.Contains(out, want) {
			t.Errorf("explain wl-privileged lacks %q:\n%s", want, out)
		}
	}
	r := kubectl(t, nil, "soc2", "explain", "wl-privilegd")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown check "wl-privilegd"; did you mean "wl-privileged"`) {
		t.Errorf("a typo: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := ok(t, "explain", "CC6.1"); !strings.Contains(out, "wl-privileged") || !strings.Contains(out, "built-in checks support it") {
		t.Errorf("explain CC6.1:\n%s", out)
	}
	var x struct{ ID, Remediation string }
	if err := json.Unmarshal([]byte(ok(t, "explain", "img-mutable-tag", "-o", "json")), &x); err != nil || x.ID != "img-mutable-tag" || x.Remediation == "" {
		t.Errorf("-o json: %+v, %v", x, err)
	}
}

func TestHelpAndUsage(t *testing.T) {
	for _, args := range [][]string{{"soc2"}, {"soc2", "--help"}, {"soc2", "help"}} {
		r := kubectl(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:\n  kubectl soc2 <command> [flags]") || r.stderr != "" {
			t.Errorf("kubectl %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	for _, sub := range []string{"status", "findings", "explain", "request-exception", "approve"} {
		r := kubectl(t, nil, "soc2", sub, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:\n  kubectl soc2 "+sub) || r.stderr != "" {
			t.Errorf("kubectl soc2 %s --help: exit %d, stdout %q, stderr %q", sub, r.code, r.stdout, r.stderr)
		}
		if sub != "explain" && !strings.Contains(r.stdout, "--context") {
			t.Errorf("kubectl soc2 %s --help does not list kubectl's flags", sub)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"soc2", "stauts"}, `unknown command "stauts"`},
		{[]string{"soc2", "status", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"soc2", "status", "-o", "xml"}, "-o xml: want one of table, wide, json, yaml"},
		{[]string{"soc2", "explain"}, "want one check ID or criterion"},
		{[]string{"soc2", "request-exception", "x", "--check", "wl-privileged"}, "missing --reason, --owner, --expires"},
		{[]string{"soc2", "approve"}, "want the exception's name"},
	} {
		r := kubectl(t, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("kubectl %s: exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	// The same commands from the operator binary.
	cmd := exec.Command(d.Binary, "kubectl", "explain", "wl-hostpath")
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "wl-hostpath: ") {
		t.Errorf("soc2-operator kubectl explain wl-hostpath: %v\n%s", err, out)
	}
}

// TestRequestAndApproveAnException is the approval flow of the README with the plugin: a
// payments developer requests, cannot approve their own request, a colleague without the
// approver role cannot either, and security approves with a comment; the operator then trusts
// the approval.
func TestRequestAndApproveAnException(t *testing.T) {
	const name = "gateway-no-liveness"
	const colleague = "payments-dev2@example.com"
	if out, err := d.Run(context.Background(), "create", "rolebinding", "payments-requesters-2", "-n", "payments",
		"--clusterrole=controlexception-requester-role", "--user="+colleague); err != nil {
		t.Fatal(out, err)
	}
	t.Cleanup(func() {
		_, _ = d.Run(context.Background(), "delete", "controlexception", name, "-n", "payments", "--ignore-not-found")
		_, _ = d.Run(context.Background(), "delete", "rolebinding", "payments-requesters-2", "-n", "payments")
	})
	out := ok(t, "request-exception", name, "-n", "payments", "--check", "avl-liveness-probe", "--kind", "Deployment",
		"--name", "legacy-gateway", "--reason", "The vendor gateway has no health endpoint until the rewrite.",
		"--owner", "payments-team@example.com", "--expires", "30d", "--as", demo.Requester)
	for _, want := range []string{"controlexception.compliance.soc2-operator.io/" + name + " requested in namespace payments",
		"requested by: " + demo.Requester, "kubectl soc2 approve " + name + " -n payments"} {
		if !strings.Contains(out, want) {
			t.Errorf("request-exception printed:\n%s\nwant %q", out, want)
		}
	}
	state := func(want string) {
		t.Helper()
		testenv.Eventually(t, 30*time.Second, "exception state "+want, func() error {
			got, err := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.status.state}")
			if err != nil || got != want {
				return fmt.Errorf("state %q (%v)", got, err)
			}
			return nil
		})
	}
	state("PendingApproval")
	// What the approval would cover, which approve pins.
	var would string
	testenv.Eventually(t, 30*time.Second, "the pending exception's wouldCoverDigest", func() error {
		got, err := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.status.wouldCoverDigest}")
		if err != nil || got == "" {
			return fmt.Errorf("would cover %q (%v)", got, err)
		}
		would = got
		return nil
	})

	refused := func(as, want string) {
		t.Helper()
		r := kubectl(t, nil, "soc2", "approve", name, "-n", "payments", "--context", "demo", "--as", as)
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("approve as %s: exit %d, stderr %q; want 1 and %q", as, r.code, r.stderr, want)
		}
	}
	refused(demo.Requester, "payments-dev@example.com requested this exception (spec.requestedBy) and cannot approve it")
	refused(colleague, "user "+colleague+" may not approve controlexceptions in namespace payments")
	if got, _ := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.approval}"); got != "" {
		t.Fatalf("a refused approval left %s", got)
	}

	out = ok(t, "approve", name, "-n", "payments", "--comment", "Accepted until the rewrite ships", "--as", demo.Approver)
	if !strings.Contains(out, "approved by "+demo.Approver) || !strings.Contains(out, "requested by: "+demo.Requester) {
		t.Errorf("approve printed:\n%s", out)
	}
	got, err := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", `jsonpath={.approval.approvedBy}|{.approval.comment}`)
	if err != nil || got != demo.Approver+"|Accepted until the rewrite ships" {
		t.Errorf("approval = %q (%v)", got, err)
	}
	if got, _ := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.approval.coveredDigest}"); got != would ||
		!strings.Contains(out, "approval.coveredDigest "+would) {
		t.Errorf("approval.coveredDigest = %q, want the wouldCoverDigest read before, %q; approve printed:\n%s", got, would, out)
	}
	state("Active")
	testenv.Eventually(t, 30*time.Second, "the approval recording the pinned digest", func() error {
		got, err := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.status.coveredDigest}|{.status.approvedCoveredDigest}")
		covered := would
		if would == "none" {
			covered = "" // coveredDigest is empty when it covers nothing
		}
		if err != nil || got != covered+"|"+would {
			return fmt.Errorf("covered|approved %q (%v), want %q|%q", got, err, covered, would)
		}
		return nil
	})
	if got, _ := d.Run(context.Background(), "get", "cexc", name, "-n", "payments", "-o", "jsonpath={.status.approvedBy}"); got != demo.Approver {
		t.Errorf("status.approvedBy = %q, want %s (the operator trusts the approval)", got, demo.Approver)
	}
	// Approving again changes nothing.
	if out := ok(t, "approve", name, "-n", "payments", "--comment", "Accepted until the rewrite ships", "--as", demo.Approver); !strings.Contains(out, "already approved by "+demo.Approver) {
		t.Errorf("second approve printed:\n%s", out)
	}

	// The same name again: the existing exception is named.
	r := kubectl(t, nil, "soc2", "request-exception", name, "-n", "payments", "--check", "avl-liveness-probe", "--reason", "once more, with feeling",
		"--owner", "x", "--expires", "2d", "--context", "demo", "--as", demo.Requester)
	if r.code != 1 || !strings.Contains(r.stderr, "controlexception payments/"+name+" already exists") {
		t.Errorf("a second request with the same name: exit %d, stderr %q", r.code, r.stderr)
	}
	// The API server's validation reaches the user with the field it names.
	r = kubectl(t, nil, "soc2", "request-exception", "too-short", "-n", "payments", "--check", "avl-liveness-probe", "--reason", "because",
		"--owner", "x", "--expires", "2d", "--context", "demo", "--as", demo.Requester)
	if r.code != 1 || !strings.Contains(r.stderr, "spec.reason") {
		t.Errorf("a one-word reason: exit %d, stderr %q", r.code, r.stderr)
	}
	r = kubectl(t, nil, "soc2", "approve", "no-such-exception", "-n", "payments", "--context", "demo", "--as", demo.Approver)
	if r.code != 1 || !strings.Contains(r.stderr, "controlexception payments/no-such-exception not found") {
		t.Errorf("approving a missing exception: exit %d, stderr %q", r.code, r.stderr)
	}
}

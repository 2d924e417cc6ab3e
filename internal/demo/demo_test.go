//go:build e2e

package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One demo for the package: the same path `make demo` walks, with the real kubectl.
var d *Demo

func TestMain(m *testing.M) {
	var err error
	d, err = Start(context.Background(), io.Discard)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	d.Stop()
	os.Exit(code)
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := d.Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// table splits kubectl's table output into a header and rows of columns.
func table(t *testing.T, out string) ([]string, [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("not a table:\n%s", out)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return strings.Fields(lines[0]), rows
}

func TestGetComplianceReports(t *testing.T) {
	header, rows := table(t, kubectl(t, "get", "compliancereports", "-A"))
	want := []string{"NAMESPACE", "NAME", "STATUS", "READY", "STALE", "SCORE", "FAILED-CRITERIA", "FINDINGS", "CRITICAL", "EXCEPTED", "EVALUATED", "AGE"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Fatalf("columns %v, want %v", header, want)
	}
	got := map[string][]string{}
	for _, r := range rows {
		got[r[0]] = r
	}
	type row struct{ status, score, failedCriteria, critical, excepted string }
	expect := map[string]row{
		"shop":     {status: "Compliant", score: "100", failedCriteria: "0", critical: "0", excepted: "0"},
		"payments": {status: "Compliant", score: "100", failedCriteria: "0", critical: "0", excepted: "1"},
		// 9: binding edit to system:authenticated fails CC6.7 too (Secrets readable), judged with
		// edit's bootstrap rules; the test control plane runs no aggregation controller, so
		// its own edit role shows no rules.
		"legacy": {status: "NonCompliant", failedCriteria: "9", critical: "2", excepted: "0"},
	}
	if len(got) != len(expect) {
		t.Errorf("reports in %v, want exactly shop, payments and legacy", keys(got))
	}
	for ns, e := range expect {
		r := got[ns]
		if r == nil {
			t.Errorf("no report in %s", ns)
			continue
		}
		if r[1] != Profile || r[2] != e.status || r[3] != "True" || r[4] != "False" || (e.score != "" && r[5] != e.score) || r[6] != e.failedCriteria || r[8] != e.critical || r[9] != e.excepted {
			t.Errorf("%s: %v, want status %s, ready True, stale False, score %s failed criteria %s critical %s excepted %s", ns, r, e.status, e.score, e.failedCriteria, e.critical, e.excepted)
		}
	}
	// The short name lists the same.
	if _, short := table(t, kubectl(t, "get", "crep", "-A")); len(short) != len(rows) {
		t.Errorf("kubectl get crep -A lists %d reports, want %d", len(short), len(rows))
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGetSoc2ListsAllThreeKinds(t *testing.T) {
	out := kubectl(t, "get", "soc2", "-A")
	for _, want := range []string{
		"complianceprofile.compliance.soc2-operator.io/soc2-baseline",
		"compliancereport.compliance.soc2-operator.io/soc2-baseline",
		"controlexception.compliance.soc2-operator.io/legacy-gateway-writable-rootfs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get soc2 -A lacks %s:\n%s", want, out)
		}
	}
	header, rows := table(t, kubectl(t, "get", "complianceprofiles"))
	if strings.Join(header, " ") != "NAME READY STATUS NAMESPACES NON-COMPLIANT CLUSTER-FINDINGS CLUSTER-EXCEPTED REASON AGE" {
		t.Errorf("profile columns %v", header)
	}
	if len(rows) != 1 || rows[0][1] != "True" || rows[0][2] != "NonCompliant" || rows[0][3] != "3" || rows[0][4] != "1" || rows[0][7] != "Evaluated" {
		t.Errorf("profile row %v: want Ready True, NonCompliant, 3 namespaces, 1 non-compliant, reason Evaluated", rows)
	}
	header, rows = table(t, kubectl(t, "get", "cexc", "-A"))
	if strings.Join(header, " ") != "NAMESPACE NAME STATE FINDINGS OWNER REQUESTER APPROVER EXPIRES AGE" {
		t.Errorf("exception columns %v", header)
	}
	if len(rows) != 1 || rows[0][2] != "Active" || rows[0][3] != "1" || rows[0][4] != "payments-team@example.com" ||
		rows[0][5] != Requester || rows[0][6] != Approver {
		t.Errorf("exception row %v: want Active, covering 1 finding, with its owner, requester %s and approver %s", rows, Requester, Approver)
	}
}

func TestDescribeReport(t *testing.T) {
	// kubectl aligns values with spaces; compare with runs of spaces folded.
	fold := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	out := fold(kubectl(t, "describe", "compliancereport", Profile, "-n", "legacy"))
	for _, want := range []string{
		"Kind: ComplianceReport",
		"Owner References: API Version: compliance.soc2-operator.io/v1alpha1 Block Owner Deletion: true Controller: true Kind: ComplianceProfile Name: soc2-baseline",
		"Id: CC6.1 Status: Fail",
		"Check: wl-privileged Container: sysctl-tuner",
		`Message: violates PodSecurity "restricted:latest": privileged (container "sysctl-tuner" must not set securityContext.privileged=true)`,
		"Name: monolith",
		"Severity: Critical",
		"Reason: Evaluated Status: True Type: Ready",
		"Reason: UpToDate Status: False Type: Stale",
		"Result: NonCompliant",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl describe lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("kubectl describe printed:\n%s", out)
	}
	// The excepted finding in payments names its exception.
	out = fold(kubectl(t, "describe", "compliancereport", Profile, "-n", "payments"))
	for _, want := range []string{"Exception: payments/legacy-gateway-writable-rootfs", "Result: Excepted", "Result: Compliant"} {
		if !strings.Contains(out, want) {
			t.Errorf("payments report lacks %q:\n%s", want, out)
		}
	}
}

func TestApplyBadExceptionPrintsWhy(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad-exception.yaml")
	if err := os.WriteFile(bad, []byte(`apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata:
  name: please-ignore-everything
  namespace: shop
spec:
  owner: someone@example.com
  reason: because
  expires: "2027-01-01T00:00:00Z"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := d.Run(context.Background(), "apply", "-f", bad)
	var ke *KubectlError
	if !errors.As(err, &ke) {
		t.Fatalf("kubectl apply accepted an exception with no check, no criterion and a one-word reason (err %v)", err)
	}
	for _, want := range []string{
		`The ControlException "please-ignore-everything" is invalid`,
		`spec: Invalid value: an exception must name at least one check or criterion`,
		`spec.reason: Invalid value: "because": spec.reason in body should be at least 10 chars long`,
	} {
		if !strings.Contains(ke.Stderr, want) {
			t.Errorf("kubectl apply printed:\n%s\nwant it to contain %q", ke.Stderr, want)
		}
	}
}

func TestExplainDocumentsTheFields(t *testing.T) {
	out := kubectl(t, "explain", "compliancereport.status.score")
	if !strings.Contains(out, "score is 0-100: the severity-weighted share of assessed checks") {
		t.Errorf("kubectl explain:\n%s", out)
	}
}

// TestTheDemoJournalBuildsAVerifiedPack: the demo's operator journals what it saw; the evidence
// pack of the demo's period verifies with the demo's key and lists the legacy namespace's
// deviations.
func TestTheDemoJournalBuildsAVerifiedPack(t *testing.T) {
	out := filepath.Join(t.TempDir(), "evidence")
	var log strings.Builder
	if err := d.EvidencePack(context.Background(), out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "chain verified") || !strings.Contains(log.String(), "signed by key") {
		t.Errorf("output:\n%s", log.String())
	}
	devs, err := os.ReadFile(filepath.Join(out, "deviations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(devs), "soc2-baseline,legacy,") {
		t.Errorf("no deviation of the legacy namespace in deviations.csv:\n%.2000s", devs)
	}
	for _, f := range []string{"index.html", "MANIFEST.sha256", "controls.csv", "exceptions.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestApprovalFlowWithKubectl is the separation of duties as two people see it with kubectl: the
// requester cannot approve their own exception or approve in someone else's name, an approver
// can, and an edit voids the approval.
func TestApprovalFlowWithKubectl(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "exception.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata:
  name: gateway-probes
  namespace: payments
spec:
  checks: [avl-liveness-probe]
  reason: The vendor gateway has no health endpoint until the rewrite.
  owner: payments-team@example.com
  expires: "`+time.Now().Add(7*24*time.Hour).UTC().Format(time.RFC3339)+`"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Run(ctx, "apply", "-f", file, "--as", Requester); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = d.Run(ctx, "delete", "-f", file) })
	state := func(want string) {
		t.Helper()
		if err := d.waitFor(ctx, 30*time.Second, want, "get", "cexc", "gateway-probes", "-n", "payments", "-o", "jsonpath={.status.state}"); err != nil {
			t.Fatal(err)
		}
	}
	state("PendingApproval")
	if got := kubectl(t, "get", "cexc", "gateway-probes", "-n", "payments", "-o", "jsonpath={.spec.requestedBy}"); got != Requester {
		t.Errorf("spec.requestedBy = %q, want %q (recorded by the API server)", got, Requester)
	}

	approve := func(as, approvedBy string) error {
		_, err := d.Run(ctx, "patch", "cexc", "gateway-probes", "-n", "payments", "--type", "merge",
			"-p", `{"approval":{"approvedBy":"`+approvedBy+`"}}`, "--as", as)
		return err
	}
	refused := func(what string, err error, want string) {
		t.Helper()
		var ke *KubectlError
		if !errors.As(err, &ke) || !strings.Contains(ke.Stderr, want) {
			t.Errorf("%s: want kubectl to print %q, got %v", what, want, err)
		}
	}
	refused("the requester approves their own exception", approve(Requester, Requester),
		"payments-dev@example.com requested this exception (spec.requestedBy) and cannot approve it")
	refused("the requester writes the approver's name", approve(Requester, Approver),
		"approval.approvedBy must be your own user name (payments-dev@example.com), not security@example.com")
	if err := approve(Approver, Approver); err != nil {
		t.Fatalf("the approver approves: %v", err)
	}
	state("Active")

	// An edit by the requester voids the approval.
	if _, err := d.Run(ctx, "patch", "cexc", "gateway-probes", "-n", "payments", "--type", "merge",
		"-p", `{"spec":{"reason":"The vendor gateway has no health endpoint; widened on purpose."}}`, "--as", Requester); err != nil {
		t.Fatal(err)
	}
	state("PendingApproval")
	if got := kubectl(t, "get", "cexc", "gateway-probes", "-n", "payments", "-o", "jsonpath={.approval}"); got != "" {
		t.Errorf("approval after an edit = %q, want it removed", got)
	}
}

// TestTheDashboardOpensWithTheViewersToken follows what the demo prints: a token from
// `kubectl create token dashboard-viewer -n default` opens the dashboard, which lists the three
// namespaces.
func TestTheDashboardOpensWithTheViewersToken(t *testing.T) {
	token := strings.TrimSpace(kubectl(t, "create", "token", DashboardViewer, "-n", "default"))
	req, err := http.NewRequest(http.MethodGet, d.DashboardURL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", d.DashboardURL, resp.StatusCode, body)
	}
	for _, ns := range Namespaces {
		if !strings.Contains(string(body), `data-namespace="`+ns+`"`) {
			t.Errorf("the dashboard does not list %s", ns)
		}
	}
	// The demo journals evidence, so the dashboard draws its trends.
	req, _ = http.NewRequest(http.MethodGet, d.DashboardURL+"/trends", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `class="chart criterion"`) || !strings.Contains(string(body), ">legacy (soc2-baseline)<") {
		t.Errorf("GET %s/trends: %d, no criterion chart with legacy's row", d.DashboardURL, resp.StatusCode)
	}
}

// TestExceptionExpiryIsExported: the operator exports when the demo's Active exception expires,
// the series config/prometheus's SOC2ExceptionExpiringSoon alert reads.
func TestExceptionExpiryIsExported(t *testing.T) {
	expires, err := time.Parse(time.RFC3339, strings.TrimSpace(kubectl(t, "get", "controlexception", SampleException, "-n", "payments", "-o", "jsonpath={.spec.expires}")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Manager.Metric(context.Background(), `soc2_operator_exception_expiry_timestamp_seconds{exception="`+SampleException+`",namespace="payments"}`)
	if err != nil {
		t.Fatal(err)
	}
	if int64(got) != expires.Unix() {
		t.Fatalf("soc2_operator_exception_expiry_timestamp_seconds of %s is %v, want %d (%s)", SampleException, got, expires.Unix(), expires)
	}
}

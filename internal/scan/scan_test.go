package scan

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var scanNow = func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }

func runScan(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	old := version.Version
	version.Version = "v0.0.0-test"
	defer func() { version.Version = old }()
	var out, errOut bytes.Buffer
	code = Run(args, strings.NewReader(stdin), &out, &errOut, scanNow)
	return out.String(), errOut.String(), code
}

// scanUnderProfile scans the manifests in dir (a file or directory) under a profile with the
// given spec lines (profileWith), as JSON with every result; rep is empty when scan wrote
// nothing to standard output.
func scanUnderProfile(t *testing.T, dir, spec string) (rep Report, stderr string, code int) {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "profile.yaml")
	writeFile(t, profile, profileWith(spec))
	stdout, stderr, code := runScan(t, "", "-f", dir, "--profile", profile, "-o", "json", "--show", "all", "--fail-on", "none")
	if stdout != "" {
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%v\nstderr: %s", err, stderr)
		}
	}
	return rep, stderr, code
}

// TestGoldenOutputs pins every output format on the same input: a hardened and a careless
// workload, a List in JSON, a file with broken documents, a profile and exceptions. Run with
// -update after a deliberate change and review the diff.
func TestGoldenOutputs(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runScan(t, "", "-f", "testdata/manifests", "--profile", "testdata/profile.yaml",
				"--exceptions", "testdata/exceptions.yaml", "-o", format)
			if code != ExitInput {
				t.Errorf("exit code %d, want %d (broken documents were read around)\nstderr: %s", code, ExitInput, stderr)
			}
			golden := filepath.Join("testdata", "golden", "scan."+format)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/scan -update to create it)", err)
			}
			if stdout != string(want) {
				t.Errorf("%s output differs from %s (run with -update and review the diff):\n%s", format, golden, firstDiff(string(want), stdout))
			}
			assertWellFormed(t, format, stdout)
		})
	}
}

// assertWellFormed checks each machine format with a real parser: JSON and YAML decode, JUnit
// is XML with test suites, SARIF passes the SARIF 2.1.0 JSON schema with no unknown fields.
func assertWellFormed(t *testing.T, format, out string) {
	t.Helper()
	switch format {
	case "json":
		var rep Report
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("JSON output does not decode into Report: %v", err)
		}
		if rep.Summary.Failing == 0 || len(rep.Findings) == 0 {
			t.Error("JSON output has no findings")
		}
	case "yaml":
		var rep Report
		if err := yaml.UnmarshalStrict([]byte(out), &rep); err != nil {
			t.Fatalf("YAML output does not decode into Report: %v", err)
		}
	case "junit":
		var suites junitSuites
		if err := xml.Unmarshal([]byte(out), &suites); err != nil {
			t.Fatalf("JUnit output is not XML: %v", err)
		}
		if suites.Failures == 0 || len(suites.Suites) == 0 {
			t.Error("JUnit output has no failures")
		}
		passing := 0
		for _, s := range suites.Suites {
			for _, c := range s.Cases {
				if c.Failure == nil && c.Error == nil && c.Skipped == nil {
					passing++
				}
			}
		}
		if passing == 0 {
			t.Error("JUnit output lists no passing test case")
		}
		validateJUnit(t, out)
	case "sarif":
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		var rep sarif.Report
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("SARIF output has fields SARIF 2.1.0 does not define: %v", err)
		}
		res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchemaText(t)), gojsonschema.NewStringLoader(out))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Errors() {
			t.Errorf("SARIF output fails the SARIF 2.1.0 schema: %s", e)
		}
		if len(rep.Runs) != 1 || len(rep.Runs[0].Results) == 0 {
			t.Error("SARIF output has no results")
		}
	case "policyreport":
		assertPolicyReports(t, out)
	}
}

// assertPolicyReports decodes each YAML document into a PolicyReport or ClusterPolicyReport
// with no unknown fields, and checks what Policy Reporter relies on: a report per resource
// (namespaced ones in their namespace, cluster-scoped ones and Namespaces cluster-wide), about
// that resource, with a summary that adds up its results.
func assertPolicyReports(t *testing.T, out string) {
	t.Helper()
	docs := strings.Split(out, "---\n")
	if docs[0] != "" {
		t.Fatalf("policyreport output does not start with ---: %q", docs[0])
	}
	docs = docs[1:]
	if len(docs) == 0 {
		t.Fatal("policyreport output has no reports")
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for i, doc := range docs {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		var r policyreport.Object
		switch meta.Kind {
		case policyreport.KindPolicyReport:
			r = &policyreport.PolicyReport{}
		case policyreport.KindClusterPolicyReport:
			r = &policyreport.ClusterPolicyReport{}
		default:
			t.Fatalf("document %d is a %q", i+1, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), r); err != nil {
			t.Fatalf("document %d does not decode into a %s: %v", i+1, meta.Kind, err)
		}
		kinds[meta.Kind]++
		if meta.APIVersion != "wgpolicyk8s.io/v1alpha2" {
			t.Errorf("document %d has apiVersion %s", i+1, meta.APIVersion)
		}
		scope := r.GetScope()
		if scope == nil || scope.Kind == "" || scope.Name == "" {
			t.Errorf("%s %s has no scope", meta.Kind, r.GetName())
			continue
		}
		clusterScoped := scope.Namespace == ""
		if clusterScoped != (meta.Kind == policyreport.KindClusterPolicyReport) || r.GetNamespace() != scope.Namespace {
			t.Errorf("%s %s/%s is about %s %s/%s", meta.Kind, r.GetNamespace(), r.GetName(), scope.Kind, scope.Namespace, scope.Name)
		}
		if scope.Kind == "Namespace" && meta.Kind != policyreport.KindClusterPolicyReport {
			t.Errorf("Namespace %s is in a %s", scope.Name, meta.Kind)
		}
		key := r.GetNamespace() + "/" + r.GetName()
		if seen[key] {
			t.Errorf("two reports are named %s", key)
		}
		seen[key] = true
		var sum policyreport.Summary
		for _, res := range r.GetResults() {
			switch res.Result {
			case policyreport.StatusPass:
				sum.Pass++
			case policyreport.StatusFail:
				sum.Fail++
			case policyreport.StatusSkip:
				sum.Skip++
			default:
				t.Errorf("%s: %s is %q", key, res.Policy, res.Result)
			}
			if res.Timestamp.Seconds != scanNow().Unix() {
				t.Errorf("%s: %s has timestamp %v, want the scan's time", key, res.Policy, res.Timestamp)
			}
		}
		if r.GetSummary() != sum || len(r.GetResults()) == 0 {
			t.Errorf("%s: summary %+v, results add up to %+v", key, r.GetSummary(), sum)
		}
	}
	if kinds[policyreport.KindPolicyReport] == 0 || kinds[policyreport.KindClusterPolicyReport] == 0 {
		t.Errorf("want both PolicyReports and ClusterPolicyReports, got %v", kinds)
	}
}

// sarifSchemaText is the official SARIF 2.1.0 JSON schema, as the go-sarif module ships it
// (read from the module cache, so that it is not copied into this repository).
func sarifSchemaText(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.IndexByte(src, '`'), bytes.LastIndexByte(src, '`')
	if start < 0 || end <= start {
		t.Fatal("schema.go holds no schema")
	}
	return string(src[start+1 : end])
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return "(no line differs)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestWhatUsersSee pins the behaviour a CI user relies on: exit codes, error messages that name
// the file, document and line, and nothing lost around a broken input.
// noNamespacePod is a Pod whose manifest names no namespace.
const noNamespacePod = "apiVersion: v1\nkind: Pod\nmetadata: {name: tool}\nspec:\n  containers: [{name: c, image: busybox:1.36}]\n"

func TestWhatUsersSee(t *testing.T) {
	cases := map[string]struct {
		stdin  string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		"a broken document is reported with file, document and line, and the rest is scanned": {
			args: []string{"-f", "testdata/manifests/broken.yaml", "-o", "json"},
			code: ExitInput,
			stderr: []string{
				"testdata/manifests/broken.yaml: document 2 (line 9): Deployment: spec.replicas: cannot use a JSON string as int32",
				"testdata/manifests/broken.yaml: document 3 (line 17): yaml: line 21: mapping values are not allowed in this context",
			},
			stdout: []string{`"objects": 1`, `"errors": 2`},
		},
		"a field name written again in another case does not hide the field (the API server keeps privileged: true)": {
			stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: sneaky, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n" +
				"    securityContext:\n      privileged: true\n      Privileged: false\n",
			args:   []string{"-", "--details", "--fail-on", "Critical"},
			code:   ExitFindings,
			stdout: []string{"wl-privileged", "Pod/shop/sneaky"},
		},
		"a manifest without a namespace: chg-system-namespaces cannot tell where it goes": {
			stdin:  noNamespacePod,
			args:   []string{"-", "-o", "json", "--show", "all", "--fail-on", "none"},
			code:   ExitOK,
			stdout: []string{"namespace not set in the manifest (give --namespace"},
		},
		"--namespace given: chg-system-namespaces judges the manifest as deployed there, as kubectl apply -n would": {
			stdin:  noNamespacePod,
			args:   []string{"-", "-o", "json", "--namespace", "kube-system", "--fail-on", "none"},
			code:   ExitOK,
			stdout: []string{`"message": "runs in the system namespace \"kube-system\""`},
		},
		"a Job's pods carry the job-name labels the API server adds, so a NetworkPolicy may select them by those": {
			stdin: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\nspec:\n  template:\n    spec:\n" +
				"      restartPolicy: Never\n      containers: [{name: c, image: busybox:1.36}]\n---\n" +
				"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: migrate, namespace: shop}\nspec:\n" +
				"  podSelector: {matchLabels: {batch.kubernetes.io/job-name: migrate}}\n  policyTypes: [Ingress]\n",
			args:   []string{"-", "-o", "json", "--show", "all", "--fail-on", "none"},
			code:   ExitOK,
			stdout: []string{`"check": "net-pod-policy-coverage", "title": "Every pod is selected by a NetworkPolicy", "severity": "Medium", "criteria": [ "CC6.6" ], "result": "Pass", "resource": { "apiVersion": "batch/v1", "kind": "Job"`},
		},
		"findings at or above --fail-on exit 1": {
			args: []string{"-f", "testdata/manifests/shop.yaml", "--fail-on", "Critical"},
			code: ExitFindings,
		},
		"--fail-on none always exits 0 when everything was read": {
			args: []string{"-f", "testdata/manifests/shop.yaml", "--fail-on", "none"},
			code: ExitOK,
		},
		"exceptions do not hide a Critical finding they do not cover": {
			args: []string{"-f", "testdata/manifests/shop.yaml", "--fail-on", "Critical", "--profile", "testdata/profile.yaml",
				"--exceptions", "testdata/exceptions.yaml"},
			code: ExitFindings, // legacy's privileged init container is Critical and not excepted
		},
		"manifests from standard input": {
			stdin:  "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  hostPID: true\n  containers: [{name: c, image: busybox:1.36}]\n",
			args:   []string{"-", "-o", "table"},
			code:   ExitFindings,
			stdout: []string{"wl-host-namespaces", "Pod/shop/p", "<stdin>:1"},
		},
		"a Pod whose controller is not among the manifests is judged itself, and says why": {
			stdin: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5d8f9-abcde\n  namespace: shop\n  ownerReferences:\n" +
				"  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f9, uid: 11111111-1111-1111-1111-111111111111, controller: true}\n" +
				"spec:\n  hostPID: true\n  containers: [{name: c, image: busybox:1.36}]\n",
			args: []string{"-", "-o", "json"},
			code: ExitFindings,
			stdout: []string{`"check": "wl-host-namespaces"`, `"name": "web-5d8f9-abcde"`,
				"(judged on its own: its controller ReplicaSet web-5d8f9 is not among the objects given)"},
		},
		"flags after paths are parsed": {
			args:   []string{"testdata/manifests/shop.yaml", "-o", "yaml", "--fail-on", "none"},
			code:   ExitOK,
			stdout: []string{"kind: ScanReport"},
		},
		"an unknown output format is a usage error": {
			args:   []string{"-f", "testdata/manifests", "-o", "html"},
			code:   ExitUsage,
			stderr: []string{"-o html: unknown output format; want one of table, json, yaml, junit, sarif, policyreport"},
		},
		"excepted findings are named in the summary too": {
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml", "-o", "table"},
			code:   ExitFindings,
			stdout: []string{"wl-host-network", "wl-host-network 0 1 0 all excepted, by shop/legacy-host-network", "This is a summary of 41 findings: --details (or -o wide) lists every one"},
		},
		"-o wide lists every finding": {
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml", "-o", "wide"},
			code:   ExitFindings,
			stdout: []string{"[excepted by shop/legacy-host-network]", "testdata/manifests/shop.yaml:"},
		},
		"no input is a usage error": {
			args:   []string{"-o", "json"},
			code:   ExitUsage,
			stderr: []string{"no input: give files or directories with -f"},
		},
		"a missing file names the file": {
			args:   []string{"-f", "testdata/does-not-exist.yaml"},
			code:   ExitInput,
			stderr: []string{"testdata/does-not-exist.yaml: stat: no such file or directory"},
		},
		"an unknown check in the profile is a configuration error, and the scan still reports": {
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ComplianceProfile\nmetadata: {name: typo}\nspec:\n  checks: [{id: wl-privilegd, enabled: false}]\n",
			args:  []string{"-f", "testdata/manifests/shop.yaml", "--profile", "-", "-o", "json"},
			code:  ExitUsage,
			stderr: []string{
				`-: spec.checks[0].id: unknown check "wl-privilegd"; did you mean "wl-privileged"?`,
			},
			stdout: []string{`"check": "wl-privileged"`},
		},
		"a profile file that holds something else is a configuration error": {
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--profile", "testdata/exceptions.yaml"},
			code:   ExitUsage,
			stderr: []string{"--profile testdata/exceptions.yaml: document 1 is a ControlException, not a ComplianceProfile"},
		},
		"an exception for an unknown check is a configuration error": {
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: typo, namespace: shop}\n" +
				"spec: {checks: [wl-no-such-check], reason: a reason long enough, owner: me, expires: '2027-01-01T00:00:00Z'}\n",
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "-"},
			code:   ExitUsage,
			stderr: []string{`exception shop/typo is invalid: spec.checks[0]: unknown check "wl-no-such-check"`},
		},
		"excepted findings stay visible with the exception's name": {
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml", "-o", "table", "--details"},
			code:   ExitFindings,
			stdout: []string{"(excepted)", "[excepted by shop/legacy-host-network]", "Active (unused)"},
		},
		"approval cannot be verified offline, and the scan says so instead of trusting typed approvals": {
			args: []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml", "-o", "table"},
			code: ExitFindings,
			stderr: []string{"note: the profile requires approval of exceptions, which cannot be verified offline; " +
				"the 2 exceptions given are applied as reviewed in Git"},
			stdout: []string{"approval not verifiable offline: the exceptions file is taken as reviewed"},
		},
		"an exception whose expiry from now is longer than the profile allows is invalid, as in the cluster": {
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: forever, namespace: shop}\n" +
				"spec: {checks: [wl-host-network], reason: a reason long enough, owner: me, expires: '2036-01-01T00:00:00Z'}\n",
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "-"},
			code:   ExitUsage,
			stderr: []string{`exception shop/forever is invalid: spec.expires: the exception runs 3347d from now; the default profile allows at most 90d`},
		},
		"a creation time written in an exceptions file does not shorten how long it runs": {
			// The API server sets creationTimestamp itself; one typed into the file proves nothing.
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n" +
				"metadata: {name: forever, namespace: shop, creationTimestamp: '2035-12-01T00:00:00Z'}\n" +
				"spec: {checks: [wl-host-network], reason: a reason long enough, owner: me, expires: '2036-01-01T00:00:00Z'}\n",
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "-"},
			code:   ExitUsage,
			stderr: []string{`exception shop/forever is invalid: spec.expires: the exception runs 3347d from now`},
		},
		"a deletion time written in an exceptions file is dropped, as the API server drops it": {
			// An exception being deleted waives nothing in the cluster; one applied from a file
			// is created, and the API server drops a deletionTimestamp given with it.
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n" +
				"metadata: {name: held, namespace: shop, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [example.com/keep]}\n" +
				"spec: {checks: [wl-host-network], reason: a reason long enough, owner: me, expires: '2027-01-01T00:00:00Z'}\n",
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "-", "-o", "table"},
			code:   ExitFindings,
			stdout: []string{"wl-host-network 0 1 0 all excepted, by shop/held"},
		},
		"an exception does not waive a Critical finding unless the profile allows it": {
			stdin: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: privileged, namespace: shop}\n" +
				"spec: {checks: [wl-privileged], reason: a reason long enough, owner: me, expires: '2027-01-01T00:00:00Z'}\n",
			args:   []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "-", "-o", "table"},
			code:   ExitFindings,
			stdout: []string{`does not waive Critical findings: the default profile waives at most High (spec.exceptionPolicy.maxSeverity)`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runScan(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			// The table wraps long messages at the line width: match across line breaks.
			flat := oneLine(stdout)
			for _, s := range tc.stdout {
				if !strings.Contains(flat, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestUnusedExceptionsAreReported(t *testing.T) {
	stdout, _, _ := runScan(t, "", "-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml", "-o", "json")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range rep.Exceptions {
		got[e.Name] = e.Findings
	}
	if got["shop/unused"] != 0 || got["shop/legacy-host-network"] != 1 || len(got) != 2 {
		t.Errorf("exception findings = %v, want shop/unused 0 and shop/legacy-host-network 1", got)
	}
}

func TestChecksCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := RunChecks([]string{"-o", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		CatalogVersion string        `json:"catalogVersion"`
		Checks         []checks.Info `json:"checks"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Checks) < 60 {
		t.Errorf("the catalogue lists %d checks; the product promises at least 60", len(got.Checks))
	}
	for _, c := range got.Checks {
		if c.ID == "" || c.Severity == "" || len(c.Criteria) == 0 || c.Remediation == "" {
			t.Errorf("check %+v lacks an ID, severity, criteria or remediation", c)
		}
	}
	out.Reset()
	if code := RunChecks(nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "ID  ") || !strings.Contains(out.String(), "wl-privileged") {
		t.Errorf("table output:\n%s", out.String())
	}
}

// TestCorpusOutputs scans the real-world manifests of ../shared/corpus (when present): every
// machine format is well formed, SARIF passes its schema, and the table reads.
func TestCorpusOutputs(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus at %s", corpusDir)
	}
	for _, format := range []string{"table", "json", "sarif"} {
		stdout, stderr, code := runScan(t, "", "-f", corpusDir, "-o", format)
		if code != ExitInput && code != ExitFindings {
			t.Errorf("%s: exit %d\n%s", format, code, stderr)
		}
		assertWellFormed(t, format, stdout)
		if format == "table" && !strings.Contains(stdout, "SEVERITY  ") {
			t.Errorf("table output:\n%.500s", stdout)
		}
	}
}

// validateJUnit validates JUnit output against the JUnit schema Jenkins' xUnit plugin uses
// (testdata/junit-10.xsd, source in its header) with xmllint, the libxml2 validator.
func validateJUnit(t *testing.T, out string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is needed to validate JUnit output against testdata/junit-10.xsd (Debian: apt-get install libxml2-utils): %v", err)
	}
	file := filepath.Join(t.TempDir(), "scan.junit")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", file).CombinedOutput(); err != nil {
		t.Errorf("JUnit output fails the JUnit schema: %v\n%s", err, msg)
	}
}

// TestJSONWrittenAsEncoderWould: -o json writes findings and results one at a time, and -o
// sarif its results, and the bytes are still those encoding/json's Encoder (indented by two
// spaces) writes for the same document, on the corpus with every result listed and on input
// with no findings.
func TestJSONWrittenAsEncoderWould(t *testing.T) {
	inputs := map[string][]string{
		"the shop, every result":  {"-f", "testdata/manifests/shop.yaml", "--show", "all"},
		"the shop, findings only": {"-f", "testdata/manifests/shop.yaml"},
		"the shop, excepted":      {"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml"},
		"nothing found":           {"-", "--show", "all"},
	}
	if _, err := os.Stat(corpusDir); err == nil {
		inputs["the corpus, every result"] = []string{"-f", corpusDir, "--show", "all"}
	}
	formats := []struct {
		name string
		doc  func() any        // the document's Go type, to decode the output into
		list func(doc any) int // how many items the streamed lists hold
		none string            // how a list with nothing in it is written
	}{
		{"json", func() any { return &Report{} }, func(doc any) int { return len(doc.(*Report).Findings) }, "\n  \"findings\": [],\n"},
		{"sarif", func() any { return &sarifLog{} }, func(doc any) int { return len(doc.(*sarifLog).Runs[0].Results) }, "\n      \"results\": [],\n"},
	}
	for _, format := range formats {
		for name, args := range inputs {
			t.Run(format.name+"/"+name, func(t *testing.T) {
				stdin := ""
				if args[0] == "-" {
					stdin = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: app\ndata:\n  colour: blue\n"
				}
				stdout, stderr, _ := runScan(t, stdin, append(args, "-o", format.name)...)
				doc := format.doc()
				if err := json.Unmarshal([]byte(stdout), doc); err != nil {
					t.Fatalf("%v\n%s", err, stderr)
				}
				var want bytes.Buffer
				enc := json.NewEncoder(&want)
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					t.Fatal(err)
				}
				if got := stdout; got != want.String() {
					at := 0
					for at < min(len(got), want.Len()) && got[at] == want.Bytes()[at] {
						at++
					}
					t.Fatalf("-o %s differs from encoding/json at byte %d of %d:\nwant %q\ngot  %q", format.name, at, want.Len(),
						want.String()[max(0, at-80):min(want.Len(), at+80)], got[max(0, at-80):min(len(got), at+80)])
				}
				if name != "nothing found" && format.list(doc) == 0 {
					t.Fatal("no findings: the test did not exercise the streamed lists")
				}
				if name == "nothing found" && !strings.Contains(stdout, format.none) {
					t.Errorf("no findings are not written %q (a consumer that counts them must not get null)", format.none)
				}
				if log, ok := doc.(*sarifLog); ok {
					// Written in the place of a placeholder, the results are still a result per
					// finding -o json lists, each naming its rule.
					js, _, _ := runScan(t, stdin, append(args, "-o", "json")...)
					var rep Report
					if err := json.Unmarshal([]byte(js), &rep); err != nil {
						t.Fatal(err)
					}
					run := log.Runs[0]
					if len(run.Results) != len(rep.Findings) {
						t.Errorf("%d results for %d findings", len(run.Results), len(rep.Findings))
					}
					for i, r := range run.Results {
						if r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || i < len(rep.Findings) && rep.Findings[i].Check != r.RuleID {
							t.Fatalf("result %d: rule %s at index %d, finding of %s", i, r.RuleID, r.RuleIndex, rep.Findings[min(i, len(rep.Findings)-1)].Check)
						}
					}
				}
			})
		}
	}
}

// TestYAMLWrittenAsSigsYAMLWould: -o yaml writes findings and results one at a time, on every
// core, each read back by encoding/json (yamlItem), and the bytes are still those
// sigs.k8s.io/yaml writes for the whole report (as -o json gives it), on the corpus with every
// result listed, with excepted findings, and on input with no findings.
func TestYAMLWrittenAsSigsYAMLWould(t *testing.T) {
	inputs := map[string][]string{
		"the shop, every result":  {"-f", "testdata/manifests/shop.yaml", "--show", "all"},
		"the shop, findings only": {"-f", "testdata/manifests/shop.yaml"},
		"the shop, excepted":      {"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml"},
		"nothing found":           {"-", "--show", "all"},
	}
	if _, err := os.Stat(corpusDir); err == nil {
		inputs["the corpus, every result"] = []string{"-f", corpusDir, "--show", "all"}
	}
	for name, args := range inputs {
		t.Run(name, func(t *testing.T) {
			stdin := ""
			if args[0] == "-" {
				stdin = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: app\ndata:\n  colour: blue\n"
			}
			js, stderr, _ := runScan(t, stdin, append(args, "-o", "json")...)
			var rep Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			want, err := yaml.Marshal(&rep)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := runScan(t, stdin, append(args, "-o", "yaml")...)
			if got != string(want) {
				at := 0
				for at < min(len(got), len(want)) && got[at] == want[at] {
					at++
				}
				t.Fatalf("-o yaml differs from sigs.k8s.io/yaml at byte %d of %d:\nwant %q\ngot  %q", at, len(want),
					want[max(0, at-80):min(len(want), at+80)], got[max(0, at-80):min(len(got), at+80)])
			}
			if strings.Contains(name, "corpus") && len(rep.Findings) <= inOrderChunk {
				t.Fatalf("%d findings: the corpus did not fill more than one chunk of inOrder", len(rep.Findings))
			}
			if name == "nothing found" && !strings.Contains(got, "\nfindings: []\n") {
				t.Error("no findings are not written findings: [] (a consumer that counts them must not get null)")
			}
		})
	}
}

// yamlValues hands an item to sigs.k8s.io/yaml when a number in it is not an int, as yaml.v2's
// parser would make a float of it, and makes ints of the others.
func TestYAMLValuesTakeOnlyInts(t *testing.T) {
	decode := func(js string) any {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v, ok := yamlValues(decode(`{"a": [1, {"b": -2}], "c": "3"}`)); !ok || !reflect.DeepEqual(v, map[string]any{"a": []any{1, map[string]any{"b": -2}}, "c": "3"}) {
		t.Errorf("ints: %#v, %v", v, ok)
	}
	for _, js := range []string{`{"a": 1.5}`, `[1e3]`, `{"a": [99999999999999999999]}`} {
		if _, ok := yamlValues(decode(js)); ok {
			t.Errorf("%s: taken as ints", js)
		}
	}
	// Such a value goes the way of sigs.k8s.io/yaml, and so gives its bytes.
	for _, v := range []any{map[string]any{"a": 1.5, "b": []int{1, 2}}, []float64{1e3, 0.25}, map[string]uint64{"big": 1 << 63}} {
		got, err := marshalYAML(v)
		want, _ := yaml.Marshal(v)
		if err != nil || string(got) != string(want) {
			t.Errorf("%v: %q (%v), sigs.k8s.io/yaml writes %q", v, got, err, want)
		}
	}
}

// TestCompactWorkloadsChangeNothing: keeping workloads in compact form until the end of the
// evaluation (engine.CompactWorkload) changes no byte of the output, every result listed: on the
// corpus, on the golden input without its profile (with exceptions), on a Deployment with a UID,
// and on that Deployment read before the ReplicaSet that names it as its controller, which needs
// the Deployment's whole template: from another file the input is then read again with workloads
// kept whole, and only then; from the same file the Deployment is kept whole at once.
func TestCompactWorkloadsChangeNothing(t *testing.T) {
	inputs := []struct {
		name      string
		args      []string
		readAgain bool
	}{
		{"golden input", []string{"-f", "testdata/manifests", "--exceptions", "testdata/exceptions.yaml"}, false},
		{"controller read first", []string{"-f", "testdata/controlled"}, true},
		// Alone, the Deployment is kept in compact form: its UID names it in PolicyReports.
		{"workload with a UID", []string{"-f", "testdata/controlled/1-deployment.yaml"}, false},
		// In one file, the ReplicaSet's controller is known before anything is added.
		{"controller first in the same file", []string{"-f", oneFile(t, "testdata/controlled/1-deployment.yaml", "testdata/controlled/2-replicaset.yaml")}, false},
	}
	if _, err := os.Stat(corpusDir); err == nil {
		inputs = append(inputs, struct {
			name      string
			args      []string
			readAgain bool
		}{"the corpus", []string{"-f", corpusDir}, false})
	}
	for _, in := range inputs {
		// JSON with every result; PolicyReports name each resource by its UID too.
		for _, format := range []string{"json", "policyreport"} {
			t.Run(in.name+"/"+format, func(t *testing.T) {
				sameOutputEitherWay(t, &compactWorkloads, in.readAgain, append(slices.Clip(in.args), "-o", format, "--show", "all")...)
			})
		}
	}
}

// oneFile writes the documents of files, in order, into one file (a dump of a cluster lists
// Deployments before their ReplicaSets) and returns its path.
func oneFile(t *testing.T, files ...string) string {
	t.Helper()
	var docs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameOutputEitherWay fails unless scan prints the same bytes on stdout and stderr, and exits
// alike, with *on true and with it false, and unless it reads the input again (with *on true)
// once if readAgain, else never. The output must show a failing finding: an input that fails
// nothing exercises little.
func sameOutputEitherWay(t *testing.T, on *bool, wantReadAgain bool, args ...string) {
	t.Helper()
	defer func(old func()) { readAgain = old }(readAgain)
	reads := 0
	readAgain = func() { reads++ }
	got, gotErr, gotCode := runScan(t, "", args...)
	*on = false
	defer func() { *on = true }()
	readAgain = func() {}
	want, wantErr, wantCode := runScan(t, "", args...)
	if got != want || gotErr != wantErr || gotCode != wantCode {
		t.Errorf("the output differs (exit %d, %d bytes; with it off: exit %d, %d bytes); stderr:\n%s\nwith it off:\n%s",
			gotCode, len(got), wantCode, len(want), gotErr, wantErr)
	}
	if (reads == 1) != wantReadAgain || reads > 1 {
		t.Errorf("read again %d times, want %v", reads, wantReadAgain)
	}
	if !strings.Contains(want, `"result": "Fail"`) && !strings.Contains(want, "result: fail") {
		t.Errorf("no failing result: the input exercises nothing\n%.500s", want)
	}
}

// TestProfileSelectsAsItReads: with a profile, objects are selected by namespace as they are read
// (namespaceFilter) and the output is byte for byte that of selecting the whole input first
// (selectNamespaces), stderr's note on what was left out included. When a Namespace object read
// after objects of its namespace decides the namespace otherwise than they were decided (no
// labels yet, so not selected), the input is read again and selected whole, and only then.
func TestProfileSelectsAsItReads(t *testing.T) {
	const dir = "testdata/profiled/"
	inputs := []struct {
		name      string
		args      []string
		readAgain bool
	}{
		{"golden input", []string{"-f", "testdata/manifests", "--profile", "testdata/profile.yaml", "--exceptions", "testdata/exceptions.yaml"}, false},
		{"namespaces first", []string{"--profile", dir + "profile.yaml", "-f", dir + "namespaces.yaml", "-f", dir + "apps.yaml"}, false},
		{"namespaces last", []string{"--profile", dir + "profile.yaml", "-f", dir + "apps.yaml", "-f", dir + "namespaces.yaml"}, true},
		{"a custom check, namespaces last", []string{"--profile", dir + "custom-profile.yaml", "-f", dir + "apps.yaml", "-f", dir + "namespaces.yaml"}, true},
		{"a custom check, namespaces first", []string{"--profile", dir + "custom-profile.yaml", "-f", dir + "namespaces.yaml", "-f", dir + "apps.yaml"}, false},
		// shop is first taken as assessed, and its Deployment kept compact before the
		// ReplicaSet names it; then its Namespace opts out: one more reading, selected whole.
		{"a compact controller named, then a namespace opting out", []string{"--profile", dir + "optout-profile.yaml",
			"-f", "testdata/controlled", "-f", dir + "apps.yaml", "-f", dir + "optout-namespaces.yaml"}, true},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			sameOutputEitherWay(t, &streamProfiles, in.readAgain, append(slices.Clip(in.args), "-o", "json", "--show", "all")...)
		})
	}
	// The profile leaves out legacy (excluded by name) and other (not labelled); undeclared (no
	// Namespace object: its labels are the cluster's, unknown) is assessed beside shop.
	_, stderr, _ := runScan(t, "", "--profile", dir+"profile.yaml", "-f", dir+"apps.yaml", "-f", dir+"namespaces.yaml")
	if want := "4 objects in 2 namespaces the profile does not assess (legacy: 2, other: 2)"; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
}

package scan

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// TestACustomCheckStoppedByTheObjectFailsTheGate: a custom check's expression is stopped at its
// cost limit (or after its time), and its result is NotAssessed. The manifest's author decides
// when, by making a list the expression walks long enough, so a CI gate that counted only Fail
// results passed a change the same check fails when the list is short: a Pod with a literal
// AWS_SECRET_ACCESS_KEY behind 2,000 padding variables exited 0 under --fail-on Critical, where
// the Pod without the padding exits 1. The admission webhook refuses such an object under Enforce
// (internal/webhook's TestACustomCheckStoppedByTheObjectIsNoPass); --fail-on counts it as failing
// at the check's severity and says why. A check that is NotAssessed for want of data (here
// img-signature, raised to Critical, which needs registry access) is no failure, as before.
func TestACustomCheckStoppedByTheObjectFailsTheGate(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	// Quadratic in the variables, as a check of unique names is: 2,000 of them pass the cost limit
	// (or, on a loaded machine, the time limit).
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-env-hygiene\n    title: Unique variables and no AWS secret keys\n"+
		"    kinds: [Pod]\n    criteria: [C1.1]\n    severity: Critical\n    message: an AWS secret key or a repeated variable\n"+
		"    expression: |-\n      object.spec.containers.all(c, !has(c.env) || c.env.all(e, !e.name.startsWith('AWS_SECRET') && c.env.filter(f, f.name == e.name).size() == 1))\n"+
		"  checks: [{id: img-signature, severity: Critical}]\n"))
	podWith := func(name string, padding int) string {
		env := make([]map[string]string, 0, padding+1)
		for i := range padding {
			env = append(env, map[string]string{"name": fmt.Sprintf("PAD_%d", i)})
		}
		env = append(env, map[string]string{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"})
		data, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name, "namespace": "shop"},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "registry.example.com/app:1.0", "env": env}}}})
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	writeFile(t, filepath.Join(dir, "plain", "pod.json"), podWith("plain", 0))
	writeFile(t, filepath.Join(dir, "padded", "pod.json"), podWith("padded", 2000))

	result := func(stdout, check string) string {
		var rep Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Check == check {
				return string(r.Result) + ": " + r.Message
			}
		}
		return "no result"
	}
	for name, tc := range map[string]struct {
		dir, failOn string
		code        int
		result      string
		stderr      string
	}{
		"the Pod without padding fails the check and the gate": {
			dir: "plain", failOn: "Critical", code: ExitFindings, result: "Fail: ",
		},
		"the padded Pod stops the expression, and fails the gate all the same": {
			dir: "padded", failOn: "Critical", code: ExitFindings, result: "NotAssessed: expression stopped: ",
			stderr: "custom-env-hygiene (Critical) on Pod/shop/padded: expression stopped: ",
		},
		"the stopped check is below --fail-on and does not fail the gate": {
			dir: "padded", failOn: "none", code: ExitOK, result: "NotAssessed: expression stopped",
		},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runScan(t, "", "-f", filepath.Join(dir, tc.dir), "--profile", profile, "-o", "json", "--show", "all",
				"--fail-on", tc.failOn)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if got := result(stdout, "custom-env-hygiene"); !strings.HasPrefix(got, tc.result) {
				t.Errorf("custom-env-hygiene: %q, want %q...", got, tc.result)
			}
			if got := result(stdout, "img-signature"); !strings.HasPrefix(got, "NotAssessed: ") {
				t.Errorf("img-signature: %q", got)
			}
			// As a CI job runs it: the table, only findings kept.
			if _, _, code := runScan(t, "", "-f", filepath.Join(dir, tc.dir), "--profile", profile, "--fail-on", tc.failOn); code != tc.code {
				t.Errorf("without --show all: exit %d, want %d", code, tc.code)
			}
			if tc.stderr != "" && (!strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "counted as failing for --fail-on Critical")) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if strings.Contains(stderr, "img-signature") {
				t.Errorf("stderr counts a NotAssessed that no object's size decided as failing:\n%s", stderr)
			}
		})
	}
}

// TestACustomCheckThatFailsOnTheObjectFailsTheGate: a custom check's expression that fails at run
// time on an object is NotAssessed ("expression failed: no such key: securityContext"), and the
// manifest's author decides that by leaving out the field it reads: under a Critical check of
// "object.spec.template.spec.securityContext.runAsNonRoot == true", a Deployment setting
// runAsNonRoot: false exited 1 under --fail-on Critical and one without a pod securityContext
// (root by default) exited 0. Kubernetes refuses what a validation expression cannot evaluate (a
// ValidatingAdmissionPolicy's failurePolicy defaults to Fail, k8s v1.37.2), and so do the
// admission webhook and --fail-on; so too an expression that returns no bool for the object.
// Every output still shows the result NotAssessed, with the error.
func TestACustomCheckThatFailsOnTheObjectFailsTheGate(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  - id: custom-flag\n    title: The flag the team sets\n    kinds: [Deployment]\n    criteria: [CC8.1]\n    severity: Critical\n"+
		"    expression: |-\n      has(object.metadata.annotations) && 'example.com/reviewed' in object.metadata.annotations ? object.metadata.annotations['example.com/reviewed'] == 'yes' : object.spec.replicas\n"))
	deployment := func(name, podSecurity, annotations string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop" + annotations + "}\n" +
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n" +
			podSecurity + "      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n"
	}
	reviewed := ", annotations: {example.com/reviewed: 'yes'}"
	writeFile(t, filepath.Join(dir, "explicit", "d.yaml"), deployment("explicit", "      securityContext: {runAsNonRoot: false}\n", reviewed))
	writeFile(t, filepath.Join(dir, "omitted", "d.yaml"), deployment("omitted", "", reviewed))
	writeFile(t, filepath.Join(dir, "nonroot", "d.yaml"), deployment("nonroot", "      securityContext: {runAsNonRoot: true}\n", reviewed))
	writeFile(t, filepath.Join(dir, "not-bool", "d.yaml"), deployment("not-bool", "      securityContext: {runAsNonRoot: true}\n", ""))
	for name, tc := range map[string]struct {
		dir    string
		code   int
		stderr string
	}{
		"runAsNonRoot: false fails the check and the gate":                     {dir: "explicit", code: ExitFindings},
		"no securityContext fails the expression, and the gate with it":        {dir: "omitted", code: ExitFindings, stderr: "custom-nonroot (Critical) on Deployment/shop/omitted: expression failed: no such key: securityContext; counted as failing for --fail-on Critical"},
		"an expression that returns no bool for the object fails the gate too": {dir: "not-bool", code: ExitFindings, stderr: "custom-flag (Critical) on Deployment/shop/not-bool: expression returned int, not a bool; counted as failing for --fail-on Critical"},
		"runAsNonRoot: true passes":                                            {dir: "nonroot", code: ExitOK},
	} {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{"-o", "json", "--show", "all"}, nil} {
				_, stderr, code := runScan(t, "", append([]string{"-f", filepath.Join(dir, tc.dir), "--profile", profile, "--fail-on", "Critical"}, args...)...)
				if code != tc.code {
					t.Errorf("%v: exit %d, want %d\n%s", args, code, tc.code, stderr)
				}
				if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
					t.Errorf("%v: stderr lacks %q:\n%s", args, tc.stderr, stderr)
				}
			}
		})
	}
}

// TestJUnitShowsAnExpressionTheObjectBrokeAsAnError: the gate fails on a custom check the object
// stopped or broke (TestACustomCheckThatFailsOnTheObjectFailsTheGate), and JUnit listed that test
// case as skipped, like a check that lacks data: a CI page showed no failing test for a job that
// failed. It is an error test case now, naming the reason; a NotAssessed for want of data stays
// skipped.
func TestJUnitShowsAnExpressionTheObjectBrokeAsAnError(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"))
	writeFile(t, filepath.Join(dir, "m", "d.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: omitted, namespace: shop}\n"+
		"spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n"+
		"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	stdout, stderr, code := runScan(t, "", "-f", filepath.Join(dir, "m"), "--profile", profile, "--fail-on", "Critical", "-o", "junit")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFindings, stderr)
	}
	validateJUnit(t, stdout)
	var doc junitSuites
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]junitCase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			found[c.Classname] = c
		}
		if strings.HasPrefix(s.Name, "custom-nonroot:") && (s.Errors != 1 || s.Skipped != 0) {
			t.Errorf("suite %s: %d errors and %d skipped, want 1 and 0", s.Name, s.Errors, s.Skipped)
		}
	}
	c := found["custom-nonroot"]
	if c.Error == nil || !strings.Contains(c.Error.Message, "expression failed: no such key: securityContext") || c.Skipped != nil {
		t.Errorf("custom-nonroot: %+v, want an error naming the expression's failure", c)
	}
	if c := found["img-signature"]; c.Skipped == nil || c.Error != nil {
		t.Errorf("img-signature (NotAssessed for want of registry access): %+v, want skipped", c)
	}
	if doc.Errors < 1 {
		t.Errorf("testsuites errors %d, want at least 1", doc.Errors)
	}
}

// TestSARIFShowsAnExpressionTheObjectBroke: SARIF listed only failing and excepted findings, so
// a custom check the object stopped or broke, which fails the gate, was no result at all: a
// code-scanning service showed no alert on the file of a job that failed. It is a result at its
// check's severity, at the object's file and line, saying why it counts.
func TestSARIFShowsAnExpressionTheObjectBroke(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"))
	writeFile(t, filepath.Join(dir, "m", "d.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: omitted, namespace: shop}\n"+
		"spec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n"+
		"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	stdout, stderr, code := runScan(t, "", "-f", filepath.Join(dir, "m"), "--profile", profile, "--fail-on", "Critical", "-o", "sarif")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFindings, stderr)
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	var got *sarifResult
	for i, r := range run.Results {
		if r.RuleID == "custom-nonroot" {
			got = &run.Results[i]
		}
		if r.RuleID == "img-signature" {
			t.Errorf("a NotAssessed for want of data is a SARIF result: %+v", r)
		}
	}
	if got == nil {
		t.Fatalf("no SARIF result for custom-nonroot:\n%s", stdout)
	}
	if got.Level != "error" || !strings.Contains(got.Message.Text, "expression failed: no such key: securityContext") ||
		len(got.Locations) != 1 || got.Locations[0].PhysicalLocation == nil || !strings.HasSuffix(got.Locations[0].PhysicalLocation.ArtifactLocation.URI, "m/d.yaml") {
		t.Errorf("custom-nonroot: %+v", got)
	}
	if rule := run.Tool.Driver.Rules[got.RuleIndex]; rule.ID != "custom-nonroot" {
		t.Errorf("rule %d is %s, want custom-nonroot", got.RuleIndex, rule.ID)
	}
}

// TestAnExceptionWaivesAnExpressionTheObjectBrokeAsItWaivesAFailure: --fail-on counts a custom
// check the object stopped or broke as failing (TestACustomCheckThatFailsOnTheObjectFailsTheGate),
// as the admission webhook refuses it; and, as the webhook admits it when an Active exception
// would cover that check's failure on the object (internal/webhook's
// TestAStoppedCustomCheckIsWaivedByAnExceptionAsAFailureIs), the gate passes it then too: the
// same exception file must allow in CI what it allows in the cluster. Only what it names.
func TestAnExceptionWaivesAnExpressionTheObjectBrokeAsItWaivesAFailure(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  exceptionPolicy: {maxSeverity: Critical}\n"))
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: legacy, namespace: shop}\n"+
		"spec: {checks: [custom-nonroot], match: {kinds: [Deployment], names: [legacy]}, reason: the vendor image runs as root until PAY-7, owner: payments@example.com, expires: '"+
		scanNow().Add(24*time.Hour).UTC().Format(time.RFC3339)+"'}\n")
	deployment := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\n" +
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n" +
			"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n"
	}
	writeFile(t, filepath.Join(dir, "legacy", "d.yaml"), deployment("legacy"))
	writeFile(t, filepath.Join(dir, "other", "d.yaml"), deployment("other"))
	for name, tc := range map[string]struct {
		dir  string
		code int
	}{
		"the Deployment the exception names passes the gate":      {dir: "legacy", code: ExitOK},
		"a Deployment the exception does not name fails the gate": {dir: "other", code: ExitFindings},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runScan(t, "", "-f", filepath.Join(dir, tc.dir), "--profile", profile, "--exceptions", exceptions, "--fail-on", "Critical")
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
		})
	}
}

// TestAWaivedExpressionTheObjectBrokeIsSuppressedInEveryOutput: the gate passes a custom check the
// object stopped or broke where an Active exception would waive that check's failure on the
// object (TestAnExceptionWaivesAnExpressionTheObjectBrokeAsItWaivesAFailure), but the outputs did
// not say so: SARIF wrote an error-level result with no suppression (a code-scanning service
// opened an alert the gate had waived), JUnit an error test case (a CI page showed a failing test
// for a job that passed), PolicyReports an error, and JSON named no exception. Each now shows it
// as it shows a waived failure: suppressed in SARIF (kind external, status accepted, the exception
// as justification), skipped in JUnit, skip in a PolicyReport with the exception, and the
// exception on the JSON result; the same result on a Deployment the exception does not name is
// still an alert, an error and no waiver.
func TestAWaivedExpressionTheObjectBrokeIsSuppressedInEveryOutput(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  exceptionPolicy: {maxSeverity: Critical}\n"))
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: legacy, namespace: shop}\n"+
		"spec: {checks: [custom-nonroot], match: {kinds: [Deployment], names: [legacy]}, reason: the vendor image runs as root until PAY-7, owner: payments@example.com, expires: '"+
		scanNow().Add(24*time.Hour).UTC().Format(time.RFC3339)+"'}\n")
	for _, name := range []string{"legacy", "other"} {
		writeFile(t, filepath.Join(dir, "m", name+".yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: "+name+", namespace: shop}\n"+
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: "+name+"}}\n  template:\n    metadata: {labels: {app: "+name+"}}\n    spec:\n"+
			"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	}
	scan := func(format string, extra ...string) string {
		t.Helper()
		stdout, stderr, code := runScan(t, "", append([]string{"-f", filepath.Join(dir, "m"), "--profile", profile, "--exceptions", exceptions,
			"--fail-on", "Critical", "-o", format}, extra...)...)
		if code != ExitFindings { // "other" is not waived
			t.Fatalf("-o %s: exit %d, want %d\n%s", format, code, ExitFindings, stderr)
		}
		if strings.Contains(stderr, "Deployment/shop/legacy") {
			t.Errorf("-o %s: stderr counts the waived result as failing:\n%s", format, stderr)
		}
		return stdout
	}

	t.Run("sarif", func(t *testing.T) {
		var log sarifLog
		if err := json.Unmarshal([]byte(scan("sarif")), &log); err != nil {
			t.Fatal(err)
		}
		got := map[string]sarifResult{}
		for _, r := range log.Runs[0].Results {
			if r.RuleID == "custom-nonroot" && len(r.Locations) == 1 && len(r.Locations[0].LogicalLocations) == 1 {
				got[r.Locations[0].LogicalLocations[0].FullyQualifiedName] = r
			}
		}
		legacy, other := got["Deployment/shop/legacy"], got["Deployment/shop/other"]
		if len(legacy.Suppressions) != 1 || legacy.Suppressions[0].Kind != "external" || legacy.Suppressions[0].Status != "accepted" ||
			!strings.Contains(legacy.Suppressions[0].Justification, "shop/legacy") {
			t.Errorf("legacy: %+v, want one external, accepted suppression naming ControlException shop/legacy", legacy)
		}
		if other.RuleID == "" || len(other.Suppressions) != 0 || other.Level != "error" {
			t.Errorf("other: %+v, want an error-level result without suppression", other)
		}
	})
	t.Run("junit", func(t *testing.T) {
		out := scan("junit")
		validateJUnit(t, out)
		var doc junitSuites
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		cases := map[string]junitCase{}
		for _, s := range doc.Suites {
			if !strings.HasPrefix(s.Name, "custom-nonroot:") {
				continue
			}
			if s.Errors != 1 || s.Skipped != 1 {
				t.Errorf("suite %s: %d errors and %d skipped, want 1 and 1", s.Name, s.Errors, s.Skipped)
			}
			for _, c := range s.Cases {
				cases[c.Name] = c
			}
		}
		if c := cases["Deployment/shop/legacy"]; c.Error != nil || c.Skipped == nil || !strings.Contains(c.Skipped.Message, "shop/legacy") {
			t.Errorf("legacy: %+v, want skipped, naming the exception", c)
		}
		if c := cases["Deployment/shop/other"]; c.Error == nil || c.Skipped != nil {
			t.Errorf("other: %+v, want an error", c)
		}
		if doc.Errors != 1 {
			t.Errorf("testsuites errors %d, want 1 (other's)", doc.Errors)
		}
	})
	t.Run("policyreport", func(t *testing.T) {
		got := map[string]policyreport.Result{}
		for _, doc := range strings.Split(scan("policyreport"), "---\n") {
			var r policyreport.PolicyReport
			if strings.TrimSpace(doc) == "" || yaml.Unmarshal([]byte(doc), &r) != nil || r.Scope == nil {
				continue
			}
			for _, res := range r.Results {
				if res.Policy == "custom-nonroot" {
					got[r.Scope.Name] = res
				}
			}
		}
		if r := got["legacy"]; r.Result != policyreport.StatusSkip || r.Properties[policyreport.PropertyException] != "shop/legacy" {
			t.Errorf("legacy: %s %v, want skip with exception shop/legacy", r.Result, r.Properties)
		}
		if r := got["other"]; r.Result != policyreport.StatusError || r.Properties[policyreport.PropertyException] != "" {
			t.Errorf("other: %s %v, want error without exception", r.Result, r.Properties)
		}
	})
	t.Run("json", func(t *testing.T) {
		var rep Report
		if err := json.Unmarshal([]byte(scan("json", "--show", "all")), &rep); err != nil {
			t.Fatal(err)
		}
		got := map[string]Finding{}
		for _, r := range rep.Results {
			if r.Check == "custom-nonroot" {
				got[r.Resource.Name] = r
			}
		}
		if r := got["legacy"]; r.Result != "NotAssessed" || r.Exception != "shop/legacy" {
			t.Errorf("legacy: %s, exception %q; want NotAssessed, waived by shop/legacy", r.Result, r.Exception)
		}
		if r := got["other"]; r.Result != "NotAssessed" || r.Exception != "" {
			t.Errorf("other: %s, exception %q; want NotAssessed, no exception", r.Result, r.Exception)
		}
	})
}

// TestEveryOutputSaysWhyTheScanExited2: a profile's problem (a custom check that does not compile,
// which then judges nothing) or an exception that cannot be used (one the ControlException CRD
// refuses, one the engine finds Invalid) makes scan exit 2, whatever --fail-on says. The outputs
// a CI server reads did not say so: JUnit had no test case for any of them, so a job that failed
// showed every test passed and the custom check no suite at all, and SARIF said the run succeeded
// (executionSuccessful) when only exceptions were wrong, naming none of them; JSON listed the
// profile's problems but not the exceptions'. Each is now a problem in every output: an error test
// case in JUnit, an error notification in SARIF (the run not successful), an entry of problems
// in JSON, counted in the table's summary.
func TestEveryOutputSaysWhyTheScanExited2(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m", "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"+
		"spec:\n  containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-broken\n    title: Does not compile\n"+
		"    kinds: [Pod]\n    criteria: [CC6.1]\n    severity: Critical\n    expression: object.spec.(\n"))
	expires := scanNow().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	refused := filepath.Join(dir, "refused.yaml")
	writeFile(t, refused, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: short, namespace: shop}\nspec: {checks: [wl-privileged], reason: short, owner: o@example.com, expires: '"+expires+"'}\n")
	invalid := filepath.Join(dir, "invalid.yaml")
	writeFile(t, invalid, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: unknown, namespace: shop}\nspec: {checks: [no-such-check], reason: the check is being renamed, owner: o@example.com, expires: '"+expires+"'}\n")

	for name, tc := range map[string]struct {
		args []string
		want []string // in each output, one problem naming each
	}{
		"a custom check that does not compile": {args: []string{"--profile", profile}, want: []string{"custom-broken"}},
		"exceptions the CRD refuses or the engine finds invalid": {args: []string{"--exceptions", refused, "--exceptions", invalid},
			want: []string{"shop/short", "shop/unknown"}},
	} {
		t.Run(name, func(t *testing.T) {
			scan := func(format string) string {
				t.Helper()
				stdout, stderr, code := runScan(t, "", append([]string{"-f", filepath.Join(dir, "m"), "--fail-on", "none", "-o", format}, tc.args...)...)
				if code != ExitUsage {
					t.Fatalf("-o %s: exit %d, want %d\n%s", format, code, ExitUsage, stderr)
				}
				return stdout
			}
			named := func(format string, texts []string) {
				t.Helper()
				for _, w := range tc.want {
					if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, w) }) {
						t.Errorf("-o %s names no problem with %s: %q", format, w, texts)
					}
				}
			}

			out := scan("junit")
			validateJUnit(t, out)
			var doc junitSuites
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			var errs []string
			for _, s := range doc.Suites {
				for _, c := range s.Cases {
					if c.Error != nil {
						errs = append(errs, c.Name+": "+c.Error.Message)
					}
				}
			}
			named("junit", errs)
			if doc.Errors < len(tc.want) {
				t.Errorf("junit: testsuites errors %d, want at least %d", doc.Errors, len(tc.want))
			}

			var log sarifLog
			if err := json.Unmarshal([]byte(scan("sarif")), &log); err != nil {
				t.Fatal(err)
			}
			inv := log.Runs[0].Invocations[0]
			var notes []string
			for _, n := range inv.ToolExecutionNotifications {
				if n.Level == "error" {
					notes = append(notes, n.Message.Text)
				}
			}
			named("sarif", notes)
			if inv.ExecutionSuccessful {
				t.Errorf("sarif: executionSuccessful, but the scan exits %d", ExitUsage)
			}

			var rep Report
			if err := json.Unmarshal([]byte(scan("json")), &rep); err != nil {
				t.Fatal(err)
			}
			named("json", rep.Problems)

			if table := scan("table"); !strings.Contains(table, fmt.Sprintf("problems: %d", len(tc.want))) {
				t.Errorf("the table's summary does not count %d problems:\n%s", len(tc.want), table)
			}
		})
	}
}

// TestTheSummaryCountsWhatTheObjectsLeftUndecided: a custom check the object stopped or broke is
// NotAssessed, and --fail-on counts it as failing
// (TestACustomCheckThatFailsOnTheObjectFailsTheGate), but the table said "No failing or excepted findings" and "Findings: 0 failing" above an exit of
// 1, and JSON's summary had nothing a machine could tell that from: only standard error named the
// result. The summary now counts such results (those an exception waives apart), in JSON and
// YAML (undecidedByObject) and on a line of the table's summary; and the result, the score and
// the criteria count them as failing (excepted where an exception waives them).
func TestTheSummaryCountsWhatTheObjectsLeftUndecided(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  checks: [{id: wl-privileged, enabled: true}]\n  exceptionPolicy: {maxSeverity: Critical}\n"))
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: legacy, namespace: shop}\n"+
		"spec: {checks: [custom-nonroot], match: {kinds: [Deployment], names: [legacy]}, reason: the vendor image runs as root until PAY-7, owner: payments@example.com, expires: '"+
		scanNow().Add(24*time.Hour).UTC().Format(time.RFC3339)+"'}\n")
	for _, name := range []string{"legacy", "other"} {
		writeFile(t, filepath.Join(dir, "m", name+".yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: "+name+", namespace: shop}\n"+
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: "+name+"}}\n  template:\n    metadata: {labels: {app: "+name+"}}\n    spec:\n"+
			"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	}
	args := []string{"-f", filepath.Join(dir, "m"), "--profile", profile, "--exceptions", exceptions, "--fail-on", "Critical"}
	stdout, stderr, code := runScan(t, "", append(args, "-o", "json")...)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, ExitFindings, stderr)
	}
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.UndecidedByObject != 1 {
		t.Errorf("summary.undecidedByObject %d, want 1 (other's; legacy's is waived)", rep.Summary.UndecidedByObject)
	}
	// And the roll-up counts it as the gate does: other's as failing (the only Critical one),
	// legacy's as excepted (the only exception). Until December 2026 it counted neither, and with
	// the built-in checks passing a namespace read Compliant above an exit of 1.
	var cc61 v1alpha1.CriterionStatus
	for _, c := range rep.Criteria {
		if c.ID == "CC6.1" {
			cc61 = c
		}
	}
	if rep.Summary.Critical != 1 || rep.Summary.Excepted != 1 || cc61.Excepted != 1 {
		t.Errorf("summary: %d Critical failing, %d excepted, CC6.1 %+v; want 1, 1 and CC6.1 with 1 excepted",
			rep.Summary.Critical, rep.Summary.Excepted, cc61)
	}
	stdout, _, _ = runScan(t, "", args...)
	if !strings.Contains(stdout, "Undecided by their objects: 1 result") {
		t.Errorf("the table's summary does not count the undecided result:\n%s", stdout)
	}
}

// TestNothingToScanIsNamedInEveryOutput: input with no Kubernetes object in it (a path that holds
// only comments, or the wrong directory of YAML) exits 2, "a wrong path must not pass", but only
// standard error said why: JUnit had no error (a CI server read a report of nothing failed), SARIF
// said the run succeeded and JSON listed no error. It is an input error in every output now.
func TestNothingToScanIsNamedInEveryOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "notes.yaml"), "# nothing to deploy yet\n")
	scan := func(format string) string {
		t.Helper()
		stdout, stderr, code := runScan(t, "", "-f", dir, "-o", format)
		if code != ExitUsage {
			t.Fatalf("-o %s: exit %d, want %d\n%s", format, code, ExitUsage, stderr)
		}
		if !strings.Contains(stderr, "no Kubernetes objects found in") {
			t.Errorf("-o %s: stderr does not say why:\n%s", format, stderr)
		}
		return stdout
	}
	const why = "no Kubernetes objects found in"
	if out := scan("junit"); !strings.Contains(out, why) || !strings.Contains(out, `errors="1"`) {
		t.Errorf("junit has no error saying %q:\n%s", why, out)
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(scan("sarif")), &log); err != nil {
		t.Fatal(err)
	}
	if inv := log.Runs[0].Invocations[0]; inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 ||
		!strings.Contains(inv.ToolExecutionNotifications[0].Message.Text, why) {
		t.Errorf("sarif invocation %+v, want not successful, with one error saying %q", inv, why)
	}
	var rep Report
	if err := json.Unmarshal([]byte(scan("json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, why) || rep.Summary.Errors != 1 {
		t.Errorf("json errors %+v (summary %d), want one saying %q", rep.Errors, rep.Summary.Errors, why)
	}
}

// TestAnExceptionThatWaivesOnlyAnUndecidedResultIsNotUnused: an exception whose only use is to
// waive a custom check its object broke (the gate passes the object because of it, as the
// webhook admits it) was listed "Active (unused)" with 0 findings: a reviewer cleaning up unused
// exceptions would delete the one thing that lets the gate pass. It counts what it waives now
// (undecided in JSON and YAML), and the table does not call it unused.
func TestAnExceptionThatWaivesOnlyAnUndecidedResultIsNotUnused(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  exceptionPolicy: {maxSeverity: Critical}\n"))
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: legacy, namespace: shop}\n"+
		"spec: {checks: [custom-nonroot], match: {kinds: [Deployment], names: [legacy]}, reason: the vendor image runs as root until PAY-7, owner: payments@example.com, expires: '"+
		scanNow().Add(24*time.Hour).UTC().Format(time.RFC3339)+"'}\n")
	writeFile(t, filepath.Join(dir, "m", "legacy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: legacy, namespace: shop}\n"+
		"spec:\n  replicas: 2\n  selector: {matchLabels: {app: legacy}}\n  template:\n    metadata: {labels: {app: legacy}}\n    spec:\n"+
		"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	args := []string{"-f", filepath.Join(dir, "m"), "--profile", profile, "--exceptions", exceptions, "--fail-on", "Critical"}
	stdout, stderr, code := runScan(t, "", append(args, "-o", "json")...)
	if code != ExitOK {
		t.Fatalf("exit %d, want %d\n%s", code, ExitOK, stderr)
	}
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Exceptions) != 1 || rep.Exceptions[0].Undecided != 1 {
		t.Errorf("exceptions %+v, want shop/legacy waiving 1 undecided result", rep.Exceptions)
	}
	if stdout, _, _ = runScan(t, "", args...); strings.Contains(stdout, "unused") {
		t.Errorf("the table calls the exception unused:\n%s", stdout)
	}
}

// TestAnExceptionByLabelsWaivesAnExpressionTheObjectBroke: an exception that selects the
// Deployment by its labels (match.labelSelector) waived the custom check's failure, but not the
// same check's result when the object broke the expression: scan decided the waiver once the
// objects were let go, from what the outputs keep of them (kind, namespace, name, no labels), so
// the gate failed what the admission webhook, which judges the whole object, admits. The
// engine now finds that exception as it applies exceptions to failures, with the object whole.
func TestAnExceptionByLabelsWaivesAnExpressionTheObjectBroke(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-nonroot\n    title: Pods run as non-root\n"+
		"    kinds: [Deployment]\n    criteria: [CC6.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.template.spec.securityContext.runAsNonRoot == true\n"+
		"  exceptionPolicy: {maxSeverity: Critical}\n"))
	exceptions := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, exceptions, "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\n"+
		"metadata: {name: vendor, namespace: shop}\n"+
		"spec: {checks: [custom-nonroot], match: {kinds: [Deployment], labelSelector: {matchLabels: {vendor: acme}}}, reason: the vendor image runs as root until PAY-7, owner: payments@example.com, expires: '"+
		scanNow().Add(24*time.Hour).UTC().Format(time.RFC3339)+"'}\n")
	deployment := func(name, labels, podSecurity string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop, labels: {" + labels + "}}\n" +
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n    spec:\n" +
			podSecurity + "      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n"
	}
	writeFile(t, filepath.Join(dir, "broken", "d.yaml"), deployment("acme", "vendor: acme", ""))
	writeFile(t, filepath.Join(dir, "failing", "d.yaml"), deployment("acme", "vendor: acme", "      securityContext: {runAsNonRoot: false}\n"))
	writeFile(t, filepath.Join(dir, "other", "d.yaml"), deployment("other", "vendor: other", ""))
	for name, tc := range map[string]struct {
		dir  string
		code int
	}{
		"a failure on the labelled Deployment is excepted":           {dir: "failing", code: ExitOK},
		"the expression the labelled Deployment broke is waived too": {dir: "broken", code: ExitOK},
		"a Deployment without the label fails the gate":              {dir: "other", code: ExitFindings},
	} {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{nil, {"-o", "json", "--show", "all"}} {
				_, stderr, code := runScan(t, "", append([]string{"-f", filepath.Join(dir, tc.dir), "--profile", profile, "--exceptions", exceptions,
					"--fail-on", "Critical"}, args...)...)
				if code != tc.code {
					t.Errorf("%v: exit %d, want %d\n%s", args, code, tc.code, stderr)
				}
			}
		})
	}
}

package scan

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestACustomCheckStoppedByTheObjectFailsTheGate: a custom check's expression is stopped at its
// cost limit (or after its time), and its result is NotAssessed. The manifest's author decides
// when, by making a list the expression walks long enough, so a CI gate that counted only Fail
// results passed a change the same check fails when the list is short: a Pod with a literal
// AWS_SECRET_ACCESS_KEY behind 2,000 padding variables exited 0 under --fail-on Critical, where
// the Pod without the padding exits 1. The admission webhook refuses such an object under Enforce
// (internal/webhook's TestACustomCheckStoppedByTheObjectIsNoPass); --fail-on counts it as failing
// at the check's severity and says why. A custom check that is NotAssessed for another reason
// (here an expression that returns no bool) is no failure, as before.
func TestACustomCheckStoppedByTheObjectFailsTheGate(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	// Quadratic in the variables, as a check of unique names is: 2,000 of them pass the cost limit
	// (or, on a loaded machine, the time limit).
	writeFile(t, profile, profileWith("  customChecks:\n  - id: custom-env-hygiene\n    title: Unique variables and no AWS secret keys\n"+
		"    kinds: [Pod]\n    criteria: [C1.1]\n    severity: Critical\n    message: an AWS secret key or a repeated variable\n"+
		"    expression: |-\n      object.spec.containers.all(c, !has(c.env) || c.env.all(e, !e.name.startsWith('AWS_SECRET') && c.env.filter(f, f.name == e.name).size() == 1))\n"+
		"  - id: custom-not-bool\n    title: Returns a string at run time\n    kinds: [Pod]\n    criteria: [CC8.1]\n    severity: Critical\n"+
		"    expression: |-\n      object.metadata.name\n"))
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
			if got := result(stdout, "custom-not-bool"); !strings.HasPrefix(got, "NotAssessed: expression returned string") {
				t.Errorf("custom-not-bool: %q", got)
			}
			// As a CI job runs it: the table, only findings kept.
			if _, _, code := runScan(t, "", "-f", filepath.Join(dir, tc.dir), "--profile", profile, "--fail-on", tc.failOn); code != tc.code {
				t.Errorf("without --show all: exit %d, want %d", code, tc.code)
			}
			if tc.stderr != "" && (!strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "counted as failing for --fail-on Critical")) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if strings.Contains(stderr, "custom-not-bool (Critical)") {
				t.Errorf("stderr counts a NotAssessed that no object's size decided as failing:\n%s", stderr)
			}
		})
	}
}

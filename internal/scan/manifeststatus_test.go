package scan

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestACustomCheckOfStatusIsNotJudgedOnAManifestsStatus: a manifest's status is whatever its
// author wrote; the API server ignores it (a Deployment's, a Pod's, a custom resource's with a
// status subresource: PrepareForCreate resets it, k8s.io/kubernetes v1.37.2 pkg/registry), and
// the cluster's controllers write the real one, which the operator judges. scan judged custom
// checks on the written status: a Deployment claiming `status: {availableReplicas: 2}` passed a
// check that Deployments are available, at any --fail-on, where the same Deployment without it
// failed (no such key). A custom check whose result depends on `status` is now NotAssessed in
// scan, naming the field, whatever the file says; it does not fail the gate (nothing in the
// file decides it), and a check that reads other fields is judged as before.
func TestACustomCheckOfStatusIsNotJudgedOnAManifestsStatus(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n"+
		"  - id: custom-available\n    title: Deployments are available\n    kinds: [Deployment]\n    criteria: [A1.2]\n    severity: Critical\n"+
		"    expression: |-\n      object.status.availableReplicas >= 2\n"+
		"  - id: custom-replicas\n    title: Deployments run two replicas\n    kinds: [Deployment]\n    criteria: [A1.2]\n    severity: Critical\n"+
		"    expression: |-\n      object.spec.replicas >= 2\n"))
	deployment := func(name, status string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\n" +
			"spec:\n  replicas: 2\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n" +
			"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n" + status
	}
	writeFile(t, filepath.Join(dir, "claimed", "d.yaml"), deployment("claimed", "status: {availableReplicas: 2, readyReplicas: 2}\n"))
	writeFile(t, filepath.Join(dir, "plain", "d.yaml"), deployment("plain", ""))
	for _, sub := range []string{"claimed", "plain"} {
		t.Run(sub, func(t *testing.T) {
			stdout, stderr, code := runScan(t, "", "-f", filepath.Join(dir, sub), "--profile", profile, "-o", "json", "--show", "all",
				"--fail-on", "Critical")
			var rep Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			got := map[string]string{}
			for _, r := range rep.Results {
				if strings.HasPrefix(r.Check, "custom-") {
					got[r.Check] = string(r.Result) + ": " + r.Message
				}
			}
			if !strings.HasPrefix(got["custom-available"], "NotAssessed: cannot be decided: ") || !strings.Contains(got["custom-available"], "object.status") {
				t.Errorf("custom-available: %q, want NotAssessed naming object.status", got["custom-available"])
			}
			if !strings.HasPrefix(got["custom-replicas"], "Pass") {
				t.Errorf("custom-replicas: %q, want Pass", got["custom-replicas"])
			}
			if code != ExitOK {
				t.Errorf("exit %d, want %d (nothing in the file decides the status check)\n%s", code, ExitOK, stderr)
			}
		})
	}
}

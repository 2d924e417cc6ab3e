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

// TestADeletionTimestampInAManifestIsNotTheClusters: the API server clears
// metadata.deletionTimestamp and deletionGracePeriodSeconds on create (rest.BeforeCreate,
// k8s.io/apiserver v0.37.2 pkg/registry/rest/create.go) and keeps the stored ones on update: an
// object applied from a file is not being deleted. scan judged custom checks on what the file
// wrote, so a custom check that leaves objects being deleted alone (has(deletionTimestamp) || ...,
// as admission policies are written) passed a Deployment whose author added a deletionTimestamp,
// at any --fail-on, where the same Deployment without it failed. scan now reads the objects as
// created, without them.
func TestADeletionTimestampInAManifestIsNotTheClusters(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	writeFile(t, profile, profileWith("  customChecks:\n"+
		"  - id: custom-replicas\n    title: Deployments run two replicas\n    kinds: [Deployment]\n    criteria: [A1.2]\n    severity: Critical\n"+
		"    expression: |-\n      has(object.metadata.deletionTimestamp) || object.spec.replicas >= 2\n"))
	writeFile(t, filepath.Join(dir, "m", "d.yaml"), "apiVersion: apps/v1\nkind: Deployment\n"+
		"metadata: {name: web, namespace: shop, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 0}\n"+
		"spec:\n  replicas: 1\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n"+
		"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
	stdout, stderr, code := runScan(t, "", "-f", filepath.Join(dir, "m"), "--profile", profile, "-o", "json", "--show", "all", "--fail-on", "Critical")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, r := range rep.Results {
		if r.Check == "custom-replicas" && r.Result != "Fail" {
			t.Errorf("custom-replicas: %s %q, want Fail (the Deployment runs 1 replica and is not being deleted once applied)", r.Result, r.Message)
		}
	}
	if code != ExitFindings {
		t.Errorf("exit %d, want %d\n%s", code, ExitFindings, stderr)
	}
}

// TestServerAssignedMetadataInAManifestDecidesNoCustomCheck: the API server assigns an object's
// metadata.uid, resourceVersion, generation and creationTimestamp (rest.BeforeCreate and each
// kind's PrepareForCreate, k8s.io/apiserver v0.37.2 pkg/registry/rest/create.go; an update keeps
// the stored ones, and a resourceVersion in what is applied is a precondition, not a value). A
// file's are whatever its author wrote: a custom check that grandfathers objects created before a
// date (`timestamp(object.metadata.creationTimestamp) < timestamp(...) || ...`) passed a Deployment whose
// author backdated it, at any --fail-on, where the same Deployment without it failed. A custom
// check whose result depends on one of them is now NotAssessed in scan, naming the field, as one
// that reads the status is.
func TestServerAssignedMetadataInAManifestDecidesNoCustomCheck(t *testing.T) {
	cases := map[string]struct{ expression, metadata string }{
		"a backdated creationTimestamp": {"timestamp(object.metadata.creationTimestamp) < timestamp('2025-01-01T00:00:00Z')",
			"creationTimestamp: '2020-01-01T00:00:00Z'"},
		"a generation":      {"object.metadata.generation > 1", "generation: 7"},
		"a uid":             {"object.metadata.uid == 'b5a1a7f2-0000-4000-8000-000000000001'", "uid: b5a1a7f2-0000-4000-8000-000000000001"},
		"a resourceVersion": {"object.metadata.resourceVersion != ''", "resourceVersion: '12345'"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			profile := filepath.Join(dir, "profile.yaml")
			writeFile(t, profile, profileWith("  customChecks:\n"+
				"  - id: custom-replicas\n    title: Deployments run two replicas\n    kinds: [Deployment]\n    criteria: [A1.2]\n    severity: Critical\n"+
				"    expression: |-\n      ("+tc.expression+") || object.spec.replicas >= 2\n"))
			writeFile(t, filepath.Join(dir, "m", "d.yaml"), "apiVersion: apps/v1\nkind: Deployment\n"+
				"metadata: {name: web, namespace: shop, "+tc.metadata+"}\n"+
				"spec:\n  replicas: 1\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n"+
				"      containers: [{name: app, image: 'registry.example.com/app:1.0'}]\n")
			stdout, stderr, _ := runScan(t, "", "-f", filepath.Join(dir, "m"), "--profile", profile, "-o", "json", "--show", "all", "--fail-on", "Critical")
			var rep Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			seen := false
			for _, r := range rep.Results {
				if r.Check != "custom-replicas" {
					continue
				}
				seen = true
				if r.Result != "NotAssessed" || !strings.Contains(r.Message, "object.metadata.") {
					t.Errorf("custom-replicas: %s %q, want NotAssessed naming the field (the file does not decide it)", r.Result, r.Message)
				}
			}
			if !seen {
				t.Errorf("custom-replicas did not run\n%s", stdout)
			}
		})
	}
}

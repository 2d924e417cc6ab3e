//go:build e2e

package paritytest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/scan"
)

// TestScanRefusesWhatTheAPIServerRefuses holds scan's reading of exceptions files and
// profiles to the real API server's: kubectl apply --dry-run=server refuses an exception or a
// profile exactly when scan refuses it (an exception scan applied while the API server refused
// it excepted a finding the operator then reported failing; a profile it judged by was one the
// cluster never held).
func TestScanRefusesWhatTheAPIServerRefuses(t *testing.T) {
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: legacy, namespace: default}\nspec: {hostNetwork: true, containers: [{name: app, image: busybox:1.36}]}\n")
	exception := func(name, spec string) string {
		return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: " + name + ", namespace: default}\nspec:\n" + spec
	}
	tail := "  owner: team@example.com\n  expires: \"" + time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339) + "\"\n"
	profile := func(name, spec string) string {
		return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ComplianceProfile\nmetadata: {name: " + name + "}\nspec:\n" + spec
	}
	for _, tc := range []struct {
		name, doc string
		isProfile bool
	}{
		{"a valid exception", exception("ok", "  checks: [wl-host-network]\n  reason: The app needs the node's network.\n"+tail), false},
		{"a reason under 10 characters", exception("short", "  checks: [wl-host-network]\n  reason: because\n"+tail), false},
		{"a tab in the owner", exception("tab", "  checks: [wl-host-network]\n  reason: The app needs the node's network.\n"+strings.Replace(tail, "team@example.com", `"team\t@example.com"`, 1)), false},
		{"a ticket that is no URL", exception("ticket", "  checks: [wl-host-network]\n  reason: The app needs the node's network.\n  ticket: JIRA-1\n"+tail), false},
		{"a check named twice", exception("twice", "  checks: [wl-host-network, wl-host-network]\n  reason: The app needs the node's network.\n"+tail), false},
		{"a kind in lower case", exception("kind", "  checks: [wl-host-network]\n  match: {kinds: [pod]}\n  reason: The app needs the node's network.\n"+tail), false},
		{"an empty name pattern", exception("empty", "  checks: [wl-host-network]\n  match: {names: [\"\"]}\n  reason: The app needs the node's network.\n"+tail), false},
		{"a name with an underscore", exception("legacy_host", "  checks: [wl-host-network]\n  reason: The app needs the node's network.\n"+tail), false},
		{"a misspelt match field", exception("typo", "  checks: [wl-host-network]\n  match: {name: [nothing]}\n  reason: The app needs the node's network.\n"+tail), false},
		{"a valid profile", profile("parity-ok", "  checks: [{id: wl-privileged, severity: Low}]\n  parameters: {minReplicas: 2}\n"), true},
		{"minReplicas 0", profile("parity-zero", "  parameters: {minReplicas: 0}\n"), true},
		{"an override setting nothing", profile("parity-nothing", "  checks: [{id: wl-privileged}]\n"), true},
		{"a sink without a URL", profile("parity-sink", "  alerts: {sinks: [{name: ops, type: Slack}]}\n"), true},
		{"a profile field that is none", profile("parity-field", "  excludeNamespaces: [default]\n"), true},
		{"a profile name over 63 characters", profile(strings.Repeat("p", 64), "  maxFindings: 10\n"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := write("doc.yaml", tc.doc)
			out, err := kubectl(context.Background(), "apply", "--dry-run=server", "-f", file)
			refused := err != nil
			args := []string{"-f", pod, "-o", "json", "--fail-on", "none", "--exceptions", file}
			if tc.isProfile {
				args = []string{"-f", pod, "-o", "json", "--fail-on", "none", "--profile", file}
			}
			var stdout, stderr bytes.Buffer
			code := scan.Run(args, nil, &stdout, &stderr, time.Now)
			scanRefused := code == scan.ExitUsage
			if refused != scanRefused {
				t.Errorf("the API server refuses it: %v (%s); scan refuses it: %v (exit %d)\n%s", refused, strings.TrimSpace(out), scanRefused, code, stderr.String())
			}
		})
	}
}

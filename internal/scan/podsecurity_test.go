package scan

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestProfilePodSecurityLevel shows that scan --profile honours spec.podSecurity: at the
// baseline level the restricted-only controls do not fail, and say why; at a version before a
// control existed it does not apply; a level or version that does not exist is a profile
// problem named by its field.
func TestProfilePodSecurityLevel(t *testing.T) {
	// Runs as root and keeps allowPrivilegeEscalation (restricted controls), and probes the
	// cloud metadata endpoint (a baseline control since v1.34).
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
        livenessProbe: {httpGet: {host: 169.254.169.254, path: /, port: 80}}
`
	cases := map[string]struct {
		podSecurity string
		code        int
		// results are check -> the result it must have on Deployment/shop/web.
		results  map[string]v1alpha1.CheckResult
		messages map[string]string
		problem  string
	}{
		"no podSecurity is restricted, latest": {
			code: ExitOK,
			results: map[string]v1alpha1.CheckResult{"wl-run-as-root": v1alpha1.ResultFail,
				"wl-privilege-escalation": v1alpha1.ResultFail, "wl-host-probes": v1alpha1.ResultFail},
			messages: map[string]string{"wl-run-as-root": `violates PodSecurity "restricted:latest": runAsNonRoot != true`},
		},
		"baseline leaves the restricted controls out": {
			podSecurity: "{level: baseline}",
			code:        ExitOK,
			results: map[string]v1alpha1.CheckResult{"wl-run-as-root": v1alpha1.ResultNotApplicable,
				"wl-privilege-escalation": v1alpha1.ResultNotApplicable, "wl-host-probes": v1alpha1.ResultFail},
			messages: map[string]string{
				"wl-run-as-root": "a control of the restricted Pod Security Standard; the profile asks for baseline:latest",
				"wl-host-probes": `violates PodSecurity "baseline:latest": probe or lifecycle host`,
			},
		},
		"v1.33 predates the probe host control": {
			podSecurity: "{level: baseline, version: v1.33}",
			code:        ExitOK,
			results:     map[string]v1alpha1.CheckResult{"wl-host-probes": v1alpha1.ResultNotApplicable},
			messages:    map[string]string{"wl-host-probes": "not a Pod Security Standards control at baseline:v1.33"},
		},
		"an unknown level is a problem of the profile": {
			podSecurity: "{level: privileged}",
			code:        ExitUsage,
			problem:     `spec.podSecurity.level: unknown Pod Security Standards level "privileged": want baseline or restricted`,
		},
		"a version that is not v1.N is a problem of the profile": {
			podSecurity: "{version: '1.30'}",
			code:        ExitUsage,
			problem:     `spec.podSecurity.version: "1.30" is not a Pod Security Standards version: want latest or v1.N`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			manifest := filepath.Join(t.TempDir(), "web.yaml")
			writeFile(t, manifest, deployment)
			spec := "  checks: [{id: avl-replicas, enabled: false}, {id: avl-pdb, enabled: false}]\n"
			if tc.podSecurity != "" {
				spec += "  podSecurity: " + tc.podSecurity + "\n"
			}
			rep, stderr, code := scanUnderProfile(t, manifest, spec)
			if tc.problem != "" {
				if code != tc.code || !strings.Contains(stderr, tc.problem) {
					t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.problem)
				}
				return
			}
			got := map[string]Finding{}
			for _, f := range rep.Results {
				if f.Resource != nil && f.Resource.Name == "web" {
					got[f.Check] = f
				}
			}
			for check, want := range tc.results {
				if got[check].Result != want {
					t.Errorf("%s: result %q (%s), want %q", check, got[check].Result, got[check].Message, want)
				}
			}
			for check, msg := range tc.messages {
				if !strings.Contains(got[check].Message, msg) {
					t.Errorf("%s: message %q does not contain %q", check, got[check].Message, msg)
				}
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr)
			}
		})
	}
}

package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// A privileged container gets no SELinux label from the runtime, and no AppArmor profile unless
// it asks for a Localhost one (containerd applies that one; which of the two the node enforces
// the spec does not show): it fails, or is NotAssessed with a Localhost profile, wherever it is;
// the pod's other containers keep their verdicts.
func TestAppArmorSELinuxPrivilegedContainerIsUnconfined(t *testing.T) {
	type want struct {
		status engine.Status
		says   string
	}
	for name, tc := range map[string]struct {
		docs string
		want map[string]want
	}{
		"privileged containers without a Localhost AppArmor profile, the pod allowed by the standard": {
			docs: seccompPod(`
  securityContext: {appArmorProfile: {type: RuntimeDefault}, seLinuxOptions: {type: container_t}}
  initContainers:
  - {name: setup, image: r/a:1, securityContext: {privileged: true}}
  containers:
  - {name: app, image: r/a:1}
  - {name: plain, image: r/a:1, securityContext: {privileged: false}}
  ephemeralContainers:
  - {name: debug, image: r/a:1, securityContext: {privileged: true}}`),
			want: map[string]want{"setup": {engine.StatusFail, "privileged"}, "app": {engine.StatusPass, ""},
				"plain": {engine.StatusPass, ""}, "debug": {engine.StatusFail, "privileged"}},
		},
		"a privileged container with a Localhost AppArmor profile, by field or by annotation": {
			docs: `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: shop
  annotations: {container.apparmor.security.beta.kubernetes.io/annotated: localhost/agent}
spec:
  containers:
  - {name: field, image: r/a:1, securityContext: {privileged: true, appArmorProfile: {type: Localhost, localhostProfile: agent}}}
  - {name: annotated, image: r/a:1, securityContext: {privileged: true}}
  - {name: other, image: r/a:1, securityContext: {privileged: true}}
`,
			want: map[string]want{"field": {engine.StatusNotAssessed, "Localhost"}, "annotated": {engine.StatusNotAssessed, "Localhost"},
				"other": {engine.StatusFail, "privileged"}},
		},
		"a privileged container whose pod-level Localhost profile it overrides with RuntimeDefault": {
			docs: seccompPod(`
  securityContext: {appArmorProfile: {type: Localhost, localhostProfile: agent}}
  containers:
  - {name: inherits, image: r/a:1, securityContext: {privileged: true}}
  - {name: overrides, image: r/a:1, securityContext: {privileged: true, appArmorProfile: {type: RuntimeDefault}}}`),
			want: map[string]want{"inherits": {engine.StatusNotAssessed, "Localhost"}, "overrides": {engine.StatusFail, "privileged"}},
		},
		"a privileged container in a pod the standard rejects for another container": {
			docs: seccompPod(`
  containers:
  - {name: app, image: r/a:1, securityContext: {seLinuxOptions: {type: spc_t}}}
  - {name: agent, image: r/a:1, securityContext: {privileged: true}}`),
			want: map[string]want{"app": {engine.StatusFail, "spc_t"}, "agent": {engine.StatusFail, "privileged"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := map[string]engine.Status{}
			for _, r := range judgeInCluster(t, wlApparmorSelinux, tc.docs).Results {
				got[r.Container] = r.Status
				if w, ok := tc.want[r.Container]; ok && w.status == r.Status && !strings.Contains(r.Message, w.says) {
					t.Errorf("%s: the message does not say %q: %s", r.Container, w.says, r.Message)
				}
			}
			for c, w := range tc.want {
				if got[c] != w.status {
					t.Errorf("container %s: got %s, want %s (all: %v)", c, got[c], w.status, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got results for %v, want %v", got, tc.want)
			}
		})
	}
}

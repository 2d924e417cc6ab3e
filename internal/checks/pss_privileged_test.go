package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// A privileged container runs without a seccomp filter whatever its seccompProfile says
// (Kubernetes applies none to it), in whichever list it is and whether or not the pod's other
// containers pass the Pod Security Standards; the pod's other containers keep their verdicts.
func TestSeccompPrivilegedContainerRunsUnconfined(t *testing.T) {
	for name, tc := range map[string]struct {
		docs string
		want map[string]engine.Status
	}{
		"a privileged container beside a confined one, the pod allowed by the standard": {
			docs: seccompPod(`
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  initContainers:
  - {name: setup, image: r/a:1, securityContext: {privileged: true}}
  - {name: proxy, image: r/a:1, restartPolicy: Always, securityContext: {privileged: true, seccompProfile: {type: Localhost, localhostProfile: p.json}}}
  containers:
  - {name: app, image: r/a:1}
  - {name: plain, image: r/a:1, securityContext: {privileged: false}}`),
			want: map[string]engine.Status{"setup": engine.StatusFail, "proxy": engine.StatusFail, "app": engine.StatusPass, "plain": engine.StatusPass},
		},
		"a privileged container in a pod the standard rejects for another container": {
			docs: seccompPod(`
  containers:
  - {name: app, image: r/a:1, securityContext: {seccompProfile: {type: Unconfined}}}
  - {name: agent, image: r/a:1, securityContext: {privileged: true, seccompProfile: {type: RuntimeDefault}}}
  - {name: web, image: r/a:1, securityContext: {seccompProfile: {type: RuntimeDefault}}}`),
			want: map[string]engine.Status{"app": engine.StatusFail, "agent": engine.StatusFail, "web": engine.StatusPass},
		},
		"a privileged ephemeral container": {
			docs: seccompPod(`
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - {name: app, image: r/a:1}
  ephemeralContainers:
  - {name: debug, image: r/a:1, securityContext: {privileged: true}}`),
			want: map[string]engine.Status{"app": engine.StatusPass, "debug": engine.StatusFail},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := map[string]engine.Status{}
			for _, r := range judgeInCluster(t, wlSeccomp, tc.docs).Results {
				got[r.Container] = r.Status
				if r.Status == engine.StatusFail && r.Container != "app" && !strings.Contains(r.Message, "privileged") {
					t.Errorf("%s: the message does not say why: %s", r.Container, r.Message)
				}
			}
			for c, want := range tc.want {
				if got[c] != want {
					t.Errorf("container %s: got %s, want %s (all: %v)", c, got[c], want, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got results for %v, want %v", got, tc.want)
			}
		})
	}
}

func seccompPod(spec string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:` + spec + "\n"
}

// A privileged container has every capability whatever capabilities.add and drop say (the
// runtime grants a privileged container all of them): wl-dangerous-caps and wl-drop-all-caps fail
// it wherever it is, and the pod's other containers keep their verdicts.
func TestCapabilitiesPrivilegedContainerHasThemAll(t *testing.T) {
	docs := seccompPod(`
  initContainers:
  - {name: setup, image: r/a:1, securityContext: {privileged: true, capabilities: {drop: [ALL]}}}
  containers:
  - {name: app, image: r/a:1, securityContext: {capabilities: {drop: [ALL]}}}
  - {name: plain, image: r/a:1, securityContext: {privileged: false, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}}
  ephemeralContainers:
  - {name: debug, image: r/a:1, securityContext: {privileged: true, capabilities: {drop: [ALL]}}}`)
	want := map[string]engine.Status{"setup": engine.StatusFail, "app": engine.StatusPass, "plain": engine.StatusPass, "debug": engine.StatusFail}
	for _, c := range []*engine.Check{wlDangerousCaps, wlDropAllCaps} {
		t.Run(c.ID, func(t *testing.T) {
			got := map[string]engine.Status{}
			for _, r := range judgeInCluster(t, c, docs).Results {
				got[r.Container] = r.Status
				if r.Status == engine.StatusFail && !strings.Contains(r.Message, "privileged") {
					t.Errorf("%s: the message does not say why: %s", r.Container, r.Message)
				}
			}
			for name, w := range want {
				if got[name] != w {
					t.Errorf("container %s: got %s, want %s (all: %v)", name, got[name], w, got)
				}
			}
		})
	}
}

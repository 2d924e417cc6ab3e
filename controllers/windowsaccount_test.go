package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAPodThatAWindowsNodeMayRunIsJudgedForItsWindowsAccount: Deployment web declares no OS and
// selects none, tolerates every taint and prefers Windows nodes; its container satisfies the Pod
// Security Standards on Linux (runAsNonRoot, runAsUser 1000) and names NT AUTHORITY\SYSTEM as its
// Windows account. The real API server admits it (only spec.os.name linux refuses windowsOptions),
// and on a Windows node the v1.37.2 kubelet ignores runAsUser and lets SYSTEM through
// runAsNonRoot. The report must list web under wl-run-as-root; it passed, judged as a Linux pod.
// Deployment linux-web, the same but kept to Linux nodes by its node selector, passes.
func TestAPodThatAWindowsNodeMayRunIsJudgedForItsWindowsAccount(t *testing.T) {
	const ns, profile = "win-account", "winaccount"
	createNamespace(t, ns, map[string]string{"winaccount": "true"})
	deployment := func(name, scheduling string) string {
		return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
` + scheduling + `
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        windowsOptions: {runAsUserName: "NT AUTHORITY\\SYSTEM"}
      containers:
      - {name: web, image: registry.example.com/shop/web:1.2.0}
`
	}
	applyYAML(t, deployment("web", `
      tolerations: [{operator: Exists}]
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference:
              matchExpressions: [{key: kubernetes.io/os, operator: In, values: [windows]}]`))
	applyYAML(t, deployment("linux-web", `
      nodeSelector: {kubernetes.io/os: linux}`))
	createProfile(t, profile, "winaccount", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-run-as-root") })
	eventually(t, 20*time.Second, "web's wl-run-as-root finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		var web *v1alpha1.Finding
		for i, f := range rep.Status.Findings {
			switch {
			case f.Check != "wl-run-as-root":
			case f.Resource.Name == "linux-web":
				return fmt.Errorf("linux-web, which only Linux nodes may run, has a finding: %q", f.Message)
			case f.Resource.Name == "web":
				web = &rep.Status.Findings[i]
			}
		}
		if web == nil {
			return fmt.Errorf("no finding on web yet (findings: %d)", len(rep.Status.Findings))
		}
		if web.Resource.Kind != "Deployment" || web.Container != "web" || !strings.Contains(web.Message, `NT AUTHORITY\SYSTEM`) {
			return fmt.Errorf("web's finding is %+v", *web)
		}
		return nil
	})
}

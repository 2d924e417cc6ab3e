package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// imageVolumeWithCleanReports is a pod whose only container has clean Trivy reports and which
// mounts an image volume: Trivy Operator reports are per container (trivy-operator.container.name),
// so nothing describes the volume's image, whose files the container reads.
const imageVolumeWithCleanReports = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  volumes:
  - name: tools
    image: {reference: "ghcr.io/evil/toolkit:1.0", pullPolicy: Always}
  containers:
  - name: app
    image: registry.example.com/shop/web:1.4.2
    volumeMounts: [{name: tools, mountPath: /opt/tools}]
---
apiVersion: aquasecurity.github.io/v1alpha1
kind: VulnerabilityReport
metadata:
  name: pod-web-app
  namespace: shop
  labels:
    trivy-operator.container.name: app
    trivy-operator.resource.kind: Pod
    trivy-operator.resource.name: web
report:
  updateTimestamp: "2026-06-01T06:00:00Z"
  artifact: {repository: shop/web, tag: "1.4.2"}
  registry: {server: registry.example.com}
  summary: {criticalCount: 0, highCount: 0, mediumCount: 0, lowCount: 0}
---
apiVersion: aquasecurity.github.io/v1alpha1
kind: ExposedSecretReport
metadata:
  name: pod-web-app
  namespace: shop
  labels:
    trivy-operator.container.name: app
    trivy-operator.resource.kind: Pod
    trivy-operator.resource.name: web
report:
  updateTimestamp: "2026-06-01T06:00:00Z"
  artifact: {repository: shop/web, tag: "1.4.2"}
  registry: {server: registry.example.com}
  summary: {criticalCount: 0, highCount: 0, mediumCount: 0, lowCount: 0}
`

// TestTrivyChecksDoNotPassUnscannedImageVolumes: img-critical-cves and img-embedded-secrets
// judge an image volume's image, which no report describes, NotAssessed rather than saying
// nothing, so that the pod does not pass on its containers' reports alone.
func TestTrivyChecksDoNotPassUnscannedImageVolumes(t *testing.T) {
	for _, c := range []*engine.Check{imgCriticalCVEs, imgEmbeddedSecrets} {
		t.Run(c.ID, func(t *testing.T) {
			ev := judgeInCluster(t, c, imageVolumeWithCleanReports)
			var volume, app []engine.Status
			for _, r := range ev.Results {
				switch {
				case r.Check.ID != c.ID:
				case r.Container == "app":
					app = append(app, r.Status)
				case strings.Contains(r.Message, `"tools"`) && strings.Contains(r.Message, "ghcr.io/evil/toolkit:1.0"):
					volume = append(volume, r.Status)
				}
			}
			if len(app) != 1 || app[0] != engine.StatusPass {
				t.Errorf("container app: %v, want one Pass (its report is clean)", app)
			}
			if len(volume) != 1 || volume[0] != engine.StatusNotAssessed {
				t.Errorf("image volume tools: %v, want one NotAssessed result naming it (no report describes it)", volume)
			}
		})
	}
}

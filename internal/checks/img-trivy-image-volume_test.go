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

// templateImageVolumeWithoutReference is a Deployment whose only container has clean Trivy
// reports and whose template names an image volume without its reference (Kubernetes before
// 1.37 let a template leave it to "higher level config management"): what it mounts is not
// known, let alone scanned.
const templateImageVolumeWithoutReference = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      volumes:
      - name: tools
        image: {pullPolicy: Always}
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
        volumeMounts: [{name: tools, mountPath: /opt/tools}]
` + cleanDeploymentReports

const cleanDeploymentReports = `
---
apiVersion: aquasecurity.github.io/v1alpha1
kind: VulnerabilityReport
metadata:
  name: deployment-web-app
  namespace: shop
  labels:
    trivy-operator.container.name: app
    trivy-operator.resource.kind: Deployment
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
  name: deployment-web-app
  namespace: shop
  labels:
    trivy-operator.container.name: app
    trivy-operator.resource.kind: Deployment
    trivy-operator.resource.name: web
report:
  updateTimestamp: "2026-06-01T06:00:00Z"
  artifact: {repository: shop/web, tag: "1.4.2"}
  registry: {server: registry.example.com}
  summary: {criticalCount: 0, highCount: 0, mediumCount: 0, lowCount: 0}
`

// TestTrivyChecksDoNotPassUnscannedImageVolumes: img-critical-cves and img-embedded-secrets
// judge an image volume's image, which no report describes, NotAssessed rather than saying
// nothing, so that the pod does not pass on its containers' reports alone; and so an image
// volume of a template that names no reference.
func TestTrivyChecksDoNotPassUnscannedImageVolumes(t *testing.T) {
	inputs := map[string]struct{ docs, volume string }{
		"a Pod's image volume":                          {imageVolumeWithCleanReports, "ghcr.io/evil/toolkit:1.0"},
		"a template's image volume without a reference": {templateImageVolumeWithoutReference, "names no reference"},
	}
	for _, c := range []*engine.Check{imgCriticalCVEs, imgEmbeddedSecrets} {
		for input, in := range inputs {
			t.Run(c.ID+"/"+input, func(t *testing.T) {
				ev := judgeInCluster(t, c, in.docs)
				var volume, app []engine.Status
				for _, r := range ev.Results {
					switch {
					case r.Check.ID != c.ID:
					case r.Container == "app":
						app = append(app, r.Status)
					case strings.Contains(r.Message, `"tools"`) && strings.Contains(r.Message, in.volume):
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
}

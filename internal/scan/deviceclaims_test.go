package scan

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestWorkloadsUsingDeviceAdminClaimsFail: a CI gate over a repository whose Deployment, in one
// file, names a ResourceClaimTemplate with adminAccess, kept in a later file (the Deployment is
// kept in compact form by then), and whose Job names a ResourceClaim that is not in the files.
// The Deployment fails wl-device-admin-access (high: the gate fails at --fail-on high), naming
// the template; the Job is NotAssessed, not passed. Before, the template failed but the
// Deployment that runs it passed, and the Job passed.
func TestWorkloadsUsingDeviceAdminClaimsFail(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1-workloads.yaml"), `
apiVersion: apps/v1
kind: Deployment
metadata: {name: gpu-exporter, namespace: gpu-monitoring}
spec:
  selector:
    matchLabels: {app: gpu-exporter}
  template:
    metadata:
      labels: {app: gpu-exporter}
    spec:
      resourceClaims:
      - name: gpus
        resourceClaimTemplateName: gpu-admin
      containers:
      - name: exporter
        image: registry.example.com/gpu/exporter:1.2.0
        resources:
          claims: [{name: gpus}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: bench, namespace: gpu-monitoring}
spec:
  template:
    spec:
      restartPolicy: Never
      resourceClaims:
      - name: gpu
        resourceClaimName: shared-gpu
      containers:
      - name: bench
        image: registry.example.com/ml/bench:1.0.0
`)
	writeFile(t, filepath.Join(dir, "2-claims.yaml"), `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: gpu-admin, namespace: gpu-monitoring}
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly: {deviceClassName: gpu.example.com, allocationMode: All, adminAccess: true}
`)
	stdout, stderr, code := runScan(t, "", "-f", dir, "-o", "json", "--show", "all", "--fail-on", "high")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr)
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1 (a high failure); stderr: %s", code, stderr)
	}
	got := map[string]Finding{}
	for _, r := range rep.Results {
		if r.Check == "wl-device-admin-access" && r.Resource != nil {
			got[r.Resource.Kind+"/"+r.Resource.Name] = r
		}
	}
	if d := got["Deployment/gpu-exporter"]; d.Result != v1alpha1.ResultFail ||
		!strings.Contains(d.Message, `claim "gpus" uses ResourceClaimTemplate "gpu-admin", whose device request "gpus" sets exactly.adminAccess: true`) {
		t.Errorf("the Deployment: %s %q, want Fail naming the template", d.Result, d.Message)
	}
	if j := got["Job/bench"]; j.Result != v1alpha1.ResultNotAssessed ||
		!strings.Contains(j.Message, `claim "gpu" uses ResourceClaim "shared-gpu", which is not in the scanned input`) {
		t.Errorf("the Job: %s %q, want NotAssessed naming the absent claim", j.Result, j.Message)
	}
	if tm := got["ResourceClaimTemplate/gpu-admin"]; tm.Result != v1alpha1.ResultFail {
		t.Errorf("the template: %s %q, want Fail", tm.Result, tm.Message)
	}
}

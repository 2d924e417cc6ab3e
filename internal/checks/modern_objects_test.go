package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// judgeWithCatalogue judges the YAML documents with the whole catalogue, as scan does (complete
// false) or as the operator does, at fixtureNow, passes kept.
func judgeWithCatalogue(t *testing.T, docs string, complete bool) *engine.Evaluation {
	t.Helper()
	objs, errs := manifest.Decode("objects.yaml", []byte(docs))
	for _, e := range errs {
		t.Fatal(e)
	}
	manifest.DefaultNamespace(objs, "default")
	plan := engine.Compile(Catalogue(), nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	return plan.Evaluate(engine.NewInventory(objs, complete), nil, opts)
}

// TestModernObjectsThatGrantPrivilegeFail holds the catalogue to objects of current Kubernetes
// and its ecosystem that give whoever writes them more than their namespace: each must fail the
// named check, with a message that names the field, in scan and in the operator. Every row
// passed every check of the catalogue before the check was added.
func TestModernObjectsThatGrantPrivilegeFail(t *testing.T) {
	tests := map[string]struct {
		docs    string
		kind    string
		check   string
		message string
		// scanOnly rows are of kinds the operator never reads (Secrets).
		scanOnly bool
	}{
		"an ingress-nginx configuration snippet reaches the controller's Secrets (CVE-2021-25742)": {
			docs:    ingressWith(`nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers \"X: y\";"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "nginx.ingress.kubernetes.io/configuration-snippet",
		},
		"an ingress-nginx server snippet": {
			docs:    ingressWith(`nginx.ingress.kubernetes.io/server-snippet: "location /x { return 200; }"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "nginx.ingress.kubernetes.io/server-snippet",
		},
		"an ingress-nginx server snippet under the prefix its --annotations-prefix flag sets": {
			docs:    ingressWith(`ingress.example.com/server-snippet: "location /x { return 200; }"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "ingress.example.com/server-snippet",
		},
		"an NGINX Ingress Controller server snippet": {
			docs:    ingressWith(`nginx.org/server-snippets: "location /x { return 200; }"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "nginx.org/server-snippets",
		},
		"a ResourceClaimTemplate asking for administrative access to GPUs other pods hold": {
			docs:    modernDeviceAdminDaemonSet,
			kind:    "ResourceClaimTemplate",
			check:   "wl-device-admin-access",
			message: `device request "gpus" sets exactly.adminAccess: true`,
		},
		"a DaemonSet whose pods' claims are made from a template asking for administrative access": {
			docs:    modernDeviceAdminDaemonSet,
			kind:    "DaemonSet",
			check:   "wl-device-admin-access",
			message: `claim "gpus" uses ResourceClaimTemplate "gpu-admin", whose device request "gpus" sets exactly.adminAccess: true`,
		},
		"a v1beta1 ResourceClaim asking for administrative access": {
			docs: namespaceForDeviceAdmins + `
apiVersion: resource.k8s.io/v1beta1
kind: ResourceClaim
metadata: {name: nic-admin, namespace: gpu-monitoring}
spec:
  devices:
    requests:
    - name: nic
      deviceClassName: nic.example.com
      adminAccess: true
`,
			kind:    "ResourceClaim",
			check:   "wl-device-admin-access",
			message: `device request "nic" sets adminAccess: true`,
		},
		"a Secret that makes a never-expiring ServiceAccount token": {
			docs: `
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: ci
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
`,
			kind:     "Secret",
			check:    "sa-legacy-token-secret",
			message:  `a token of ServiceAccount "deployer" that never expires`,
			scanOnly: true,
		},
		"a ServiceAccount whose secrets field lists its never-expiring token Secret": {
			docs: `
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
secrets:
- name: deployer-token
---
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: ci
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
`,
			kind:     "ServiceAccount",
			check:    "sa-legacy-token-secret",
			message:  `lists Secret "deployer-token", a token of ServiceAccount "deployer" that never expires`,
			scanOnly: true,
		},
		"an ingress-nginx auth-url that closes its directive and adds its own (CVE-2025-24514)": {
			docs:    ingressWith(`nginx.ingress.kubernetes.io/auth-url: "http://auth.example.com/#;}}}\nlocation /x { root /; }\n"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "nginx.ingress.kubernetes.io/auth-url",
		},
		"an ingress-nginx mirror-target with nginx syntax (CVE-2025-1098)": {
			docs:    ingressWith(`nginx.ingress.kubernetes.io/mirror-target: "https://m.example.com/$request_uri; lua_code_cache off;"`),
			kind:    "Ingress",
			check:   "net-ingress-snippets",
			message: "nginx.ingress.kubernetes.io/mirror-target",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, complete := range []bool{false, true} {
				if complete && tc.scanOnly {
					continue
				}
				ev := judgeWithCatalogue(t, tc.docs, complete)
				var got []string
				failed := false
				for _, r := range ev.Results {
					if r.Object == nil || r.Object.Kind != tc.kind {
						continue
					}
					if r.Status == engine.StatusFail {
						got = append(got, r.Check.ID+": "+r.Message)
					}
					if r.Check.ID == tc.check && r.Status == engine.StatusFail && strings.Contains(r.Message, tc.message) {
						failed = true
					}
				}
				if !failed {
					t.Errorf("complete=%v: want %s to fail the %s naming %q; failures: %v", complete, tc.check, tc.kind, tc.message, got)
				}
			}
		})
	}
}

// ingressWith is an Ingress with named hosts and TLS, and the annotation given (one YAML line).
func ingressWith(annotation string) string {
	return `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    ` + annotation + `
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: shop-example-com-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
`
}

// namespaceForDeviceAdmins is a namespace where Kubernetes admits claims with adminAccess.
const namespaceForDeviceAdmins = `
apiVersion: v1
kind: Namespace
metadata:
  name: gpu-monitoring
  labels: {resource.kubernetes.io/admin-access: "true"}
---
`

// modernDeviceAdminDaemonSet is a ResourceClaimTemplate with administrative access to GPUs and
// the DaemonSet whose pods' claims are made from it.
const modernDeviceAdminDaemonSet = namespaceForDeviceAdmins + `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: gpu-admin, namespace: gpu-monitoring}
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly:
          deviceClassName: gpu.example.com
          allocationMode: All
          adminAccess: true
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu-monitor, namespace: gpu-monitoring}
spec:
  selector: {matchLabels: {app: gpu-monitor}}
  template:
    metadata: {labels: {app: gpu-monitor}}
    spec:
      resourceClaims:
      - name: gpus
        resourceClaimTemplateName: gpu-admin
      containers:
      - name: monitor
        image: registry.example.com/gpu/monitor@sha256:0000000000000000000000000000000000000000000000000000000000000000
        resources:
          claims: [{name: gpus}]
`

package scan

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// An allowedRegistries entry is compared with the start of each image spelled in full, so a
// glob (ghcr.io/acme/*) or a URL (https://ghcr.io/acme/) allows nothing: img-registry-allowlist
// failed, at High severity, every image its author meant to allow, and nothing said why. Such
// an entry is a problem of the profile, named by its field, with the prefix it should be; the
// images under the profile's other entries are still judged.
func TestAllowedRegistriesThatNoImageCanStartWith(t *testing.T) {
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
        image: ghcr.io/acme/web:1.4.2
`
	cases := map[string]struct {
		registries string
		problems   []string
		result     string
	}{
		"a prefix": {registries: `["ghcr.io/acme/"]`, result: "Pass"},
		"a glob": {registries: `["ghcr.io/acme/*"]`, result: "Fail",
			problems: []string{`spec.parameters.allowedRegistries[0]: "ghcr.io/acme/*" is not an image prefix`, `write "ghcr.io/acme/"`}},
		"a URL beside a prefix": {registries: `["registry.k8s.io/", "https://ghcr.io/acme"]`, result: "Fail",
			problems: []string{`spec.parameters.allowedRegistries[1]: "https://ghcr.io/acme" is not an image prefix`, `write "ghcr.io/acme"`}},
		"a wildcard host": {registries: `["*.corp.example.com/"]`, result: "Fail",
			problems: []string{`spec.parameters.allowedRegistries[0]: "*.corp.example.com/" is not an image prefix`}},
		"an image with its tag": {registries: `["ghcr.io/acme/web:1.4.2"]`, result: "Fail",
			problems: []string{`spec.parameters.allowedRegistries[0]: "ghcr.io/acme/web:1.4.2" is not an image prefix`, `write "ghcr.io/acme/web"`}},
		"a short name with its tag": {registries: `["ghcr.io/acme/", "nginx:1.27"]`, result: "Pass",
			problems: []string{`spec.parameters.allowedRegistries[1]: "nginx:1.27" is not an image prefix`, `write "nginx"`}},
		"an image with its digest": {registries: `["ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]`, result: "Fail",
			problems: []string{`is not an image prefix`, `write "ghcr.io/acme/web"`}},
		"upper case in the path": {registries: `["GHCR.io/Acme/"]`, result: "Fail",
			problems: []string{`spec.parameters.allowedRegistries[0]: "GHCR.io/Acme/" is not an image prefix`, `write "GHCR.io/acme/"`}},
		"a registry port": {registries: `["ghcr.io:443/acme/", "ghcr.io/acme/"]`, result: "Pass"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			manifest := filepath.Join(t.TempDir(), "web.yaml")
			writeFile(t, manifest, deployment)
			rep, stderr, code := scanUnderProfile(t, manifest, "  parameters:\n    allowedRegistries: "+tc.registries+"\n")
			want := ExitOK
			if len(tc.problems) > 0 {
				want = ExitUsage
			}
			if code != want {
				t.Errorf("exit %d, want %d; stderr: %s", code, want, stderr)
			}
			for _, p := range tc.problems {
				if !strings.Contains(stderr, p) {
					t.Errorf("stderr does not say %q:\n%s", p, stderr)
				}
			}
			i := slices.IndexFunc(rep.Results, func(f Finding) bool { return f.Check == "img-registry-allowlist" })
			if i < 0 || string(rep.Results[i].Result) != tc.result {
				t.Errorf("img-registry-allowlist on ghcr.io/acme/web:1.4.2: want %s, got %+v", tc.result, rep.Results)
			}
		})
	}
}

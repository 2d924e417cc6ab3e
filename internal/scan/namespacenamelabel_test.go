package scan

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestANamespaceManifestCarriesItsNameLabel: the API server sets kubernetes.io/metadata.name to
// a namespace's name on every namespace, over whatever value a manifest gives the label
// (k8s.io/kubernetes v1.37.2 pkg/registry/core/namespace/strategy.go, PrepareForCreate and
// PrepareForUpdate). scan took a Namespace manifest's labels as written, without it: under a
// profile that selects namespaces by name through that label (the usual way to list them), a
// namespace whose manifest the files hold was left out, and so was one whose manifest wrote
// another name into the label, while a namespace without a manifest was given it. A privileged
// Pod of the declared namespace passed the gate at any --fail-on (only a profile that selected
// none of the input's namespaces was an error).
func TestANamespaceManifestCarriesItsNameLabel(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "profile.yaml")
	writeFile(t, profile, profileWith("  namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [web, shop]}]}\n"))
	for name, labels := range map[string]string{
		"a manifest without the label":         "{team: web}",
		"a manifest that writes another name":  "{team: web, kubernetes.io/metadata.name: elsewhere}",
		"a manifest that writes an empty name": "{kubernetes.io/metadata.name: ''}",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "all.yaml"),
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: "+labels+"}\n---\n"+
					"apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: web}\n"+
					"spec: {containers: [{name: c, image: 'registry.example.com/a:1.0', securityContext: {privileged: true}}]}\n---\n"+
					"apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\nspec: {containers: [{name: c, image: 'registry.example.com/b:1.0'}]}\n")
			_, stderr, code := runScan(t, "", "-f", dir, "--profile", profile, "-o", "json", "--fail-on", "Critical")
			if code != ExitFindings {
				t.Errorf("exit %d, want %d: Pod web/a is privileged, and the profile selects web\n%s", code, ExitFindings, stderr)
			}
			if strings.Contains(stderr, "does not assess") {
				t.Errorf("the profile left a namespace out:\n%s", stderr)
			}
		})
	}
}

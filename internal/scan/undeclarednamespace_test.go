package scan

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestANamespaceTheFilesDoNotDeclareIsAssessedWhereItsLabelsMayBeSelected: under a profile that
// selects namespaces by label, a namespace with no Namespace object in the files was taken to
// carry only kubernetes.io/metadata.name, so nothing in it was judged. Its workloads cannot be
// applied unless it exists in the cluster, with whatever labels its administrators gave it: a
// repository that left its Namespace manifest out (or kept it elsewhere) had a privileged Pod of
// that namespace pass the gate at any --fail-on beside one namespace it declared (only a profile
// that selected none of the input's namespaces was an error). Its other labels are unknown, so
// it is assessed unless what is known of it leaves it out: its name (excludedNamespaces, a system
// namespace, a selector's requirement on kubernetes.io/metadata.name, which the API server sets
// to the name). A namespace the files declare is judged by the labels they give it, as before.
func TestANamespaceTheFilesDoNotDeclareIsAssessedWhereItsLabelsMayBeSelected(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m", "all.yaml"),
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n---\n"+
			"apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: web}\nspec: {containers: [{name: c, image: 'registry.example.com/a:1.0'}]}\n---\n"+
			"apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop}\n"+
			"spec: {containers: [{name: c, image: 'registry.example.com/b:1.0', securityContext: {privileged: true}}]}\n")
	profile := filepath.Join(dir, "profile.yaml")
	for name, tc := range map[string]struct {
		spec     string
		assessed bool
	}{
		"a selector on other labels":                {"  namespaceSelector: {matchLabels: {team: web}}\n", true},
		"a selector that may match with other keys": {"  namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [web]}, {key: kubernetes.io/metadata.name, operator: In, values: [web, shop]}]}\n", true},
		"a selector on its name that leaves it out": {"  namespaceSelector: {matchExpressions: [{key: team, operator: Exists}, {key: kubernetes.io/metadata.name, operator: NotIn, values: [shop]}]}\n", false},
		"excluded by name":                          {"  namespaceSelector: {matchLabels: {team: web}}\n  excludedNamespaces: [shop]\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			writeFile(t, profile, profileWith(tc.spec))
			_, stderr, code := runScan(t, "", "-f", filepath.Join(dir, "m"), "--profile", profile, "-o", "json", "--fail-on", "Critical")
			want := ExitOK
			if tc.assessed {
				want = ExitFindings
			}
			if code != want {
				t.Errorf("exit %d, want %d (Pod shop/b, privileged, assessed: %v)\n%s", code, want, tc.assessed, stderr)
			}
			left := strings.Contains(stderr, "shop")
			if left == tc.assessed {
				t.Errorf("standard error names shop as left out: %v, want %v\n%s", left, !tc.assessed, stderr)
			}
		})
	}
}

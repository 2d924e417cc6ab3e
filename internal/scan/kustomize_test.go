package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKustomizationNotes: scanning a kustomize overlay reads its files as written (a patch as
// if it were an object, and nothing of ../base), which is not what it deploys; the scan says
// so on standard error and names the command that judges what it deploys. A kustomization that
// only lists files in its directory builds exactly those files, and gets no note.
func TestKustomizationNotes(t *testing.T) {
	_, stderr, code := runScan(t, "", "-f", "testdata/kustomize/prod", "--fail-on", "none")
	want := "soc2-operator scan: note: testdata/kustomize/prod/kustomization.yaml builds its objects (patches, ../base): " +
		"scan judged the files under testdata/kustomize/prod as written, not what the kustomization deploys; " +
		"to judge that, scan its output: kustomize build testdata/kustomize/prod | soc2-operator scan -"
	if !strings.Contains(stderr, want) || code != ExitOK {
		t.Errorf("overlay: exit %d, stderr:\n%s\nwant exit 0 and:\n%s", code, stderr, want)
	}
	if _, stderr, _ := runScan(t, "", "-f", "testdata/kustomize/base", "--fail-on", "none"); stderr != "" {
		t.Errorf("a kustomization that lists its own files: stderr %q, want nothing", stderr)
	}

	dir := t.TempDir()
	cases := map[string]string{
		"resources: [deploy.yaml, sub/svc.yaml]\n":                                                "",
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n": "",
		"resources: [a.yaml]\nnamespace: prod\n":                                                  "(namespace)",
		"resources: [a.yaml]\nimages: [{name: app, newTag: '2'}]\ncommonLabels: {a: b}\n":         "(commonLabels, images)",
		"resources: [../../base]\n":                                                               "(../../base)",
		"resources:\n- https://github.com/example/app//deploy?ref=v1\n":                           "(https://github.com/example/app//deploy?ref=v1)",
		"resources: [./sub/../a.yaml]\n":                                                          "",
		"resources: [a.yaml]\npatches: [{path: p.yaml}]\nreplicas: [{name: web, count: 1}]\nconfigMapGenerator: []\nnamePrefix: x-\ncomponents: [../c]\n": "(components, configMapGenerator, namePrefix, patches, +1 more)",
		"resources: [a.yaml\n": "not valid YAML",
	}
	for content, want := range cases {
		path := filepath.Join(dir, "kustomization.yaml")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got := kustomizationNote(path)
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("kustomization %q: note %q, want one containing %q", content, got, want)
		}
	}
}

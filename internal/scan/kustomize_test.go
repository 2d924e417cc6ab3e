package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKustomizationNotes: scanning a kustomize overlay reads its files as written (a patch as
// if it were an object, and nothing of ../base), which is not what it deploys: the overlay is
// an input scan could not read, as a Helm chart is, named on standard error with the command
// that judges what it deploys, and the scan exits 3 (it exited 0 with a note, so `scan -f .` of
// a repository whose prod overlay patched a privileged container into its base passed the
// gate). A kustomization that only lists files in its directory builds exactly those files, and
// is no error.
func TestKustomizationNotes(t *testing.T) {
	_, stderr, code := runScan(t, "", "-f", "testdata/kustomize/prod", "--fail-on", "none")
	want := "soc2-operator scan: testdata/kustomize/prod/kustomization.yaml: a kustomization that builds its objects (patches, ../base): " +
		"scan judged the files under testdata/kustomize/prod as written, not what the kustomization deploys; " +
		"to judge that, scan its output: kustomize build testdata/kustomize/prod | soc2-operator scan -"
	if !strings.Contains(stderr, want) || code != ExitInput {
		t.Errorf("overlay: exit %d, stderr:\n%s\nwant exit %d and:\n%s", code, stderr, ExitInput, want)
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

// TestHelmChartsAreNamedNotJudged: a repository holding a Helm chart beside its manifests (this
// project's own chart) is scanned as a CI job would, `scan -f .`: the chart is one unreadable
// input, named with the command that scans what it deploys, instead of its templates and values
// as broken documents (40 lines, "invalid character '{'", "kind is missing") or, for a template
// that parses as YAML, as objects with their {{ }} as written. The manifests beside it are still
// judged, and the run exits 3, as for any input it could not read: a gate must not pass on a
// chart it did not judge.
func TestHelmChartsAreNamedNotJudged(t *testing.T) {
	chart := filepath.Join("..", "..", "charts", "soc2-operator")
	templates := filepath.Join(chart, "templates")
	for path, what := range map[string]string{
		chart:     "a Helm chart (Chart.yaml), not manifests",
		templates: "a Helm chart's templates, not manifests (the chart is " + chart + ")",
	} {
		t.Run(path, func(t *testing.T) {
			stdout, stderr, code := runScan(t, "", "-f", path, "-f", "testdata/kustomize/base", "--fail-on", "none", "-o", "json")
			want := "soc2-operator scan: " + path + ": " + what + ": its templates are judged only as rendered: " +
				"scan what it renders (helm template " + chart + " | soc2-operator scan -)\n"
			if stderr != want || code != ExitInput {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and only:\n%s", code, stderr, ExitInput, want)
			}
			var rep struct {
				Summary  struct{ Objects, Errors int }
				Findings []struct{ Resource struct{ Name string } }
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Summary.Objects != 1 || rep.Summary.Errors != 1 {
				t.Errorf("summary: %d objects, %d errors; want the base's Deployment and the chart", rep.Summary.Objects, rep.Summary.Errors)
			}
			for _, f := range rep.Findings {
				if strings.Contains(f.Resource.Name, "{{") || strings.Contains(f.Resource.Name, "soc2-operator") {
					t.Errorf("a finding on %q, an object of the chart's templates", f.Resource.Name)
				}
			}
		})
	}
}

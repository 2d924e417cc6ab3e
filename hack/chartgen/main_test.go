package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedChartIsCurrent: what chartgen writes is what is committed (make verify checks the
// same after regenerating; this fails in make test-unit already).
func TestCommittedChartIsCurrent(t *testing.T) {
	files, err := Generate("../..", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("../..", name))
		if err != nil {
			t.Errorf("%s: %v (run make chart)", name, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale: run make chart", name)
		}
	}
	for _, dir := range []string{"crds", "files"} {
		_ = filepath.WalkDir(filepath.Join("../..", chartDir, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel("../..", path)
			if _, ok := files[rel]; !ok {
				t.Errorf("%s is not generated any more: run make chart", rel)
			}
			return nil
		})
	}
}

// TestBadInputNamesWhatIsWrong: a value without a comment, and a PrometheusRule whose spec is not
// its last field, fail the generator with the file, line or field.
func TestBadInputNamesWhatIsWrong(t *testing.T) {
	_, err := helmDoc([]byte("# The image.\nimage:\n  # Its repository.\n  repository: x\n  tag: \"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "line 5: image.tag has no comment") {
		t.Errorf("an undocumented value: %v", err)
	}

	dir := t.TempDir()
	src := filepath.Join(dir, "rule.yaml")
	if err := os.WriteFile(src, []byte("kind: PrometheusRule\nspec:\n  groups: []\nstatus: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = prometheusRuleSpec(dir, "rule.yaml")
	if err == nil || !strings.Contains(err.Error(), `rule.yaml: spec must be the last top-level field, found "status: {}"`) {
		t.Errorf("a field after spec: %v", err)
	}
}

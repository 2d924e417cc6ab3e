//go:build e2e

package paritytest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestScanReadsWhatKubectlApplyRecursiveReads holds scan's directory walk against the real
// kubectl's: every object `kubectl apply -R -f DIR` would apply, scan reads, hidden directories
// included (scan skipped them, and a Pod under deploy/.generated was deployed and never
// judged), and files named kustomization.yaml that hold objects; and every document scan lets go as no Kubernetes object (manifest.ErrNotAnObject:
// a GitHub workflow, a docker-compose file, a package.json) kubectl refuses too.
func TestScanReadsWhatKubectlApplyRecursiveReads(t *testing.T) {
	dir := t.TempDir()
	configMap := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: default}\ndata: {a: b}\n"
	}
	files := map[string]string{
		"app.yaml":                  configMap("app"),
		".generated/pod.yaml":       "apiVersion: v1\nkind: Pod\nmetadata: {name: hidden, namespace: default}\nspec: {containers: [{name: c, image: busybox:1.36}]}\n",
		".generated/.deeper/cm.yml": configMap("deeper"),
		"sub/.dotfile.json":         `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dotfile", "namespace": "default"}}`,
		".github/workflows/ci.yml":  "name: ci\non: [push]\njobs:\n  test: {runs-on: ubuntu-latest, steps: [{run: make test}]}\n",
		"docker-compose.yml":        "services:\n  web: {image: nginx}\n",
		"package.json":              `{"name": "site", "private": true}`,
		// A file named as a kustomization that holds an object, not a kustomization: kubectl
		// applies it (scan skipped it for its name). A real kustomization kubectl refuses.
		"deploy/kustomization.yaml":  "apiVersion: v1\nkind: Pod\nmetadata: {name: in-kustomization, namespace: default}\nspec: {containers: [{name: c, image: busybox:1.36}]}\n",
		"overlay/kustomization.yaml": "resources: [../app.yaml]\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// kubectl fails on the files that are no objects and applies the rest (client dry run:
	// nothing is created, the API server maps the kinds).
	out, err := kubectl(context.Background(), "apply", "-R", "-f", dir, "--dry-run=client", "-o", "name")
	if err == nil {
		t.Errorf("kubectl apply -R applied the files that are no objects:\n%s", out)
	}
	name := regexp.MustCompile(`^[a-z.]+/[a-z0-9.-]+$`)
	var applied []string
	for _, line := range strings.Split(out, "\n") {
		if name.MatchString(line) {
			applied = append(applied, line)
		}
	}

	objs, errs := manifest.Load([]string{dir}, nil)
	var read []string
	for _, o := range objs {
		read = append(read, strings.ToLower(o.Kind)+"/"+o.Name)
	}
	slices.Sort(applied)
	slices.Sort(read)
	if !slices.Equal(applied, read) || len(read) != 5 {
		t.Errorf("kubectl apply -R -f applies %v; scan reads %v", applied, read)
	}
	if len(errs) != 3 {
		t.Errorf("scan: %d errors, want one for each of the 3 files that are no objects: %v", len(errs), errs)
	}
	for _, e := range errs {
		var de *manifest.DecodeError
		if !errors.As(e, &de) || !errors.Is(e, manifest.ErrNotAnObject) {
			t.Errorf("scan: %v, want manifest.ErrNotAnObject", e)
			continue
		}
		if !strings.Contains(out, de.Source) {
			t.Errorf("scan lets go of %s as no object, which kubectl did not refuse:\n%s", de.Source, out)
		}
	}
}

package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestARepositoryIsScannedAsKubectlApplyReadsIt: `scan -f .` on a repository as a CI job runs
// it. A Pod in a hidden directory, which `kubectl apply -R -f` deploys, is judged (skipped, a
// privileged Pod there passed the gate); the repository's own tooling files, which are no
// Kubernetes objects and which kubectl refuses, are named in one note instead of failing the
// scan with exit 3; a document that only misspells its kind is still an unreadable input; and
// a path with nothing but tooling files still exits 2.
func TestARepositoryIsScannedAsKubectlApplyReadsIt(t *testing.T) {
	dir := t.TempDir()
	privileged := "apiVersion: v1\nkind: Pod\nmetadata: {name: hidden, namespace: shop}\n" +
		"spec: {containers: [{name: c, image: busybox:1.36, securityContext: {privileged: true}}]}\n"
	for name, content := range map[string]string{
		"deploy/.generated/pod.yaml": privileged,
		".github/workflows/ci.yml":   "name: ci\non: [push]\njobs:\n  test: {runs-on: ubuntu-latest, steps: [{run: make test}]}\n",
		"docker-compose.yml":         "services:\n  web: {image: nginx}\n",
		"mkdocs.yml":                 "site_name: docs\n",
		"package.json":               `{"name": "site", "private": true}`,
		".git/info/pod.yaml":         privileged, // Git's own data: never a committed file
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	stdout, stderr, code := runScan(t, "", "-f", dir, "-o", "json")
	want := "soc2-operator scan: note: 4 documents that are not Kubernetes objects (neither apiVersion nor kind; kubectl apply refuses them) were not judged: " +
		filepath.Join(dir, ".github/workflows/ci.yml") + ", " + filepath.Join(dir, "docker-compose.yml") + ", " +
		filepath.Join(dir, "mkdocs.yml") + ", " + filepath.Join(dir, "package.json") + "\n"
	if stderr != want || code != ExitFindings {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and only:\n%s", code, stderr, ExitFindings, want)
	}
	var rep struct {
		Summary  struct{ Objects, Errors, NotObjects int }
		Findings []struct {
			Check    string
			Resource struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	privilegedFound := false
	for _, f := range rep.Findings {
		privilegedFound = privilegedFound || f.Check == "wl-privileged" && f.Resource.Name == "hidden"
	}
	if rep.Summary.Objects != 1 || rep.Summary.Errors != 0 || rep.Summary.NotObjects != 4 || !privilegedFound {
		t.Errorf("%d objects, %d errors, %d not objects, privileged Pod in the hidden directory found: %v; "+
			"want the one Pod, no error, the 4 tooling files, and the Pod's wl-privileged finding",
			rep.Summary.Objects, rep.Summary.Errors, rep.Summary.NotObjects, privilegedFound)
	}
	if stdout, _, _ := runScan(t, "", "-f", dir); !strings.Contains(stdout, "Not judged: 4 documents that are no Kubernetes objects (named on standard error).") {
		t.Errorf("the table's summary does not count the documents that are no objects:\n%s", stdout)
	}

	typo := filepath.Join(dir, "deploy", "typo.yaml")
	if err := os.WriteFile(typo, []byte("Kind: Pod\nmetadata: {name: typo}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runScan(t, "", "-f", dir); code != ExitInput || !strings.Contains(stderr, typo+": document 1 (line 1): not a Kubernetes object: kind is missing") {
		t.Errorf("a document with Kind: exit %d, stderr:\n%s\nwant exit %d and its error", code, stderr, ExitInput)
	}

	tooling := filepath.Join(dir, ".github")
	if _, stderr, code := runScan(t, "", "-f", tooling); code != ExitUsage || !strings.Contains(stderr, "no Kubernetes objects found in "+tooling) {
		t.Errorf("only tooling files: exit %d, stderr:\n%s\nwant exit %d: nothing was scanned", code, stderr, ExitUsage)
	}
}

package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chmod changes a mode for the test and restores it, so that the temporary directory can be
// removed.
func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(path, info.Mode().Perm()) })
}

// TestLoad walks directories as `soc2-operator scan -f` does: which files it reads, in which
// order, and how a path it cannot read is named while the rest is read.
func TestLoad(t *testing.T) {
	cases := map[string]struct {
		files map[string]string // under the directory
		setup func(t *testing.T, dir string)
		paths []string // relative to the directory; the directory itself when empty
		stdin string
		// objects are the names of the objects read, in order.
		objects []string
		// errs are the errors, in order, each as phrases its message holds; "DIR" stands for
		// the directory.
		errs [][]string
	}{
		"a directory is read recursively in lexical order, YAML and JSON alike": {
			files: map[string]string{"b.yaml": pod("b"), "a/z.yml": pod("az"), "a/y.json": podJSON("ay"), "c.YAML": pod("c")},
			// Decoded in parallel, emitted in the order of the walk.
			objects: []string{"ay", "az", "b", "c"},
		},
		".git directories, kustomization files and other files are skipped": {
			files: map[string]string{"app.yaml": pod("app"), ".git/config.yaml": pod("git"), "kustomization.yaml": "resources: [app.yaml]\n",
				"Kustomization.yml": "resources: []\n", "README.md": "# docs\n", "values.txt": "x: 1\n",
				"component/kustomization.yaml": "kind: Component\nresources: []\n"},
			objects: []string{"app"},
		},
		"a file named as a kustomization that holds objects is read, as kubectl apply -f DIR applies them": {
			// Skipped for its name, a privileged Pod in kustomization.yaml was deployed by
			// kubectl apply -f and never judged.
			files: map[string]string{"app.yaml": pod("app"), "kustomization.yaml": pod("hidden"),
				"overlay/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../app.yaml]\n",
				"base/kustomization.yml":     "resources: [../app.yaml]\n"},
			objects: []string{"app", "hidden"},
		},
		"a file named as a kustomization with a document scan cannot read is read, so that its error is reported": {
			// kubectl apply -f DIR reads the Pod, its key written twice, as yaml.v2 does (the last
			// one wins), and applies it whatever it makes of the kustomization after it
			// (ContinueOnError); skipped for its name, the file passed in silence.
			files: map[string]string{"app.yaml": pod("app"),
				"kustomization.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: hidden}\nspec:\n  hostPID: false\n  hostPID: true\n" +
					"  containers: [{name: c, image: busybox:1.36}]\n---\n" +
					"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\n"},
			objects: []string{"app"},
			errs:    [][]string{{"DIR/kustomization.yaml: document 1 (line 1): ", `key "hostPID" already set in map`}},
		},
		"other hidden directories are read, as kubectl apply -R reads them": {
			// Skipped, a Pod in a hidden directory was deployed by kubectl apply -R -f and never
			// judged (internal/paritytest holds it against the real kubectl).
			files:   map[string]string{"app.yaml": pod("app"), ".hidden/pod.yaml": pod("hidden"), ".hidden/.deeper/pod.yml": pod("deeper"), ".x.yaml": pod("dotfile")},
			objects: []string{"deeper", "hidden", "dotfile", "app"},
		},
		"a document with neither apiVersion nor kind is ErrNotAnObject; one with either, or Kind, is still an error": {
			files: map[string]string{
				".github/workflows/ci.yml": "name: ci\non: [push]\njobs: {}\n",
				"compose.yaml":             "services:\n  web: {image: nginx}\n---\n" + pod("app"),
				"package.json":             `{"name": "x", "version": "1.0.0"}`,
				"typo.yaml":                "Kind: Pod\nmetadata: {name: typo}\n",
				"only-api.yaml":            "apiVersion: v1\nmetadata: {name: x}\n",
				"list.yaml":                "apiVersion: v1\nkind: List\nitems:\n- {metadata: {name: no-kind}}\n",
			},
			objects: []string{"app"},
			errs: [][]string{
				{"DIR/.github/workflows/ci.yml: document 1 (line 1): not a Kubernetes object (neither apiVersion nor kind)"},
				{"DIR/compose.yaml: document 1 (line 1): not a Kubernetes object (neither apiVersion nor kind)"},
				{"DIR/list.yaml: document 1 (line 1): items[0]: not a Kubernetes object: kind is missing"},
				{"DIR/only-api.yaml: document 1 (line 1): not a Kubernetes object: kind is missing"},
				{"DIR/package.json: document 1 (line 1): not a Kubernetes object (neither apiVersion nor kind)"},
				{"DIR/typo.yaml: document 1 (line 1): not a Kubernetes object: kind is missing"},
			},
		},
		"a directory without a manifest is an error, not an empty scan": {
			files: map[string]string{"README.md": "# docs\n", "kustomization.yaml": "resources: []\n"},
			errs:  [][]string{{"DIR: no manifest files (*.yaml, *.yml, *.json) found in this directory or below it"}},
		},
		"a kustomization named as a path is refused with the command that builds it": {
			files:   map[string]string{"ok.yaml": pod("ok"), "overlay/kustomization.yaml": "resources: [../ok.yaml]\n"},
			paths:   []string{"overlay/kustomization.yaml", "ok.yaml"},
			objects: []string{"ok"},
			errs:    [][]string{{"DIR/overlay/kustomization.yaml: a kustomization, not manifests: scan what it builds (kustomize build DIR/overlay | soc2-operator scan -)"}},
		},
		"a file named as a kustomization that holds objects, named as a path, is read": {
			files:   map[string]string{"kustomization.yaml": pod("hidden")},
			paths:   []string{"kustomization.yaml"},
			objects: []string{"hidden"},
		},
		"a Helm chart in a directory is one error with the command that renders it, and nothing of it is judged": {
			files: map[string]string{
				"app.yaml":                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n",
				"0-first/a.yaml":          pod("before-the-chart"),
				"charts/web/Chart.yaml":   "apiVersion: v2\nname: web\nversion: 0.1.0\n",
				"charts/web/values.yaml":  "image: nginx\n",
				"charts/web/ci/ha.yaml":   "replicas: 3\n",
				"charts/web/crds/c.yaml":  pod("crd-of-the-chart"),
				"charts/web/0-early.yaml": pod("sorted-before-Chart.yaml"),
				// A template that parses as YAML: judged as written it would be an object
				// named "{{ .Release.Name }}".
				"charts/web/templates/pod.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{{ .Release.Name }}\"\n",
				"charts/web/templates/deployment.yaml":    "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n",
				"charts/web/charts/sub/Chart.yaml":        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
				"charts/web/charts/sub/templates/cm.yaml": pod("{{ .Values.sub }}"),
				"z.yaml": pod("z"),
			},
			objects: []string{"before-the-chart", "app", "z"},
			errs: [][]string{{"DIR/charts/web: a Helm chart (Chart.yaml), not manifests: its templates are judged only as rendered: " +
				"scan what it renders (helm template DIR/charts/web | soc2-operator scan -)"}},
		},
		"a directory that is a Helm chart is that error alone, not also an empty directory": {
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "templates/pod.yaml": pod("{{ .Release.Name }}")},
			errs:  [][]string{{"DIR: a Helm chart (Chart.yaml), not manifests", "(helm template DIR | soc2-operator scan -)"}},
		},
		"a chart's Chart.yaml named as a path is refused with the command that renders the chart; its other files are read as named": {
			files:   map[string]string{"web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "web/crds/ok.yaml": pod("named")},
			paths:   []string{"web/Chart.yaml", "web/crds/ok.yaml"},
			objects: []string{"named"},
			errs:    [][]string{{"DIR/web/Chart.yaml: a Helm chart's Chart.yaml, not a manifest: scan what it renders (helm template DIR/web | soc2-operator scan -)"}},
		},
		"a chart's templates named as a path, a directory or a file in it, are refused with the command that renders the chart; its crds are read": {
			files: map[string]string{"web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "web/crds/ok.yaml": pod("crd-dir"),
				// Parses as YAML: read as a file, it was judged with its {{ }} as written.
				"web/templates/pod.yaml":    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{{ .Release.Name }}\"\n",
				"web/templates/sub/cm.yaml": pod("{{ .Values.name }}")},
			paths:   []string{"web/templates", "web/templates/sub/cm.yaml", "web/templates/sub/../../crds"},
			objects: []string{"crd-dir"},
			errs: [][]string{
				{"DIR/web/templates: a Helm chart's templates, not manifests (the chart is DIR/web): its templates are judged only as rendered: scan what it renders (helm template DIR/web | soc2-operator scan -)"},
				{"DIR/web/templates/sub/cm.yaml: a Helm chart's template, not a manifest (the chart is DIR/web)", "(helm template DIR/web | soc2-operator scan -)"},
			},
		},
		"a templates directory beside no Chart.yaml is read as manifests": {
			files:   map[string]string{"templates/pod.yaml": pod("plain"), "other/Chart.yaml": "apiVersion: v2\nname: other\nversion: 0.1.0\n"},
			paths:   []string{"templates"},
			objects: []string{"plain"},
		},
		"a directory with a chart.yaml of another case is no Helm chart (Helm reads Chart.yaml only)": {
			files:   map[string]string{"chart.yaml": pod("lower-case")},
			objects: []string{"lower-case"},
		},
		"a Jsonnet program, which Argo CD evaluates and deploys, is an error with the command that renders it; a library is skipped": {
			files:   map[string]string{"app.yaml": pod("app"), "gen/pod.jsonnet": podJSON("from-jsonnet"), "gen/lib.libsonnet": "{}\n"},
			errs:    [][]string{{"DIR/gen/pod.jsonnet: a Jsonnet program, not manifests: Argo CD evaluates it and deploys what it returns; scan that (jsonnet DIR/gen/pod.jsonnet | soc2-operator scan -)"}},
			objects: []string{"app"},
		},
		"a directory of Jsonnet programs only is that error alone, and one named as a path is refused": {
			files: map[string]string{"gen/pod.jsonnet": podJSON("from-jsonnet"), "ok.yaml": pod("ok")},
			paths: []string{"gen", "gen/pod.jsonnet", "ok.yaml"},
			errs: [][]string{
				{"DIR/gen/pod.jsonnet: a Jsonnet program, not manifests"},
				{"DIR/gen/pod.jsonnet: a Jsonnet program, not manifests"},
			},
			objects: []string{"ok"},
		},
		"a path that does not exist is named, and the other paths are read": {
			files:   map[string]string{"ok.yaml": pod("ok")},
			paths:   []string{"missing.yaml", "ok.yaml"},
			objects: []string{"ok"},
			errs:    [][]string{{"DIR/missing.yaml: stat: no such file or directory"}},
		},
		"standard input is read for -, in its place among the paths": {
			files:   map[string]string{"a.yaml": pod("a"), "z.yaml": pod("z")},
			paths:   []string{"z.yaml", "-", "a.yaml"},
			stdin:   pod("stdin") + "---\nkind: Pod\n",
			objects: []string{"z", "stdin", "a"},
			errs:    [][]string{{"<stdin>: document 2 (line 6): Pod: apiVersion is missing"}},
		},
		"unreadable files and directories are named, and the rest is read": {
			files: map[string]string{"secret.yaml": pod("unreadable"), "private/p.yaml": pod("hidden"), "ok.yaml": pod("readable")},
			setup: func(t *testing.T, dir string) {
				if os.Geteuid() == 0 {
					t.Skip("root reads every file whatever its permissions")
				}
				chmod(t, filepath.Join(dir, "secret.yaml"), 0o000)
				chmod(t, filepath.Join(dir, "private"), 0o000)
			},
			objects: []string{"readable"},
			errs:    [][]string{{"DIR/private: open: permission denied"}, {"DIR/secret.yaml: open: permission denied"}},
		},
		"a symlink loop is named, and a directory link to its parent is not followed": {
			files: map[string]string{"ok.yaml": pod("readable")},
			setup: func(t *testing.T, dir string) {
				for _, l := range [][2]string{{"loop-b.yaml", "loop-a.yaml"}, {"loop-a.yaml", "loop-b.yaml"}, {"..", "parent"}} {
					if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
						t.Fatal(err)
					}
				}
			},
			objects: []string{"readable"},
			errs: [][]string{
				{"DIR/loop-a.yaml: stat: too many levels of symbolic links"},
				{"DIR/loop-b.yaml: stat: too many levels of symbolic links"},
			},
		},
		"a directory named through a symbolic link is walked; links below it are not followed": {
			files: map[string]string{"real/a.yaml": pod("a"), "real/sub/b.yaml": pod("b"), "other/c.yaml": pod("c")},
			setup: func(t *testing.T, dir string) {
				for _, l := range [][2]string{{"real", "link"}, {"../other", "real/other-link"}} {
					if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
						t.Fatal(err)
					}
				}
			},
			paths:   []string{"link"},
			objects: []string{"a", "b"},
		},
		"a named pipe and a device in a directory are named and not read, so the walk cannot hang": {
			files: map[string]string{"ok.yaml": pod("readable")},
			setup: func(t *testing.T, dir string) {
				if out, err := exec.Command("mkfifo", filepath.Join(dir, "pipe.yaml")).CombinedOutput(); err != nil {
					t.Skipf("mkfifo: %v: %s", err, out)
				}
				if err := os.Symlink(os.DevNull, filepath.Join(dir, "null.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			objects: []string{"readable"},
			errs: [][]string{
				{"DIR/null.yaml: not read: a device, not a regular file"},
				{"DIR/pipe.yaml: not read: a named pipe, not a regular file"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, content := range tc.files {
				writeFile(t, filepath.Join(dir, file), content)
			}
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			paths := []string{dir}
			if tc.paths != nil {
				paths = nil
				for _, p := range tc.paths {
					if p != "-" {
						p = filepath.Join(dir, p)
					}
					paths = append(paths, p)
				}
			}
			objs, errs := Load(paths, strings.NewReader(tc.stdin))
			var got []string
			for _, o := range objs {
				got = append(got, o.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.objects) {
				t.Errorf("objects %v, want %v", got, tc.objects)
			}
			if len(errs) != len(tc.errs) {
				t.Errorf("%d errors, want %d: %v", len(errs), len(tc.errs), errs)
			}
			for i, err := range errs {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Errorf("error %d is not a DecodeError: %#v", i, err)
				}
				if i < len(tc.errs) {
					want := make([]string, len(tc.errs[i]))
					for j, p := range tc.errs[i] {
						want[j] = strings.ReplaceAll(p, "DIR", dir)
					}
					if !holdsAll(err.Error(), want) {
						t.Errorf("error %d:\n  %.300s\nwant it to hold %q", i, err, want)
					}
				}
			}
			// Scan notes a document that is no object instead of failing on it: the error must
			// be ErrNotAnObject exactly when it says so, and no other error may be.
			for _, err := range errs {
				if says := strings.Contains(err.Error(), "(neither apiVersion nor kind)"); errors.Is(err, ErrNotAnObject) != says {
					t.Errorf("errors.Is(%v, ErrNotAnObject) = %v", err, !says)
				}
			}
			if strings.Contains(fmt.Sprint(tc.errs), "no manifest files") {
				for _, err := range errs {
					if !errors.Is(err, ErrNoManifests) {
						t.Errorf("%v does not wrap ErrNoManifests", err)
					}
				}
			}
		})
	}
}

// TestChartTemplatesAreNamedAsTheUserNamedThem: from inside a chart, the error names the chart as
// a path relative to the working directory, so the command it gives runs where the user is.
func TestChartTemplatesAreNamedAsTheUserNamedThem(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "charts/web/Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n")
	writeFile(t, filepath.Join(dir, "charts/web/templates/pod.yaml"), pod("{{ .Release.Name }}"))
	for _, tc := range []struct{ wd, path, chart string }{
		{".", "charts/web/templates", "charts/web"},
		{"charts/web/templates", ".", ".."},
		{"charts/web/templates/", "pod.yaml", ".."},
		{"charts", "web/templates/", "web"},
	} {
		t.Run(tc.wd+" "+tc.path, func(t *testing.T) {
			t.Chdir(filepath.Join(dir, tc.wd))
			objs, errs := Load([]string{tc.path}, strings.NewReader(""))
			if len(objs) != 0 || len(errs) != 1 {
				t.Fatalf("%d objects and errors %v, want only the chart's error", len(objs), errs)
			}
			if want := "(the chart is " + tc.chart + "): its templates are judged only as rendered: scan what it renders (helm template " + tc.chart + " | soc2-operator scan -)"; !strings.Contains(errs[0].Error(), want) {
				t.Errorf("%v\nwant it to hold %q", errs[0], want)
			}
		})
	}
}

// TestObjectsDoNotShareReusedBuffers: a decoding worker reads every file into one buffer and the
// block reader writes every document's JSON into another (buffers), so nothing decoded may keep
// their bytes. Two files of the same length are decoded one after the other with the same
// buffers; the first file's objects must still be what the file says once the second has
// overwritten them.
func TestObjectsDoNotShareReusedBuffers(t *testing.T) {
	const tmpl = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-NAME
  namespace: ns-NAME
  labels: {app: NAME, "quoted-NAME": "v-NAME"}
  annotations:
    note: |
      folded NAME
data:
  key-NAME: value-NAME
  'single-NAME': "double-NAME"
---
apiVersion: example.com/v1
kind: NAMEWidget
metadata:
  name: widget-NAME
spec:
  size: NAME
  list: [NAME, {k: NAME}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-NAME}
spec:
  template:
    spec:
      containers:
      - name: c-NAME
        image: registry/NAME:1
        env: [{name: E_NAME, value: NAME}]
---
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc-NAME"}, "spec": {"selector": {"app": "NAME"}}}
`
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.yaml"), filepath.Join(dir, "second.yaml")
	writeFile(t, first, strings.ReplaceAll(tmpl, "NAME", "alpha"))
	writeFile(t, second, strings.ReplaceAll(tmpl, "NAME", "omega"))
	opts := Options{MetadataOnly: func(kind string) bool { return kind == "alphaWidget" }}

	var bufs buffers
	data, err := bufs.file.Read(first)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := decodeWith(first, data, opts, &bufs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if data, err = bufs.file.Read(second); err != nil {
		t.Fatal(err)
	}
	if _, errs := decodeWith(second, data, opts, &bufs); len(errs) > 0 {
		t.Fatal(errs)
	}

	content, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	want, errs := DecodeWith(first, content, opts)
	if len(errs) > 0 || len(got) != len(want) || len(got) != 4 {
		t.Fatalf("got %d objects, want %d (errors %v)", len(got), len(want), errs)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.APIVersion != w.APIVersion || g.Name != w.Name || g.Namespace != w.Namespace || !reflect.DeepEqual(g.Obj, w.Obj) {
			t.Errorf("object %d after the buffers were reused:\n got %s %s %s/%s %+v\nwant %s %s %s/%s %+v", i,
				g.APIVersion, g.Kind, g.Namespace, g.Name, g.Obj, w.APIVersion, w.Kind, w.Namespace, w.Name, w.Obj)
		}
	}
}

// TestFileReaderReadsWhatOSReadFileReads: the reused buffer gives each file's content, a
// smaller file after a larger one and a file larger than the buffer alike, and the errors
// os.ReadFile gives.
func TestFileReaderReadsWhatOSReadFileReads(t *testing.T) {
	dir := t.TempDir()
	sizes := []int{2000, 10, 0, 700, 100000, 511, 512, 513}
	var r FileReader
	for i, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("f%d", i))
		content := strings.Repeat(string(rune('a'+i)), n)
		writeFile(t, path, content)
		got, err := r.Read(path)
		if err != nil || string(got) != content {
			t.Errorf("file of %d bytes: got %d bytes (%.10q...), error %v", n, len(got), got, err)
		}
	}
	for name, path := range map[string]string{"missing": filepath.Join(dir, "missing"), "directory": dir} {
		_, err := r.Read(path)
		_, want := os.ReadFile(path)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: got error %v, want %v", name, err, want)
		}
	}
}

// countingReader serves content in reads of at most chunk bytes, counting them and noting a
// read asked for after the content is all served (the read that returns EOF).
type countingReader struct {
	content []byte
	chunk   int
	reads   int
	readEOF bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if len(c.content) == 0 {
		c.readEOF = true
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.content)
	c.content = c.content[n:]
	return n, nil
}

// TestFileReaderStopsAtTheSizeItWasOpenedWith: a file read in full in the size fstat gave is
// not read again for its EOF; one that is larger than that (it grew after it was opened), or
// whose size was not known, is read to its EOF.
func TestFileReaderStopsAtTheSizeItWasOpenedWith(t *testing.T) {
	for _, c := range []struct {
		name    string
		content int
		size    int // as fstat gave it when the file was opened
		chunk   int
		wantEOF bool // whether it reads to EOF
	}{
		{"read whole", 3000, 3000, 1 << 20, false},
		{"short reads", 3000, 3000, 1000, false},
		{"grown since it was opened", 5000, 3000, 1 << 20, true},
		{"size not known", 3000, 0, 1 << 20, true},
		{"empty", 0, 0, 1 << 20, true},
	} {
		content := []byte(strings.Repeat("x", c.content))
		f := &countingReader{content: content, chunk: c.chunk}
		var r FileReader
		got, err := r.readFrom(f, c.size)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: got %d bytes, error %v; want all %d", c.name, len(got), err, c.content)
		}
		if f.readEOF != c.wantEOF {
			t.Errorf("%s: read to EOF %v, want %v (%d reads)", c.name, f.readEOF, c.wantEOF, f.reads)
		}
	}
}

// TestFileReaderReadsAFileInOneRead: Read gives readFrom the size fstat found, so a file is
// read with one read system call, not two (counted in /proc/self/io, Linux only).
func TestFileReaderReadsAFileInOneRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.yaml")
	content := strings.Repeat("apiVersion: v1\n", 200)
	writeFile(t, path, content)
	var r FileReader
	// Reading /proc/self/io counts too: as much between two readings with nothing in between.
	own := -readSyscalls(t)
	own += readSyscalls(t)
	before := readSyscalls(t)
	got, err := r.Read(path)
	reads := readSyscalls(t) - before - own
	if err != nil || string(got) != content {
		t.Fatalf("got %d bytes, error %v; want the file's %d", len(got), err, len(content))
	}
	if reads != 1 {
		t.Errorf("%d read system calls for a file of %d bytes, want 1", reads, len(content))
	}
}

// readSyscalls is the number of read system calls this process has made (syscr).
func readSyscalls(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscr in /proc/self/io")
	return 0
}

// TestDecodingRunsAheadOfEmit: while emit is busy with the first file, the files after it are
// still walked and decoded, as far as the read-ahead window: with a window of 4 files per
// worker the workers ran dry whenever a scan stopped to judge a batch of objects. Each
// directory holds a manifest and a kustomization, which the walk reports once it has handed
// the manifest over.
func TestDecodingRunsAheadOfEmit(t *testing.T) {
	dir := t.TempDir()
	workers := runtime.GOMAXPROCS(0)
	want := min(32*workers, maxReadAhead/2) // directories walked while emit holds the first file
	dirs := min(readAhead*workers, maxReadAhead) + 100
	for i := range dirs {
		d := filepath.Join(dir, fmt.Sprintf("d%04d", i))
		writeFile(t, filepath.Join(d, "a.yaml"), fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\n", i))
		writeFile(t, filepath.Join(d, "kustomization.yaml"), "resources: [a.yaml]\n")
	}
	var walked atomic.Int64
	ahead := make(chan struct{})
	opts := Options{Kustomization: func(string) {
		if walked.Add(1) == int64(want) {
			close(ahead)
		}
	}}
	var names []string
	LoadEachWith([]string{dir}, nil, opts, func(objs []*engine.Object, errs []error) {
		if len(names) == 0 {
			select {
			case <-ahead:
			case <-time.After(time.Minute): // only a failure's bound: passing never waits for it
				t.Fatalf("while emit held the first file, the walk stopped %d directories ahead; want at least %d", walked.Load(), want)
			}
		}
		for _, e := range errs {
			t.Error(e)
		}
		for _, o := range objs {
			names = append(names, o.Name)
		}
	})
	if len(names) != dirs || names[0] != "c0" || names[dirs-1] != fmt.Sprintf("c%d", dirs-1) {
		t.Errorf("emitted %d objects (%v ... ), want c0 to c%d in order", len(names), names[:min(3, len(names))], dirs-1)
	}
}

// A stream (standard input, a file of streamBytes or more, named or in a directory, or a pipe
// named by itself) is handed to the workers in parts of whole documents (readStream,
// decodeInParts): over more than one part, and it reads as the whole stream decoded at once
// reads: the same objects and errors in the same order, each at its document's index and line
// in the stream.
func TestAStreamIsReadInPartsAsAWhole(t *testing.T) {
	var stream bytes.Buffer
	files := 0
	err := filepath.WalkDir("../../../shared/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsManifestFile(d.Name()) || stream.Len() > 3*streamBytes {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if files++; files == 40 {
			stream.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: [broken\n")
		}
		stream.WriteString("---\n")
		stream.Write(data)
		stream.WriteString("\n")
		return nil
	})
	if err != nil || stream.Len() < 2*streamBytes {
		t.Skipf("the corpus is not there or too small (%d bytes): %v", stream.Len(), err)
	}
	data := stream.Bytes()
	named := filepath.Join(t.TempDir(), "rendered.yaml")
	if err := os.WriteFile(named, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// In a directory, the file is one input whose documents are decoded and handed over in
	// parts too (decodeInParts), between the small files before and after it.
	dir := filepath.Dir(named)
	writeFile(t, filepath.Join(dir, "a.yaml"), pod("before"))
	writeFile(t, filepath.Join(dir, "z.yaml"), pod("after"))
	// A pipe named by itself (scan -f <(helm template ...)) is read as a stream too.
	cases := []struct{ name, path string }{{StdinName, "-"}, {named, named}, {named, dir}}
	pipe := filepath.Join(t.TempDir(), "rendered.yaml")
	if err := mkfifo(pipe); err == nil {
		cases = append(cases, struct{ name, path string }{pipe, pipe})
	} else if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			if tc.path == pipe {
				go func() {
					f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
					if err != nil {
						panic(err)
					}
					defer f.Close()
					_, _ = f.Write(data)
				}()
			}
			wantObjs, wantErrs := Decode(tc.name, data)
			if len(wantErrs) == 0 || len(wantObjs) < 500 {
				t.Fatalf("%d objects and %d errors: the stream does not exercise the parts", len(wantObjs), len(wantErrs))
			}
			if tc.path == dir {
				before, _ := Decode(filepath.Join(dir, "a.yaml"), []byte(pod("before")))
				after, _ := Decode(filepath.Join(dir, "z.yaml"), []byte(pod("after")))
				wantObjs = slices.Concat(before, wantObjs, after)
			}
			var objs []*engine.Object
			var errs []error
			parts := 0
			LoadEach([]string{tc.path}, bytes.NewReader(data), func(got []*engine.Object, gotErrs []error) {
				parts++
				objs = append(objs, got...)
				errs = append(errs, gotErrs...)
			})
			if parts < 8 {
				t.Errorf("handed over in %d parts, want 8 or more", parts)
			}
			if got, want := describeObjects(objs, errs), describeObjects(wantObjs, wantErrs); !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("item %d of %d: %s, want %s", i, len(want), got[i], want[i])
					}
				}
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
		})
	}
}

// streamDocuments is what readStream adds of data, read streamChunk bytes at a time, as the
// documents of its inputs in order, with the error it returned.
func streamDocuments(t *testing.T, r io.Reader) ([]document, error) {
	t.Helper()
	return sizedStreamDocuments(t, r, 0)
}

// sizedStreamDocuments is streamDocuments of a stream whose size is known (a regular file's:
// decodeInParts), or not (0).
func sizedStreamDocuments(t *testing.T, r io.Reader, size int) ([]document, error) {
	t.Helper()
	var docs []document
	err := readStream(StdinName, r, size, func(in input) {
		if len(in.docs) == 0 || in.err != nil || in.name != StdinName {
			t.Fatalf("readStream added %+v: want a part of the stream's documents", in)
		}
		docs = append(docs, in.docs...)
	})
	return docs, err
}

// describeDocuments says what decoding takes of each document: its body, index, line and error.
func describeDocuments(docs []document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, fmt.Sprintf("%d@%d %q %v", d.index, d.line, d.body, d.err))
	}
	return out
}

// streamCases are streams whose documents a reader of a chunk at a time could cut wrongly:
// separators and bad separators of every kind, blank and comment-only documents (which the
// numbering counts), CRLF, no newline at the end, JSON after blanks, UTF-16.
var streamCases = []string{
	"",
	"\n\n  \n",
	"---",
	"---\n",
	"--- # first\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}",
	"# only a comment\n---\n---\na: 1\n---\n# c\n...\n---\nb: 2\n",
	"a: 1\n--- {kind: Pod}\nb: 2\n---\nc: 3\n",
	"a: 1\n----\nb: 2\n---x\nc: 3\n",
	"a: |\n  ---\n  text\n---\nb: 1\n",
	"a: 1\r\n---\r\nb: 2\r\n---\r\n",
	"x: '---'\n--- \t\ny: 2\n---",
	"       \n\n   {\"kind\": \"Pod\"}\n{\"kind\": \"Service\"}\n[1, 2]\n",
	"\n\n{\"kind\": \"Pod\"}\n{broken",
	// JSON whose strings hold brackets, quotes and backslashes, and JSON broken in every place
	// the reader of JSON streams (readJSONStream) looks.
	"{\"a\": \"x\\\\\\\"}{\", \"b\": [1, {\"c\": \"]\"}]}\n{\"kind\": \"List\", \"items\": [{\"a\": 1}, {\"b\": \"\\\\\\\\\"}]}\n{}{}",
	"{\"a\": 1,}\n{\"b\": 2}",
	"{\"a\" 1}",
	"{\"items\": [1, 2}, \"kind\": \"List\"}",
	"{\"items\": [1 2]}",
	"{\"a\": tru, \"b\": -1.5e3}\n\n  {\"c\": null}\n",
	"{\"a\": 1}  garbage\n{\"b\": 2}",
	"{\"a\": 1}\n[1, {\"b\": 2}]\n{\"c\": 3}",
	"{\"a\": \"unterminated",
	// A first or second value that is no JSON, read on as YAML (splitJSON) or not.
	"{a: 1, kind: Pod}\n---\nb: 2\n",
	"{\"a\": 1}\n---\nb: 2\n---\nc: 3\n",
	"{\"a\": 1}\n  \n  {b: 1}\n",
	"{\"a\": 1}{b: 2}\n---\nc: 3",
	"{\"a\": 1}\n{\"b\": 2}\n---\nc: 3\n",
	"[1, 2]\n---\nb: 2\n",
	"{\"a\": 1}\n- b\n",
	"{\"a\": {\"b\": [",
	utf16LE("a: 1\n---\nb: 2\n"),
	"\xef\xbb\xbf{\"a\": 1}\n{\"b\": 2}\n",
	"\xef\xbb\xbf\xef\xbb\xbfa: 1\n---\nb: 2\n",
	"\xef\xbb\xbf",
	"\xef\xbb\xbf\xff\xfea: 1\n",
	utf16BE("a: 1\n---\nb: 2\n"),
	strings.Repeat("k: v\n", 300) + "---\n" + strings.Repeat("# c\n", 100) + "---\nz: 1",
}

// utf16BE is s in UTF-16, big-endian, after its byte-order mark (utf16LE: little-endian).
func utf16BE(s string) string {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

// Read a chunk at a time, a stream is cut into the same documents, at the same indices and
// lines and with the same errors, as when it is read whole (splitDocuments), wherever the
// chunks end: in a separator, in a blank document, in a document larger than a chunk.
func TestAStreamReadInChunksIsSplitAsWhenReadWhole(t *testing.T) {
	// Real manifests too, a few hundred KB of them, in chunks of 64 bytes and more (a chunk of
	// a byte copies the document read so far for each byte).
	var corpus bytes.Buffer
	_ = filepath.WalkDir("../../../shared/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsManifestFile(d.Name()) || corpus.Len() > 300<<10 || filepath.Ext(path) == ".json" {
			return err
		}
		data, err := os.ReadFile(path)
		corpus.WriteString("---\n")
		corpus.Write(data)
		return err
	})
	defer func(c int) { streamChunk = c }(streamChunk)
	for _, chunk := range []int{1, 2, 3, 5, 64, 1000, 1 << 20} {
		streamChunk = chunk
		cases := streamCases
		if chunk >= 64 {
			cases = append(slices.Clone(streamCases), corpus.String())
		}
		for i, data := range cases {
			want := describeDocuments(splitDocuments(utf8Text([]byte(data))))
			docs, err := streamDocuments(t, strings.NewReader(data))
			if err != nil {
				t.Fatalf("chunks of %d, stream %d: %v", chunk, i, err)
			}
			if got := describeDocuments(docs); !slices.Equal(got, want) {
				t.Errorf("chunks of %d, stream %d (%.40q): documents\n%q\nwant\n%q", chunk, i, data, got, want)
			}
			// A file's size is known (decodeInParts), and the file may have grown or shrunk
			// since it was taken.
			for _, size := range []int{len(data), len(data) - 7, len(data) + 7, 1} {
				docs, err := sizedStreamDocuments(t, strings.NewReader(data), max(size, 0))
				if err != nil {
					t.Fatalf("chunks of %d, stream %d of size %d: %v", chunk, i, size, err)
				}
				if got := describeDocuments(docs); !slices.Equal(got, want) {
					t.Errorf("chunks of %d, stream %d (%.40q) of size %d: documents\n%q\nwant\n%q", chunk, i, data, size, got, want)
				}
			}
		}
	}
}

// largeStream is about size bytes of YAML documents of 1-3 KB, as manifests are.
func largeStream(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%d\ndata:\n  key: %s\n---\n", i, strings.Repeat("v", 1000+i%2000))
	}
	return b.Bytes()
}

// A file read as a stream (decodeInParts: 1 MiB or more) that is smaller than the stream's
// buffer is read into memory of its own size, once: its documents are slices of it, never
// copies. Before, it was read into a buffer of two chunks (2 MiB) and every document copied
// out of it: argo-cd's core-install.yaml (1.9 MB) took 3.9 MB, its twelve copies in 20,000
// objects 47 MB.
func TestAFileOfLessThanTwoChunksIsReadIntoMemoryOfItsSize(t *testing.T) {
	data := largeStream(streamChunk + streamChunk/2)
	docs := make([]document, 0, len(data)/1000)
	add := func(in input) { docs = append(docs, in.docs...) }
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := readStream("big.yaml", bytes.NewReader(data), len(data), add); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	// The file's size, and the documents' headers (about 100 bytes each) in the lists that
	// gather them: 2.1 MB here, 4.4 MB before.
	if allocated := int(after.TotalAlloc - before.TotalAlloc); allocated > len(data)*3/2 {
		t.Errorf("reading %d bytes allocated %d bytes, want at most half as much again", len(data), allocated)
	}
	if want := describeDocuments(splitDocuments(data)); !slices.Equal(describeDocuments(docs), want) {
		t.Errorf("the documents differ from the file's read whole")
	}
}

// The documents of a stream are decoded on every core at once, so no document's memory may be
// another's: one written past its end (appended to) leaves the others as they were.
func TestAStreamsDocumentsShareNoMemory(t *testing.T) {
	data := largeStream(streamChunk + streamChunk/2)
	for _, size := range []int{0, len(data)} {
		docs, err := sizedStreamDocuments(t, bytes.NewReader(data), size)
		if err != nil {
			t.Fatal(err)
		}
		want := describeDocuments(docs)
		for i := range docs {
			_ = append(docs[i].body, "\n---\nXXXXXXXX"...)
		}
		if got := describeDocuments(docs); !slices.Equal(got, want) {
			t.Errorf("size %d: appending to a document changed another", size)
		}
	}
}

// blockingReader serves data, and at release bytes waits until released is closed before
// serving more (at most a minute: then it fails the read, so that a reader that waits for the
// end before handing anything over fails the test instead of hanging it).
type blockingReader struct {
	data     []byte
	at       int
	release  int
	released chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.at == r.release {
		select {
		case <-r.released:
		case <-time.After(time.Minute):
			return 0, errors.New("held for a minute: nothing was handed over before the end of the stream")
		}
	}
	if r.at >= len(r.data) {
		return 0, io.EOF
	}
	end := len(r.data)
	if r.at < r.release {
		end = r.release
	}
	n := copy(p, r.data[r.at:end])
	r.at += n
	return n, nil
}

// A stream is judged as it is read, not once it has all been read: standard input that has
// sent only part of its documents has those documents handed over already.
func TestAStreamIsHandedOverAsItIsRead(t *testing.T) {
	var stream bytes.Buffer
	for i := 0; stream.Len() < 3*streamChunk; i++ {
		fmt.Fprintf(&stream, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {k: %s}\n", i, strings.Repeat("v", 200))
	}
	r := &blockingReader{data: stream.Bytes(), release: 2 * streamChunk, released: make(chan struct{})}
	// The reader lets the rest go only once the first objects are handed over: waiting for the
	// end of the stream, a loader would hold it until its read fails.
	var objs int
	var errs []error
	LoadEach([]string{"-"}, r, func(got []*engine.Object, gotErrs []error) {
		if objs == 0 {
			close(r.released)
		}
		objs += len(got)
		errs = append(errs, gotErrs...)
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := bytes.Count(stream.Bytes(), []byte("kind: ConfigMap")); objs != want {
		t.Errorf("%d objects, want %d", objs, want)
	}
}

// failingReader serves data, then fails.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset by peer")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// A stream that fails part way keeps the documents it sent whole before failing, and the
// failure is an error of the stream: the document it cut off is not read as if it had ended.
func TestAStreamThatFailsKeepsWhatItSentWhole(t *testing.T) {
	var stream bytes.Buffer
	for i := 0; stream.Len() < 2*streamChunk+1000; i++ {
		fmt.Fprintf(&stream, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n", i)
	}
	sent := stream.Bytes()[:stream.Len()-20] // the last document cut off
	objs, errs := Load([]string{"-"}, &failingReader{data: sent})
	want := bytes.Count(sent, []byte("kind: ConfigMap")) - 1
	if len(objs) != want {
		t.Errorf("%d objects, want the %d documents sent whole", len(objs), want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), StdinName) || !strings.Contains(errs[0].Error(), "connection reset by peer") {
		t.Errorf("errors %v, want one error of %s saying the read failed", errs, StdinName)
	}
}

// A document over MaxDocumentBytes in a stream is an error with its size, as in a file read
// whole, whatever it holds and wherever the chunks end; the documents around it are read.
func TestAStreamsTooLargeDocumentsAreReportedAsWhenReadWhole(t *testing.T) {
	large := func(head, line string) string {
		return head + strings.Repeat(line, 2*MaxDocumentBytes/len(line)) // let go of in part, for all but the largest chunks
	}
	var stream strings.Builder
	stream.WriteString(pod("first"))
	stream.WriteString("---\n" + large("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: large}\ndata:\n", "  k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n"))
	stream.WriteString("---\n" + pod("second"))
	stream.WriteString("--- {kind: Pod}\n" + large("", "# a comment\n")) // a bad separator's error, not its size
	stream.WriteString("---\n" + large("", "# nothing but comments\n"))  // a blank document: skipped
	stream.WriteString("---\n" + large("", "\n") + "kind: Pod\n")        // blank lines, then a line
	stream.WriteString("---\n" + pod("third"))
	defer func(c int) { streamChunk = c }(streamChunk)
	for _, tc := range []struct {
		data         string
		objs, errors int
	}{
		{stream.String(), 3, 3},
		{large("", "a: b\n") + "---\n" + pod("after"), 1, 1}, // the first document: the next is the second
	} {
		data := []byte(tc.data)
		wantObjs, wantErrs := Decode(StdinName, data)
		want := describeObjects(wantObjs, wantErrs)
		if len(wantObjs) != tc.objs || len(wantErrs) != tc.errors {
			t.Fatalf("read whole: %q; want %d objects and %d errors", want, tc.objs, tc.errors)
		}
		for _, chunk := range []int{4096, 100_000, 1 << 20} {
			streamChunk = chunk
			objs, errs := Load([]string{"-"}, bytes.NewReader(data))
			if got := describeObjects(objs, errs); !slices.Equal(got, want) {
				t.Errorf("chunks of %d: %q\nwant %q", chunk, got, want)
			}
		}
	}
}

// describeObjects says where each object comes from, and each error.
func describeObjects(objs []*engine.Object, errs []error) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s %s/%s/%s %d@%d", o.Source.File, o.Kind, o.Namespace, o.Name, o.Source.Document, o.Source.Line))
	}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// endlessDocument is a reader of one document of size bytes that holds none of them.
type endlessDocument struct{ left int }

func (r *endlessDocument) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = "data: xxxxxxxxx\n"[i%16]
	}
	r.left -= n
	return n, nil
}

// A stream of one document far over MaxDocumentBytes (a mistake, or a hostile chart) is read in
// bounded memory: counted and let go, not held whole, and reported with its size.
func TestAStreamsMemoryIsBoundedWhateverItsDocuments(t *testing.T) {
	const size = 96 << 20
	sampled := newHeapSampler(&endlessDocument{left: size}, 8)
	docs, err := streamDocuments(t, sampled)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].body != nil || fmt.Sprint(docs[0].err) != tooLarge(size, MaxDocumentBytes).Error() {
		t.Fatalf("%d documents, the first of %d bytes with error %v; want one, with error %q", len(docs), len(docs[0].body), docs[0].err, tooLarge(size, MaxDocumentBytes))
	}
	if sampled.reads < 16 || sampled.peak > 24<<20 {
		t.Errorf("%d reads, %d MiB more live heap at most while reading a %d MiB document; want it bounded (24 MiB at most)", sampled.reads, sampled.peak>>20, size>>20)
	}
}

// heapSampler reads from r, and at every every'th read collects and notes how much the live
// heap has grown since it was made (peak, the most).
type heapSampler struct {
	r          io.Reader
	every      int
	reads      int
	base, peak uint64
}

func newHeapSampler(r io.Reader, every int) *heapSampler {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapSampler{r: r, every: every, base: m.HeapAlloc}
}

func (s *heapSampler) Read(p []byte) (int, error) {
	if s.reads++; s.reads%s.every == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.peak = max(s.peak, m.HeapAlloc-min(s.base, m.HeapAlloc))
	}
	return s.r.Read(p)
}

// A List over MaxDocumentBytes (kubectl get -o yaml or -o json of many objects) is read, up to
// MaxListBytes, from a file, a directory or standard input; an item over MaxDocumentBytes is an
// error of its own, and no other document may be over MaxDocumentBytes for having an items key.
func TestLargeListsAreRead(t *testing.T) {
	const n = 4000
	var yamlList strings.Builder
	yamlList.WriteString("apiVersion: v1\nitems:\n")
	items := make([]any, 0, n+1)
	for i := range n {
		fmt.Fprintf(&yamlList, "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c%d\n    namespace: shop\n  data:\n    k: %s\n", i, strings.Repeat("v", 1000))
		items = append(items, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprintf("c%d", i), "namespace": "shop"}, "data": map[string]any{"k": strings.Repeat("v", 1000)}})
	}
	fmt.Fprintf(&yamlList, "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: huge, namespace: shop}\n  data:\n    k: %s\n", strings.Repeat("v", MaxDocumentBytes))
	yamlList.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	items = append(items, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "huge", "namespace": "shop"}, "data": map[string]any{"k": strings.Repeat("v", MaxDocumentBytes)}})
	jsonList, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	notList := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nitems:\n" + strings.Repeat("- x\n", MaxDocumentBytes/4)
	lateList := "apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n    a: " + strings.Repeat("v", 2*MaxDocumentBytes) + "\nitems:\n- " + podJSON("late") + "\n"
	dir := t.TempDir()
	for _, tc := range []struct {
		name, data string
		objs       int
		err        string
	}{
		// Read item by item (yamlList), the item's error is on its own line: 7 lines an item.
		{"list.yaml", yamlList.String() + "---\n" + pod("after"), n + 1, fmt.Sprintf("document 1 (line %d): items[%d]: %d bytes as YAML; the limit is %d", 3+7*n, n, len("- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: huge, namespace: shop}\n  data:\n    k: \n")+MaxDocumentBytes, MaxDocumentBytes)},
		{"list.json", string(jsonList), n, fmt.Sprintf("document 1 (line 1): items[%d]: ", n)},
		{"widget.yaml", notList + "---\n" + pod("after"), 1, fmt.Sprintf("document 1 (line 1): document is %d bytes; the limit is %d", len(notList), MaxDocumentBytes)},
		// Read as a stream (as every file of 1 MiB or more is), a document is known for a List
		// by its first MiBs: one whose items key comes after them is held to MaxDocumentBytes,
		// and its error says so.
		{"late.yaml", lateList + "---\n" + pod("after"), 1, fmt.Sprintf("document 1 (line 1): document is %d bytes; the limit is %d", len(lateList), MaxDocumentBytes)},
	} {
		path := filepath.Join(dir, tc.name)
		writeFile(t, path, tc.data)
		if len(tc.data) <= MaxDocumentBytes {
			t.Fatalf("%s: %d bytes, not over MaxDocumentBytes", tc.name, len(tc.data))
		}
		for _, p := range []string{path, "-"} {
			objs, errs := Load([]string{p}, strings.NewReader(tc.data))
			if len(objs) != tc.objs || len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
				t.Errorf("%s read from %s: %d objects, errors %.300v; want %d objects and an error with %q", tc.name, p, len(objs), errs, tc.objs, tc.err)
			}
		}
	}
}

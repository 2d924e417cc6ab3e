package manifest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// slowJSON is the YAML-to-JSON conversion fastJSON stands in for: sigs.k8s.io/yaml (yaml.v2).
func slowJSON(body []byte) ([]byte, error) {
	js, err := yaml.YAMLToJSONStrict(body)
	if err != nil && strings.Contains(string(body), "<<") {
		js, err = yaml.YAMLToJSON(body)
	}
	return js, err
}

// slowValue is slowJSON's JSON for body and the value it holds. Both fast paths' tests compare
// with it over the same corpus: the answers for the first maxSlowValues documents are kept
// (read-only), so that sigs.k8s.io/yaml reads each document once per test binary.
func slowValue(body []byte) (js []byte, v any, err error) {
	slowValues.Lock()
	r, ok := slowValues.m[string(body)]
	slowValues.Unlock()
	if ok {
		return r.js, r.v, r.err
	}
	if r.js, r.err = slowJSON(body); r.err == nil {
		if err := json.Unmarshal(r.js, &r.v); err != nil {
			return nil, nil, fmt.Errorf("sigs.k8s.io/yaml wrote invalid JSON: %w", err)
		}
	}
	slowValues.Lock()
	if len(slowValues.m) < maxSlowValues {
		slowValues.m[string(body)] = r
	}
	slowValues.Unlock()
	return r.js, r.v, r.err
}

// maxSlowValues bounds slowValues (a fuzzing run sees ever new documents).
const maxSlowValues = 10000

var slowValues = struct {
	sync.Mutex
	m map[string]slowResult
}{m: map[string]slowResult{}}

type slowResult struct {
	js  []byte
	v   any
	err error
}

// sameAsSlow fails when fastJSON decides a document and decides it otherwise than the slow
// path: a document the slow path refuses, or a different value.
func sameAsSlow(t *testing.T, name string, body []byte) (fast bool) {
	t.Helper()
	if checkAliases(body) != nil {
		return false
	}
	got, tm, ok := fastJSON(body)
	if !ok {
		return false
	}
	sameValueAsYAMLv2(t, name, "fastJSON", body, got, tm)
	return true
}

// sameValueAsYAMLv2 fails when the JSON a fast path (who) wrote for body is not the value
// sigs.k8s.io/yaml reads from it, when sigs.k8s.io/yaml refuses body, or when the type tm the
// fast path read is not the one the JSON holds. Both fast paths are held to it. It returns the
// value of got, and false when got is no value to compare further.
func sameValueAsYAMLv2(t *testing.T, name, who string, body, got []byte, tm *typeMeta) (any, bool) {
	t.Helper()
	if tm != nil {
		var want typeMeta
		if err := json.Unmarshal(got, &want); err != nil || want.APIVersion != tm.APIVersion || want.Kind != tm.Kind || want.Items != nil {
			t.Errorf("%s: %s read apiVersion %q and kind %q; the JSON holds %+v (%v)", name, who, tm.APIVersion, tm.Kind, want, err)
		}
	}
	want, w, err := slowValue(body)
	if err != nil {
		t.Errorf("%s: %s accepts what sigs.k8s.io/yaml refuses (%v):\n%s", name, who, err, body)
		return nil, false
	}
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %s wrote invalid JSON: %v\n%s", name, who, err, got)
		return nil, false
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: %s and sigs.k8s.io/yaml differ:\n%s: %s\nslow: %s\nyaml:\n%s", name, who, who, got, want, body)
	}
	return g, true
}

// addManifestSeeds adds the scan's test manifests to a fuzz target's corpus.
func addManifestSeeds(f *testing.F) {
	files, _ := filepath.Glob("../scan/testdata/manifests/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
}

// TestFastJSONMatchesYAMLv2 holds the fast path to the slow one on every document of the shared
// corpus and of the repository's YAML test data (the check fixtures, the Pod Security Standards
// fixtures, bad inputs), and on scalars whose meaning differs between YAML 1.1 and 1.2.
func TestFastJSONMatchesYAMLv2(t *testing.T) {
	scalars := []string{"yes", "No", "on", "OFF", "y", "n", "true", "~", "null", "", "0777", "0o17", "0x1F", "0b101", "-0b11", "1_000",
		"+1", "-1", "1.0", "1e3", ".5", "-.5", "+.5", "1.", ".inf", "-.Inf", ".nan", "9223372036854775808", "18446744073709551616",
		"2026-01-01", "2026-01-01T00:00:00Z", "12:30", "1:2:3", "0", "-0", "00", "08", "0.1.2", "1e", "e3", "<<", "=", "'quoted'",
		"\"1\"", "1Gi", "500m", "0.5", "100Mi", "v1", "*", "null0", "Yes!", "nullable", "~x",
		// Numbers and near-numbers (numeral decides which are tried as numbers).
		"1.27.0", "10.0.0.0/8", "0bz", "-0bq", "0b1_0", "1_000_x", "0x1G", "0x1f", "0XAB", "1e3x", "+1.5", "-1.5e-3", "0o17z", "1-2",
		"2001:db8::1", "0x", "0o", "-", "+", ".", "1E3", "0xCAFE_F00D", "1.5E+2", "1e+", "0.0.0.0", "08.5", "-0x1F", "+0o7"}
	fast := 0
	for _, s := range scalars {
		for _, doc := range []string{"v: " + s + "\n", "l: [" + s + "]\n", s + ": v\n"} {
			if sameAsSlow(t, doc, []byte(doc)) {
				fast++
			}
		}
	}
	docs := 0
	eachYAMLDocument([]string{"../../../shared/corpus", "..", "../../config"}, func(path string, body []byte) {
		docs++
		if sameAsSlow(t, path, body) {
			fast++
		}
	})
	t.Logf("%d documents, %d decided by the fast path", docs, fast)
	if docs < 1000 || fast < docs/2 {
		t.Errorf("the fast path decided %d of %d documents: the test did not exercise it", fast, docs)
	}
}

// eachYAMLDocument calls fn with every YAML (not JSON) document of the manifest files under
// roots, in walk order; unreadable files and documents that do not split are skipped.
func eachYAMLDocument(roots []string, fn func(path string, body []byte)) {
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !IsManifestFile(d.Name()) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, doc := range splitDocuments(utf8Text(data)) {
				if doc.err == nil && !isJSONDocument(doc.body) {
					fn(path, doc.body)
				}
			}
			return nil
		})
	}
}

func isJSONDocument(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// FuzzFastJSON: whatever the input, fastJSON never decides a document otherwise than
// sigs.k8s.io/yaml.
func FuzzFastJSON(f *testing.F) {
	for _, seed := range []string{"a: yes\nb: [0777, 1_000, .5, 1e3]\n", "a: 1\na: 2\n", "<<: {a: 1}\n", "? [a]\n: b\n",
		"a: !!str 1\n", "a: &x 1\nb: *x\n", "a: \"\\u00e9\\t\"\n", "a: |\n  x\n  y\n", "{a: 1, b: {c: [d, e]}}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsSlow(t, "fuzz", data)
	})
}

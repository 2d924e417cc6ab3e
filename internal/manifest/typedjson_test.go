package manifest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// jsonDocument is a document as decodeTyped receives it.
type jsonDocument struct {
	source string
	js     []byte
	newObj func() engine.KubeObject
}

// jsonDocuments are the documents under roots turned into JSON as Decode does: those of kinds
// with a Go type (newObj makes one) when ofTypedKinds, else those decodeTyped reads as
// unstructured objects (newObj nil).
func jsonDocuments(roots []string, ofTypedKinds bool) []jsonDocument {
	var out []jsonDocument
	eachYAMLDocument(roots, func(path string, body []byte) {
		js, tm, err := toJSON(body, Options{})
		if err != nil || tm == nil {
			return
		}
		if newObj := typedFor(tm.APIVersion, tm.Kind); (newObj != nil) == ofTypedKinds {
			out = append(out, jsonDocument{path, append([]byte(nil), js...), newObj})
		}
	})
	return out
}

// decodingRoots are the shared corpus and this repository's manifests and fixtures, which the
// fast decoders must decode as sigs.k8s.io/json does.
var decodingRoots = []string{"../../../shared/corpus", "../checks/testdata", "../scan/testdata", "../paritytest/testdata", "../../config"}

// agree fails t unless unmarshalTyped gives what sigs.k8s.io/json alone gives: the same error or
// none, and an equal object. It says whether the fast decoder decided the document itself.
func agree(t *testing.T, name string, js []byte, newObj func() engine.KubeObject) (fast bool) {
	t.Helper()
	want := newObj()
	wantErr := unmarshal(js, want)
	got, gotErr := unmarshalTyped(js, newObj)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Errorf("%s: error %v, sigs.k8s.io/json's is %v", name, gotErr, wantErr)
		return false
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded\n%+v\nsigs.k8s.io/json decodes\n%+v", name, got, want)
	}
	return jsonv2.Unmarshal(js, newObj(), fastTyped) == nil
}

// TestFastTypedDecodingAgrees holds that the fast decoder of typed kinds changes no object:
// every typed document of the shared corpus and of this repository's manifests and fixtures,
// and documents written to find where go-json-experiment and sigs.k8s.io/json part (a field's
// name in another case, a name written twice, bytes that are not UTF-8, numbers an integer field
// cannot hold, nulls), decode to what sigs.k8s.io/json alone decodes.
func TestFastTypedDecodingAgrees(t *testing.T) {
	docs := jsonDocuments(decodingRoots, true)
	if len(docs) < 1000 {
		t.Fatalf("only %d typed documents found; is ../shared/corpus there?", len(docs))
	}
	fast := 0
	for _, d := range docs {
		if agree(t, d.source, d.js, d.newObj) {
			fast++
		}
	}
	// The fast decoder must decide nearly all of them, or it is no faster.
	if fast < len(docs)*99/100 {
		t.Errorf("the fast decoder decided %d of %d documents; sigs.k8s.io/json the rest", fast, len(docs))
	}
	t.Logf("%d typed documents, %d decided by the fast decoder", len(docs), fast)

	pod := func(container string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":null},"spec":{"containers":[{"name":"c",` + container + `}]}}`
	}
	newPod, newDeployment, newConfigMap := typed["/Pod"], typed["apps/Deployment"], typed["/ConfigMap"]
	cases := []struct {
		name   string
		js     string
		newObj func() engine.KubeObject
		fast   bool // whether go-json-experiment may decide it (false: it must leave it)
	}{
		{"a field's name in another case is no field", pod(`"securityContext":{"Privileged":true}`), newPod, true},
		{"a name written twice: the last one", pod(`"securityContext":{"privileged":true,"privileged":false}`), newPod, false},
		{"a name written twice in another case", pod(`"securityContext":{"privileged":false,"Privileged":true}`), newPod, true},
		{"an escaped name is the name", pod(`"securityContext":{"priv\u0069leged":true}`), newPod, true},
		{"bytes that are not UTF-8", pod(`"image":"nginx` + "\xff" + `"`), newPod, false},
		{"a lone surrogate", pod(`"image":"nginx\ud800"`), newPod, false},
		{"null for a struct", pod(`"securityContext":null`), newPod, true},
		{"null for a bool", pod(`"securityContext":{"privileged":null}`), newPod, true},
		{"null for a quantity", pod(`"resources":{"limits":{"cpu":null}}`), newPod, true},
		{"a number for a quantity", pod(`"resources":{"limits":{"cpu":0.5,"memory":1024}}`), newPod, true},
		{"a bad quantity", pod(`"resources":{"limits":{"cpu":"lots"}}`), newPod, false},
		{"a string for a bool", pod(`"securityContext":{"privileged":"true"}`), newPod, false},
		{"a name for a port", pod(`"livenessProbe":{"httpGet":{"port":"http"}}`), newPod, true},
		{"an unknown field", pod(`"securityContext":{"privileged":true,"superuser":true}`), newPod, true},
		{"a fraction for an integer", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1.5}}`, newDeployment, false},
		{"an integer written as a fraction", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1.0}}`, newDeployment, false},
		{"an exponent for an integer", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1e2}}`, newDeployment, false},
		{"minus zero", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":-0}}`, newDeployment, true},
		{"an integer too big for int32", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":4294967296}}`, newDeployment, false},
		{"a string for an integer", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":"3"}}`, newDeployment, false},
		{"base64 with a line break", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"binaryData":{"k":"aGVs\nbG8="}}`, newConfigMap, false},
		{"base64", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"binaryData":{"k":"aGVsbG8="}}`, newConfigMap, true},
		{"base64 without padding", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"binaryData":{"k":"aGVsbG8"}}`, newConfigMap, false},
		{"base64 of the URL alphabet", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"binaryData":{"k":"-_-_"}}`, newConfigMap, false},
		{"a time", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"2026-01-02T03:04:05Z","deletionTimestamp":"2026-01-02T03:04:05.5+01:00"}}`, newPod, true},
		{"a time that does not parse", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"yesterday"}}`, newPod, false},
		{"a number for a string", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":7}}`, newPod, false},
		{"an object for a list", pod(`"args":{"a":"b"}`), newPod, false},
		{"a list of nulls", pod(`"args":[null,"x"]`), newPod, true},
		{"a map of nulls", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":null}},"data":{"k":null}}`, newConfigMap, true},
		{"a key written twice in a map", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"a","k":"b"}}`, newConfigMap, false},
		{"an empty object", `{}`, newPod, true},
		{"trailing data", `{"apiVersion":"v1","kind":"Pod"} {}`, newPod, false},
	}
	for _, c := range cases {
		got := agree(t, c.name, []byte(c.js), c.newObj)
		if got && !c.fast {
			t.Errorf("%s: go-json-experiment decided it; sigs.k8s.io/json must", c.name)
		}
	}
}

// FuzzTypedDecoding: whatever the JSON, unmarshalTyped decodes a Pod as sigs.k8s.io/json does.
func FuzzTypedDecoding(f *testing.F) {
	for _, s := range []string{
		`{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true,"Privileged":false}}]}}`,
		`{"metadata":{"name":"p","labels":{"a":"b"}},"spec":{"hostNetwork":true,"volumes":[{"name":"v","hostPath":{"path":"/"}}]}}`,
		`{"spec":{"containers":[{"resources":{"limits":{"cpu":"1","memory":null}},"ports":[{"containerPort":80}]}]}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		if !strings.HasPrefix(strings.TrimSpace(js), "{") {
			return
		}
		agree(t, "fuzz", []byte(js), typed["/Pod"])
	})
}

// TestTypedDecodingTakesTheFastPath: unmarshalTyped decodes a well-formed object with the fast
// decoder, not with sigs.k8s.io/json (whose answer would be the same, only slower): it makes
// fewer allocations than sigs.k8s.io/json alone, and fewer than both together would.
func TestTypedDecodingTakesTheFastPath(t *testing.T) {
	js := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"app":"web","tier":"front"}},` +
		`"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{` +
		`"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"500m","memory":"256Mi"}},` +
		`"securityContext":{"runAsNonRoot":true,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}},` +
		`"env":[{"name":"A","value":"1"},{"name":"B","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]}]}}}}`)
	newObj := typed["apps/Deployment"]
	if err := jsonv2.Unmarshal(js, newObj(), fastTyped); err != nil {
		t.Fatalf("the fast decoder refuses the object: %v", err)
	}
	kjsonAllocs := testing.AllocsPerRun(20, func() { _ = unmarshal(js, newObj()) })
	typedAllocs := testing.AllocsPerRun(20, func() { _, _ = unmarshalTyped(js, newObj) })
	if typedAllocs >= kjsonAllocs {
		t.Errorf("unmarshalTyped made %.0f allocations, sigs.k8s.io/json alone %.0f: the fast decoder is not what decodes", typedAllocs, kjsonAllocs)
	}
	t.Logf("allocations: unmarshalTyped %.0f, sigs.k8s.io/json %.0f", typedAllocs, kjsonAllocs)
}

// TestFastTypeMetaAgrees holds that reading what a JSON document is with go-json-experiment
// (readTypeMeta, readTop) changes nothing: every document of the shared corpus and the
// repository's manifests, typed or not, and documents written where the two decoders part,
// give the apiVersion, kind and items, and the raw apiVersion, kind and metadata, that
// sigs.k8s.io/json gives, and an error where it gives one.
func TestFastTypeMetaAgrees(t *testing.T) {
	var docs [][]byte
	for _, d := range append(jsonDocuments(decodingRoots, true), jsonDocuments(decodingRoots, false)...) {
		docs = append(docs, d.js)
	}
	if len(docs) < 2000 {
		t.Fatalf("only %d documents found; is ../shared/corpus there?", len(docs))
	}
	fast := 0
	for _, js := range docs {
		if jsonv2.Unmarshal(js, &fastMeta{}, fastTyped) == nil {
			fast++
		}
	}
	// The fast reader must decide nearly all of them, or it is no faster.
	if fast < len(docs)*99/100 {
		t.Errorf("go-json-experiment read %d of %d documents; sigs.k8s.io/json the rest", fast, len(docs))
	}
	for _, js := range []string{
		`{"apiVersion":"v1","kind":"Pod","Kind":"Service","metadata":{"name":"p"}}`,
		`{"apiVersion":"v1","kind":"Pod","kind":"Service"}`,
		`{"apiVersion":"v1","kind":null}`,
		`{"apiVersion":"v1","kind":5}`,
		`{"apiVersion":["v1"],"kind":"Pod"}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":"m"}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":null}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"a":1,"a":2}}`,
		`{"apiVersion":"v1","kind":"P\u006fd","metadata":{"name":"p"}}`,
		`{"apiVersion":"v1","kind":"Pod` + "\xff" + `"}`,
		`{"apiVersion":"v1","kind":"PodList","items":[{"kind":"Pod"}]}`,
		`{"apiVersion":"v1","kind":"PodList","items":null}`,
		`{"apiVersion":"v1","kind":"PodList","items":{}}`,
		`{"apiVersion":"v1","kind":"Pod"} trailing`,
		`{"apiVersion":"v1","kind":"Pod",}`,
		`[{"apiVersion":"v1","kind":"Pod"}]`,
		`"Pod"`,
		`{"metadata":{"name":"p"}}`,
	} {
		docs = append(docs, []byte(js))
	}
	for _, js := range docs {
		var want typeMeta
		wantErr := unmarshal(js, &want)
		got, gotErr := readTypeMeta(js)
		if (wantErr == nil) != (gotErr == nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%.200s: readTypeMeta gives %+v, %v; sigs.k8s.io/json %+v, %v", js, got, gotErr, want, wantErr)
		}
		var raw map[string]json.RawMessage
		wantErr = unmarshal(js, &raw)
		top, gotErr := readTop(js)
		if (wantErr == nil) != (gotErr == nil) {
			t.Errorf("%.200s: readTop's error %v; sigs.k8s.io/json's %v", js, gotErr, wantErr)
			continue
		}
		for k, got := range map[string][]byte{"apiVersion": top.APIVersion, "kind": top.Kind, "metadata": top.Metadata} {
			if w, ok := raw[k]; ok != (got != nil) || !bytes.Equal(got, w) {
				t.Errorf("%.200s: readTop's %s is %q; sigs.k8s.io/json's %q", js, k, got, w)
			}
		}
	}
}

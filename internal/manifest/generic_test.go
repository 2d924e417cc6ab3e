package manifest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// agreeGeneric fails t unless unmarshalGeneric gives what sigs.k8s.io/json alone gives: the
// same error or none, and an equal map. It says whether go-json-experiment's tokenizer decided
// the document itself.
func agreeGeneric(t *testing.T, name string, js []byte) (fast bool) {
	t.Helper()
	var want map[string]any
	wantErr := unmarshal(js, &want)
	got, gotErr := unmarshalGeneric(js)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Errorf("%s: error %v, sigs.k8s.io/json's is %v", name, gotErr, wantErr)
		return false
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded\n%#v\nsigs.k8s.io/json decodes\n%#v", name, got, want)
	}
	_, err := object(jsontext.NewDecoder(strings.NewReader("")), js)
	return err == nil
}

// TestGenericDecodingAgrees holds that decoding unstructured objects with go-json-experiment's
// tokenizer changes no object: every such document of the shared corpus and of this
// repository's manifests and fixtures, and documents written to find where the two part (names
// written twice, bytes that are not UTF-8, numbers at the edges of int64 and float64, nulls,
// empty lists and maps, anything but one object), decode to what sigs.k8s.io/json alone does.
func TestGenericDecodingAgrees(t *testing.T) {
	docs := jsonDocuments(decodingRoots, false)
	if len(docs) < 500 {
		t.Fatalf("only %d unstructured documents found; is ../shared/corpus there?", len(docs))
	}
	fast := 0
	for _, d := range docs {
		if agreeGeneric(t, d.source, d.js) {
			fast++
		}
	}
	if fast < len(docs)*99/100 {
		t.Errorf("the tokenizer decided %d of %d documents; sigs.k8s.io/json the rest", fast, len(docs))
	}
	t.Logf("%d unstructured documents, %d decided by the tokenizer", len(docs), fast)

	cases := []struct {
		name string
		js   string
		fast bool // whether the tokenizer may decide it (false: it must leave it)
	}{
		{"an empty object", `{}`, true},
		{"every kind of value", `{"s":"x","t":true,"f":false,"n":null,"i":3,"x":1.5,"l":["a",1,null,{}],"m":{"a":{"b":[[]]}}}`, true},
		{"empty lists and maps are not null", `{"l":[],"m":{}}`, true},
		{"integers at int64's edges", `{"a":9223372036854775807,"b":-9223372036854775808}`, true},
		{"integers past int64 are floats", `{"a":9223372036854775808,"b":-9223372036854775809}`, true},
		{"an integer with an exponent is a float", `{"a":1e3,"b":1E-2}`, true},
		{"an integer written as a fraction is a float", `{"a":1.0}`, true},
		{"minus zero", `{"a":-0,"b":-0.0}`, true},
		{"a number float64 cannot hold", `{"a":1e400}`, false},
		{"escapes", `{"a\u0062":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, true},
		{"a name written twice: the last one", `{"a":1,"a":2}`, false},
		{"a name written twice deeper", `{"m":{"a":1,"a":{"b":2}}}`, false},
		{"names in another case are two names", `{"a":1,"A":2}`, true},
		{"bytes that are not UTF-8", `{"a":"x` + "\xff" + `"}`, false},
		{"a lone surrogate", `{"a":"x\ud800"}`, false},
		{"null", `null`, false},
		{"a list", `[{}]`, false},
		{"a string", `"x"`, false},
		{"trailing data", `{"a":1} {}`, false},
		{"trailing garbage", `{"a":1} x`, false},
		{"white space around", " \n{\"a\":1}\n ", true},
		{"not closed", `{"a":[1,2}`, false},
		{"a missing value", `{"a":}`, false},
		{"a comma too many", `{"a":1,}`, false},
		{"nothing", ``, false},
		{"nested as deep as sigs.k8s.io/json allows", `{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, true},
		{"nested deeper", `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, false},
	}
	for _, c := range cases {
		got := agreeGeneric(t, c.name, []byte(c.js))
		if got && !c.fast {
			t.Errorf("%s: the tokenizer decided it; sigs.k8s.io/json must", c.name)
		}
		if !got && c.fast {
			t.Errorf("%s: left to sigs.k8s.io/json; the tokenizer should decide it", c.name)
		}
	}
}

// FuzzGenericDecoding: whatever the JSON, unmarshalGeneric decodes it as sigs.k8s.io/json does.
func FuzzGenericDecoding(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"c"},"spec":{"dnsNames":["a","b"],"duration":"2160h"}}`,
		`{"a":[1,-2.5e3,9223372036854775808,null,true,{"b":{}}],"c":"\u00e9\n"}`,
		`{"a":1,"a":2}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		agreeGeneric(t, "fuzz", []byte(js))
	})
}

// TestGenericDecodingTakesTheFastPath: unmarshalGeneric decodes a well-formed object with the
// tokenizer, not with sigs.k8s.io/json: fewer allocations than sigs.k8s.io/json alone makes.
func TestGenericDecodingTakesTheFastPath(t *testing.T) {
	js := []byte(`{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},` +
		`"spec":{"secretName":"web-tls","duration":"2160h","renewBefore":"360h","dnsNames":["shop.example.com","www.shop.example.com"],` +
		`"privateKey":{"algorithm":"ECDSA","size":256,"rotationPolicy":"Always"},"issuerRef":{"name":"letsencrypt","kind":"ClusterIssuer"}}}`)
	kjsonAllocs := testing.AllocsPerRun(20, func() {
		var m map[string]any
		_ = unmarshal(js, &m)
	})
	genericAllocs := testing.AllocsPerRun(20, func() { _, _ = unmarshalGeneric(js) })
	if genericAllocs >= kjsonAllocs {
		t.Errorf("unmarshalGeneric made %.0f allocations, sigs.k8s.io/json alone %.0f: the tokenizer is not what decodes", genericAllocs, kjsonAllocs)
	}
	t.Logf("allocations: unmarshalGeneric %.0f, sigs.k8s.io/json %.0f", genericAllocs, kjsonAllocs)
}

// BenchmarkGenericDecoding decodes every unstructured document of ../shared/corpus, as
// sigs.k8s.io/json alone did and as unmarshalGeneric does.
func BenchmarkGenericDecoding(b *testing.B) {
	docs := jsonDocuments([]string{"../../../shared/corpus"}, false)
	if len(docs) == 0 {
		b.Skip("corpus not available under ../../../shared/corpus")
	}
	b.Run("sigs.k8s.io-json", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				var m map[string]any
				_ = unmarshal(d.js, &m)
			}
		}
	})
	b.Run("unmarshalGeneric", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				_, _ = unmarshalGeneric(d.js)
			}
		}
	})
}

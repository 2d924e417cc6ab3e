package manifest

import (
	"encoding/json"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// fastTyped are the options of the fast decoder for typed kinds, go-json-experiment (what
// encoding/json/v2 is made from). Its defaults already match field names case-sensitively and
// ignore unknown fields, as sigs.k8s.io/json does; the two set here say what it must refuse so
// that sigs.k8s.io/json decides: a name written twice in one object (sigs.k8s.io/json keeps the
// last, field by field) and bytes that are not UTF-8 (it replaces them).
var fastTyped = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))

// unmarshalTyped decodes js into a new object from newObj. go-json-experiment decodes the
// documents it accepts about 1.8 times as fast as sigs.k8s.io/json, with half the allocations
// (BenchmarkTypedDecoding). Whatever it refuses, sigs.k8s.io/json decodes once more into a fresh
// object, and its object or error is the answer: so the errors are worded as before, and the API
// server's decoder decides every document the fast one has any doubt about.
// TestFastTypedDecodingAgrees holds that the two give the same objects.
func unmarshalTyped(js []byte, newObj func() engine.KubeObject) (engine.KubeObject, error) {
	obj := newObj()
	if jsonv2.Unmarshal(js, obj, fastTyped) == nil {
		return obj, nil
	}
	obj = newObj()
	return obj, unmarshal(js, obj)
}

// fastMeta is what decodeJSON reads first of a document to know what it is (readTypeMeta).
type fastMeta struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Items      jsontext.Value `json:"items"`
}

// readTypeMeta reads js's apiVersion and kind, and its items. go-json-experiment reads a
// document with no items; whatever else, and whatever it refuses, sigs.k8s.io/json reads
// (unmarshal), and its answer or error is the answer, as in unmarshalTyped. The objects of a
// List read from a stream (kubectl get -o json) are JSON, and sigs.k8s.io/json reading them
// twice over (for these and for readTop's keys) took most of the time: the 20k copies of the
// corpus as one List of 158 MB, 1.40-1.63 -> 0.69-1.00 s (3 rounds, piped and named).
func readTypeMeta(js []byte) (typeMeta, error) {
	var fm fastMeta
	if jsonv2.Unmarshal(js, &fm, fastTyped) == nil && fm.Items == nil {
		return typeMeta{APIVersion: fm.APIVersion, Kind: fm.Kind}, nil
	}
	var tm typeMeta
	err := unmarshal(js, &tm)
	return tm, err
}

// topKeys are what an object decoded as unstructured with only its metadata keeps of it: its
// apiVersion, kind and metadata as raw JSON, nil where js has none.
type topKeys struct {
	APIVersion jsontext.Value `json:"apiVersion"`
	Kind       jsontext.Value `json:"kind"`
	Metadata   jsontext.Value `json:"metadata"`
}

// readTop reads js's apiVersion, kind and metadata as raw JSON values, as unmarshal does into a
// map of raw values, with go-json-experiment where it can, as readTypeMeta does.
func readTop(js []byte) (topKeys, error) {
	var top topKeys
	if jsonv2.Unmarshal(js, &top, fastTyped) == nil {
		return top, nil
	}
	var raw map[string]json.RawMessage
	if err := unmarshal(js, &raw); err != nil {
		return topKeys{}, err
	}
	return topKeys{APIVersion: jsontext.Value(raw["apiVersion"]), Kind: jsontext.Value(raw["kind"]), Metadata: jsontext.Value(raw["metadata"])}, nil
}

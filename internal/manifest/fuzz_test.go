package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, every object it returns
// must have a kind and a name, and every error must say where it happened. Reading every kind
// metadata only (Options.MetadataOnly) must report the same errors and the same objects, with
// the same apiVersion, kind and metadata.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n",
		"---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":"x"}}`,
		"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {capacity: {storage: TEN}}\n",
		"a: [\n",
		"kind: 5\napiVersion: [1]\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {deep: {deeper: [1, 2, {x: y}]}}\n",
		"\x00\x01\x02",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: x\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: null\nspec: 1\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, labels: {a: b}}\nMetadata: {name: v}\n",
		// Custom resources read for their metadata alone, with and without what
		// customContainers looks for (dropper).
		"apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec: {groups: [{name: g}]}\nstatus: 1\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {template: {spec: {\"\\x63ontainers\": [{name: c, \"im\\u0061ge\": i}]}}}\n",
		"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {rules: [{mutate: {patchStrategicMerge: {spec: {containers: [{name: c, image: i}]}}}}]}\n",
		"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {workloadRef: {apiVersion: v1, kind: PodTemplate, name: t}}\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      !!binary Y29udGFpbmVycw==: [{name: c, x: y}]\n",
	} {
		f.Add([]byte(seed))
	}
	addManifestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, errs := Decode("fuzz.yaml", data)
		for _, o := range objs {
			if o.Kind == "" || o.APIVersion == "" || (o.Name == "" && o.Obj.GetGenerateName() == "") {
				t.Errorf("decoded an object without kind, apiVersion or name: %+v", o)
			}
		}
		slim, slimErrs := DecodeWith("fuzz.yaml", data, Options{MetadataOnly: func(string) bool { return true }})
		if fmt.Sprint(slimErrs) != fmt.Sprint(errs) || len(slim) != len(objs) {
			t.Fatalf("metadata only: %d objects, errors %v; whole: %d objects, errors %v", len(slim), slimErrs, len(objs), errs)
		}
		for i, o := range objs {
			u, ok := o.Obj.(*unstructured.Unstructured)
			if !ok || isCSV(o.APIVersion, o.Kind) { // a CSV is always read whole
				continue
			}
			want := map[string]any{}
			for _, k := range []string{"apiVersion", "kind", "metadata"} {
				if v, ok := u.Object[k]; ok {
					want[k] = v
				}
			}
			if got := slim[i].Obj.(*unstructured.Unstructured).Object; !reflect.DeepEqual(got, want) {
				t.Errorf("metadata only: object %d is %v; want %v", i, got, want)
			}
		}
		for _, err := range errs {
			var de *DecodeError
			if !errors.As(err, &de) || de.Source != "fuzz.yaml" || de.Document < 1 {
				t.Errorf("error does not say where it happened: %v", err)
			}
		}
	})
}

// FuzzReadStream reads arbitrary streams a chunk of arbitrary size at a time: they must be cut
// into the documents that reading them whole gives (splitDocuments), at the same indices and
// lines and with the same errors.
func FuzzReadStream(f *testing.F) {
	for _, s := range streamCases {
		f.Add([]byte(s), uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		defer func(c int) { streamChunk = c }(streamChunk)
		streamChunk = 1 + int(chunk)%4096
		want := describeDocuments(splitDocuments(utf8Text(data)))
		docs, err := streamDocuments(t, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got := describeDocuments(docs); !slices.Equal(got, want) {
			t.Errorf("chunks of %d: documents\n%q\nwant\n%q", streamChunk, got, want)
		}
		// A file's size is known (decodeInParts); it may have changed since.
		for _, size := range []int{len(data), len(data) - int(chunk)%7, len(data) + int(chunk)%7} {
			docs, err := sizedStreamDocuments(t, bytes.NewReader(data), max(size, 0))
			if err != nil {
				t.Fatal(err)
			}
			if got := describeDocuments(docs); !slices.Equal(got, want) {
				t.Errorf("chunks of %d, size %d: documents\n%q\nwant\n%q", streamChunk, size, got, want)
			}
		}
	})
}

package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, every object it returns
// must have a kind and a name, and every error must say where it happened.
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
	} {
		f.Add([]byte(seed))
	}
	files, _ := filepath.Glob("../scan/testdata/manifests/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, errs := Decode("fuzz.yaml", data)
		for _, o := range objs {
			if o.Kind == "" || o.APIVersion == "" || (o.Name == "" && o.Obj.GetGenerateName() == "") {
				t.Errorf("decoded an object without kind, apiVersion or name: %+v", o)
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

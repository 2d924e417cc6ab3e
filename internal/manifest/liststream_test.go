package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// nastyStrings are values whose YAML and JSON take care to read back: separators, markers,
// comments, indentation, quotes, escapes, line breaks, what looks like a key or an item.
var nastyStrings = []string{
	"", " ", "---", "...", "- x", "-", "# c", "key: v", "a\nb", "\n", "\n\n", "  lead", "trail  ",
	"  two\n    four\n", "tab\there", `quote"d`, "back\\slash", `\"`, "{", "}]", "[1, 2", "é ü 漢",
	"line one\n\n  indented\n\nexit 0\n\n\n", "items:", "- apiVersion: v1", "kind: List", "null", "true", "0x1F",
}

// randomValue is a JSON value of up to depth levels made of nastyStrings, numbers, booleans,
// nulls, maps and lists.
func randomValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(9); {
	case n < 3 || depth == 0:
		return nastyStrings[r.IntN(len(nastyStrings))]
	case n == 3:
		return r.IntN(2000) - 1000
	case n == 4:
		return []any{nil, true, false, 1.5}[r.IntN(4)]
	case n < 7:
		m := map[string]any{}
		for range r.IntN(4) {
			m[nastyStrings[r.IntN(len(nastyStrings))]+fmt.Sprint(r.IntN(3))] = randomValue(r, depth-1)
		}
		return m
	default:
		var l []any
		for range r.IntN(4) {
			l = append(l, randomValue(r, depth-1))
		}
		return l
	}
}

// randomList is a List of n objects: Widgets (read as they are written, unstructured) with
// random specs, and ConfigMaps with random data.
func randomList(r *rand.Rand, n int) map[string]any {
	var items []any
	for i := range n {
		meta := map[string]any{"name": fmt.Sprintf("o%d", i), "namespace": "shop",
			"annotations": map[string]any{"a": nastyStrings[r.IntN(len(nastyStrings))]}}
		if r.IntN(2) == 0 {
			data := map[string]any{}
			for k := range r.IntN(4) {
				data[fmt.Sprintf("k%d", k)] = nastyStrings[r.IntN(len(nastyStrings))]
			}
			items = append(items, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})
			continue
		}
		items = append(items, map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": randomValue(r, 4)})
	}
	return map[string]any{"apiVersion": "v1", "items": items, "kind": "List", "metadata": map[string]any{"resourceVersion": ""}}
}

// Lists of random objects, written as kubectl writes them (YAML, and JSON indented and not),
// read item by item from a stream, give the objects that reading each whole gives: in every
// field, wherever the chunks end. listFrom is set small so that every List is read item by item.
func TestRandomListsReadItemByItemAreReadAsWhole(t *testing.T) {
	defer func(c, l int) { streamChunk, listFrom = c, l }(streamChunk, listFrom)
	listFrom = 256
	objects := func(objs []*engine.Object, errs []error) []string {
		var out []string
		for _, o := range objs {
			js, err := json.Marshal(o.Obj)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s/%s/%s %s", o.Source.File, o.Kind, o.Namespace, o.Name, js))
		}
		for _, e := range errs {
			out = append(out, e.Error())
		}
		return out
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 17))
		list := randomList(r, 5+r.IntN(30))
		asYAML, err := yaml.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		indented, _ := json.MarshalIndent(list, "", "    ")
		compact, _ := json.Marshal(list)
		for format, data := range map[string][]byte{"yaml": asYAML, "json": indented, "compact json": compact} {
			if len(data) <= listFrom {
				continue
			}
			data = append(slices.Clone(data), "\n---\n"+pod("after")...)
			if format != "yaml" {
				data = append(slices.Clone(data[:len(data)-len("\n---\n"+pod("after"))]), "\n"+podJSON("after")...)
			}
			want := objects(Decode(StdinName, data))
			if len(want) == 0 || strings.Contains(strings.Join(want, "\n"), "items[") {
				t.Fatalf("seed %d, %s: read whole: %q", seed, format, want)
			}
			streamChunk = 1 + r.IntN(4096)
			// Read item by item, or the comparison below says nothing of it.
			docs, err := streamDocuments(t, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(docs, func(d document) bool { return d.item != 0 }) {
				t.Fatalf("seed %d, %s: the List was not read item by item", seed, format)
			}
			got := objects(Load([]string{"-"}, bytes.NewReader(data)))
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("seed %d, %s, chunks of %d: %d objects, the first that differs:\n%s\nwant\n%s", seed, format, streamChunk, len(got), got[i], want[i])
					}
				}
				t.Fatalf("seed %d, %s, chunks of %d: %d objects and errors, want %d:\n%q\nwant\n%q", seed, format, streamChunk, len(got), len(want), got, want)
			}
		}
	}
}

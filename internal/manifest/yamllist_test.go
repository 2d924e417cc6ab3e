package manifest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// yamlItems are objects for a List whose YAML takes indentation to read: block scalars kept,
// stripped and with leading spaces (an indentation indicator), blank lines in them, nested
// sequences, a multi-line key, a Pod with an error of its own.
func yamlItems(n int) []any {
	var items []any
	for i := range n {
		data := map[string]any{
			"k":                      strings.Repeat("v", 1000),
			"script":                 "#!/bin/sh\n\n  echo indented\n\nexit 0\n\n\n",
			"stripped":               "line one\nline two",
			"lead":                   "  starts with spaces\n    and more\n",
			"long key with\nnewline": "x",
		}
		items = append(items, configMap(fmt.Sprintf("c%d", i), data))
		switch i {
		case 10:
			items = append(items, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "shop"},
				"spec": map[string]any{"hostPID": "yes", "containers": []any{map[string]any{"name": "c", "image": "busybox:1.36", "args": []any{"-", "- -", "---"}}}}})
		case 20:
			items = append(items, "not an object", nil, []any{"a", []any{"b"}})
		}
	}
	return items
}

// A List of YAML from a stream (kubectl get -A -o yaml | soc2-operator scan -) over
// MaxDocumentBytes is read item by item as it is read, and gives the objects and errors that
// reading it whole gives, wherever the chunks end; each error says its item's line.
func TestAStreamedYAMLListGivesWhatItGivesReadWhole(t *testing.T) {
	list, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "items": yamlItems(2500), "kind": "List", "metadata": map[string]any{"resourceVersion": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(list, []byte("\nitems:\n- ")) || len(list) <= MaxDocumentBytes {
		t.Fatalf("the List (%d bytes) is not as kubectl writes one over MaxDocumentBytes:\n%.300s", len(list), list)
	}
	// Comments and blank lines at column 0 between items, and another document after it.
	list = bytes.Replace(list, []byte("\n- apiVersion: v1\n  data:\n    k: "), []byte("\n\n# between items\n- apiVersion: v1\n  data:\n    k: "), 3)
	data := append(list, "---\n"+pod("after")...)
	// What is read whole, with each object's and error's line left out: read item by item, an
	// object's line is its item's.
	withoutLines := func(objs []*engine.Object, errs []error) []string {
		var out []string
		for _, o := range objs {
			out = append(out, fmt.Sprintf("%s %s/%s/%s %d %v", o.Source.File, o.Kind, o.Namespace, o.Name, o.Source.Document, o.Obj))
		}
		for _, e := range errs {
			msg := e.Error()
			if i := strings.Index(msg, "items["); i >= 0 {
				msg = msg[i:]
			}
			out = append(out, msg)
		}
		return out
	}
	wantObjs, wantErrs := Decode(StdinName, data)
	want := withoutLines(wantObjs, wantErrs)
	if len(wantObjs) != 2501 || len(wantErrs) != 3 {
		t.Fatalf("read whole: %d objects and errors %v; want 2501 and 3", len(wantObjs), wantErrs)
	}
	defer func(c int) { streamChunk = c }(streamChunk)
	var first []string
	for _, chunk := range []int{4096, 100_000, 1 << 20} {
		streamChunk = chunk
		objs, errs := Load([]string{"-"}, bytes.NewReader(data))
		if got := withoutLines(objs, errs); !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("chunks of %d: %d objects and errors %q; the first that differs:\n%.300s\nwant\n%.300s", chunk, len(objs), errs, got[i], want[i])
				}
			}
			t.Fatalf("chunks of %d: %d objects and errors %q\nwant %d and %q", chunk, len(objs), errs, len(wantObjs), wantErrs)
		}
		got := describeObjects(objs, errs)
		if first == nil {
			first = got
		} else if !slices.Equal(got, first) {
			t.Errorf("chunks of %d: lines differ from those of chunks of 4096", chunk)
		}
	}
	// The Pod's error is on the line of its item.
	line := 1 + bytes.Count(data[:bytes.Index(data, []byte("\n- apiVersion: v1\n  kind: Pod"))+1], []byte("\n"))
	if e := fmt.Sprintf("document 1 (line %d): items[11]: Pod: spec.hostPID: ", line); !strings.Contains(strings.Join(first, "\n"), e) {
		t.Errorf("no error with %q: %q", e, first[len(first)-3:])
	}
}

// A stream's YAML over MaxDocumentBytes with items at column 0 that is no List is an error once
// its kind says so (its items judged as they were read), as is one whose items are written
// twice, and one whose kind comes after a document end marker (...); the documents after it
// are read.
func TestAStreamedYAMLObjectOverTheLimitThatIsNoListIsAnError(t *testing.T) {
	var items strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&items, "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c%d, namespace: shop}\n  data: {k: %s}\n", i, strings.Repeat("v", 2000))
	}
	widget := "apiVersion: example.com/v1\nitems:\n" + items.String() + "kind: Widget\nmetadata: {name: w}\n"
	twice := "apiVersion: v1\nitems:\n" + items.String() + "kind: List\nitems: []\n"
	// Written twice right after the first, or in another spelling of the key: kubectl (yaml.v2,
	// which keeps the last of a key written twice) applies only the second items, this Pod.
	evil := "- apiVersion: v1\n  kind: Pod\n  metadata: {name: evil, namespace: shop}\n  spec: {hostPID: true, containers: [{name: c, image: x}]}\n"
	twiceAtOnce := "apiVersion: v1\nkind: List\nitems:\n" + items.String() + "items:\n" + evil
	twiceQuoted := "apiVersion: v1\nkind: List\nitems:\n" + items.String() + "metadata: {}\n\"items\":\n" + evil
	twiceSpaced := "apiVersion: v1\nkind: List\nitems:\n" + items.String() + "metadata: {}\nitems :\n" + evil
	twiceComplex := "apiVersion: v1\nkind: List\nitems:\n" + items.String() + "? items\n:\n" + evil
	// A document end marker: what follows it, its kind among it, is not the List's, as kubectl
	// (yaml.v2) reads it.
	ended := "apiVersion: v1\nitems:\n" + items.String() + "...\nkind: List\n"
	for _, tc := range []struct {
		name, data, err string
	}{
		{"a Widget", widget, tooLarge(len(widget), MaxDocumentBytes).Error()},
		{"items twice", twice, "a List whose items are written twice"},
		{"items twice at once", twiceAtOnce, "a List whose items are written twice"},
		{"items twice quoted", twiceQuoted, "a List whose items are written twice"},
		{"items twice spaced", twiceSpaced, "a List whose items are written twice"},
		{"items twice as a complex key", twiceComplex, "a List whose items are written twice"},
		{"a document end", ended, "not a Kubernetes object: kind is missing"},
	} {
		objs, errs := Load([]string{"-"}, strings.NewReader(tc.data+"---\n"+pod("after")))
		if len(objs) != 2001 || objs[2000].Name != "after" || len(errs) != 1 || errs[0].Error() != StdinName+": document 1 (line 1): "+tc.err {
			t.Errorf("%s: %d objects, errors %.200q; want 2001, the last the Pod after it, and the error %q", tc.name, len(objs), errs, tc.err)
		}
	}
}

// A stream's YAML List over MaxDocumentBytes whose lines before its items do not read by
// themselves is read whole, as kubectl reads it. Here a double-quoted scalar before the items
// key runs on over it and over the items at column 0 up to a quote in what read item by item is
// a comment: kubectl (yaml.v2) reads them all as one string, and then a second items key, the
// List's only one, with a Pod; item by item, scan judged 2001 ConfigMaps and nothing else.
func TestAStreamedYAMLListWhoseLinesBeforeItsItemsDoNotReadAloneIsReadWhole(t *testing.T) {
	var items strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&items, "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c%d, namespace: shop}\n  data: {k: %s}\n", i, strings.Repeat("v", 2000))
	}
	data := "apiVersion: v1\nkind: List\nmetadata: {name: l}\na: \"runs on\nitems:\n" + items.String() +
		"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: last, namespace: shop}\n  # \"\n" +
		"items:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: evil, namespace: shop}\n  spec: {hostPID: true, containers: [{name: c, image: x}]}\n" +
		"end: 1 # \"\n---\n" + pod("after")
	if len(data) <= MaxDocumentBytes {
		t.Fatalf("the List (%d bytes) is not over MaxDocumentBytes", len(data))
	}
	names := func(objs []*engine.Object, errs []error) string {
		var out []string
		for _, o := range objs {
			out = append(out, o.Kind+"/"+o.Name)
		}
		for _, e := range errs {
			out = append(out, e.Error())
		}
		return strings.Join(out, ", ")
	}
	const want = "Pod/evil, Pod/after"
	if got := names(Decode(StdinName, []byte(data))); got != want {
		t.Fatalf("read whole: %s; want %s", got, want)
	}
	if got := names(Load([]string{"-"}, strings.NewReader(data))); got != want {
		t.Errorf("read from a stream: %.300s; want %s, as read whole", got, want)
	}
}

// A YAML List cut off by a failed read keeps the items it sent whole; the failure is the
// stream's error, not the List's.
func TestAYAMLListThatFailsKeepsWhatItSentWhole(t *testing.T) {
	var list bytes.Buffer
	if _, err := io.Copy(&list, yamlListStream(2000)); err != nil {
		t.Fatal(err)
	}
	sent := list.Bytes()[:bytes.Index(list.Bytes(), []byte("name: c1500\n"))] // cut off in c1500
	objs, errs := Load([]string{"-"}, &failingReader{data: sent})
	if len(objs) != 1499 {
		t.Errorf("%d objects, want the 1499 sent whole", len(objs))
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "connection reset by peer") {
		t.Errorf("errors %v, want one error saying the read failed", errs)
	}
}

// An item of a YAML List read from a stream item by item that is written in YAML's flow style
// ({apiVersion: v1, kind: Pod, ...}) is read as YAML, as read whole and as kubectl reads it:
// taken for JSON because it begins with {, it was an error and the Pod went unjudged.
func TestAStreamedYAMLListReadsAnItemInFlowStyle(t *testing.T) {
	var items strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&items, "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c%d, namespace: shop}\n  data: {k: %s}\n", i, strings.Repeat("v", 2000))
	}
	data := "apiVersion: v1\nitems:\n" + items.String() +
		"- {apiVersion: v1, kind: Pod, metadata: {name: flow, namespace: shop},\n  spec: {hostPID: true, containers: [{name: c, image: x}]}}\nkind: List\n"
	if len(data) <= MaxDocumentBytes {
		t.Fatalf("the List (%d bytes) is not over MaxDocumentBytes", len(data))
	}
	for how, read := range map[string]func() ([]*engine.Object, []error){
		"read whole":         func() ([]*engine.Object, []error) { return Decode(StdinName, []byte(data)) },
		"read from a stream": func() ([]*engine.Object, []error) { return Load([]string{"-"}, strings.NewReader(data)) },
	} {
		objs, errs := read()
		if len(errs) != 0 || len(objs) != 2001 || objs[2000].Kind+"/"+objs[2000].Name != "Pod/flow" {
			t.Errorf("%s: %d objects, the last %v, errors %v; want the 2000 ConfigMaps and Pod/flow", how, len(objs), objs[len(objs)-1].Name, errs)
		}
	}
}

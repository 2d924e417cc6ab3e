package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// kubectlList is objs as `kubectl get -o json` writes them: a List, indented by four spaces,
// its items before its kind.
func kubectlList(t *testing.T, objs ...any) []byte {
	t.Helper()
	list, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "items": objs, "kind": "List",
		"metadata": map[string]any{"resourceVersion": ""}}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func configMap(name string, data map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "shop"}, "data": data}
}

// nested is a value nested depth levels deep, with width leaves of a few bytes at each: the
// shape of a CRD's schema, which indenting by four spaces a level makes several times larger.
func nested(depth, width int) any {
	m := map[string]any{}
	for i := range width {
		m[fmt.Sprintf("f%d", i)] = "x"
	}
	if depth > 0 {
		m["next"] = nested(depth-1, width)
	}
	return m
}

// A List of JSON from a stream (kubectl get -A -o json | soc2-operator scan -) over
// MaxDocumentBytes is read item by item as it is read, and gives the objects and errors that
// reading it whole gives, wherever the chunks end: items with errors of their own, one over
// the limit, and one that is over it only with kubectl's indentation (read: the limit is on
// JSON without whitespace, as every object a cluster holds is far under it).
func TestAStreamedJSONListGivesWhatItGivesReadWhole(t *testing.T) {
	var items []any
	for i := range 3000 {
		items = append(items, configMap(fmt.Sprintf("c%d", i), map[string]any{"k": strings.Repeat("v", 1000)}))
		switch i {
		case 100:
			items = append(items, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "shop"},
				"spec": map[string]any{"hostPID": "yes"}}) // an error of its own
		case 1200:
			items = append(items, configMap("huge", map[string]any{"k": strings.Repeat("v", MaxDocumentBytes)}))
		case 2000:
			items = append(items, map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
				"metadata": map[string]any{"name": "widgets.example.com"}, "spec": nested(60, 420)})
		case 2500:
			items = append(items, "not an object", nil)
		}
	}
	list := kubectlList(t, items...)
	indented, _ := json.MarshalIndent(items[2003], "", "    ") // the CRD, as it is in list, less its indentation
	if compact := compactSize(indented); len(indented) <= MaxDocumentBytes || compact > MaxDocumentBytes {
		t.Fatalf("the CRD is %d bytes, %d without whitespace: want over MaxDocumentBytes with it, under without", len(indented), compact)
	}
	// Items first, kind last (kubectl), and kind first: a List is read as one either way.
	kindFirst := bytes.Replace(list, []byte("{\n    \"apiVersion\": \"v1\",\n    \"items\""), []byte("{\"kind\": \"List\", \"apiVersion\": \"v1\",\n    \"items\""), 1)
	kindFirst = bytes.Replace(kindFirst, []byte("\"kind\": \"List\",\n    \"metadata\""), []byte("\"metadata\""), 1)
	if bytes.Equal(kindFirst, list) || !json.Valid(kindFirst) {
		t.Fatal("kind first: the List was not rewritten")
	}
	for _, data := range [][]byte{list, kindFirst} {
		wantObjs, wantErrs := Decode(StdinName, data) // read whole
		want := describeObjects(wantObjs, wantErrs)
		if len(wantObjs) != 3001 || len(wantErrs) != 3 {
			t.Fatalf("read whole: %d objects and errors %v; want 3001 and 3 errors", len(wantObjs), wantErrs)
		}
		for _, e := range []string{"items[101]: Pod: spec.hostPID: ", fmt.Sprintf("items[1202]: %d bytes as JSON without whitespace; the limit is %d", MaxDocumentBytes+len(`{"apiVersion":"v1","data":{"k":""},"kind":"ConfigMap","metadata":{"name":"huge","namespace":"shop"}}`), MaxDocumentBytes),
			"items[2504]: "} { // items[2505], null, is nothing

			if !strings.Contains(strings.Join(want, "\n"), StdinName+": document 1 (line 1): "+e) {
				t.Errorf("read whole, no error with %q: %q", e, want[len(want)-3:])
			}
		}
		defer func(c int) { streamChunk = c }(streamChunk)
		for _, chunk := range []int{4096, 100_000, 1 << 20} {
			streamChunk = chunk
			objs, errs := Load([]string{"-"}, bytes.NewReader(data))
			if got := describeObjects(objs, errs); !slices.Equal(got, want) {
				t.Errorf("chunks of %d: %d objects and errors %q\nwant %d and %q", chunk, len(objs), errs, len(wantObjs), wantErrs)
			}
		}
	}
}

// A stream's JSON over MaxDocumentBytes that is no List is an error, whether its items come
// before its kind (read as a List's as they are read, and the object an error once its kind
// says it is none), after it, or after its first MiBs (too large when it passes the limit,
// none of its items read); so is a List whose items are
// written twice (read whole, the last would count; read as they arrive, the first were). The
// values after it are read.
func TestAStreamedJSONObjectOverTheLimitThatIsNoListIsAnError(t *testing.T) {
	var items []any
	for i := range 2000 {
		items = append(items, configMap(fmt.Sprintf("c%d", i), map[string]any{"k": strings.Repeat("v", 2000)}))
	}
	widget, err := json.Marshal(map[string]any{"apiVersion": "example.com/v1", "items": items, "kind": "Widget", "metadata": map[string]any{"name": "w"}})
	if err != nil {
		t.Fatal(err)
	}
	late, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"annotations": map[string]any{"a": strings.Repeat("v", MaxDocumentBytes)}}, "zitems": items})
	if err != nil {
		t.Fatal(err)
	}
	late = bytes.Replace(late, []byte(`"zitems"`), []byte(`"items"`), 1)
	// Its kind before its items: known for no List before they are read.
	kindFirst := bytes.Replace(widget, []byte(`{"apiVersion":"example.com/v1",`), []byte(`{"kind":"Widget","apiVersion":"example.com/v1",`), 1)
	kindFirst = bytes.Replace(kindFirst, []byte(`,"kind":"Widget"`), nil, 1)
	// Items written twice: read whole, the last would be the List's.
	twice := append(bytes.TrimSuffix(kubectlList(t, items...), []byte("}")), []byte(`, "items": []}`)...)
	// The second items key written with an escape: encoding/json (kubectl) reads it as items,
	// and applies only the Pod in it.
	twiceEscaped := append(bytes.TrimSuffix(kubectlList(t, items...), []byte("}")),
		[]byte(`, "\u0069tems": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "evil", "namespace": "shop"}, "spec": {"hostPID": true}}]}`)...)
	for _, tc := range []struct {
		name string
		data []byte
		objs int // read before the kind says what it is
		err  string
	}{
		{"items first", widget, 2000, tooLarge(len(widget), MaxDocumentBytes).Error()},
		{"items last", late, 0, tooLarge(len(late), MaxDocumentBytes).Error()},
		{"kind first", kindFirst, 0, tooLarge(len(kindFirst), MaxDocumentBytes).Error()},
		{"items twice", twice, 2000, "a List whose items are written twice"},
		{"items twice, escaped", twiceEscaped, 2000, "a List whose items are written twice"},
	} {
		data := append(append(slices.Clone(tc.data), '\n'), podJSON("after")...)
		objs, errs := Load([]string{"-"}, bytes.NewReader(data))
		if len(objs) != tc.objs+1 || objs[len(objs)-1].Name != "after" || len(errs) != 1 || errs[0].Error() != StdinName+": document 1 (line 1): "+tc.err {
			t.Errorf("%s: %d objects, errors %.200q; want %d, the last the Pod after it, and the error %q", tc.name, len(objs), errs, tc.objs+1, tc.err)
		}
	}
}

// madeStream is a reader of a stream made as it is read: head, n items (item(1) to item(n)),
// tail.
type madeStream struct {
	head, tail string
	item       func(i int) string
	n, next    int
	buf        []byte
}

func (r *madeStream) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			switch {
			case r.next == 0:
				r.buf = []byte(r.head)
			case r.next <= r.n:
				r.buf = []byte(r.item(r.next))
			case r.next == r.n+1:
				r.buf = []byte(r.tail)
			default:
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			r.next++
		}
		c := copy(p[n:], r.buf)
		r.buf, n = r.buf[c:], n+c
	}
	return n, nil
}

// jsonListStream and yamlListStream are Lists of n ConfigMaps of about 4 KiB each, made as they
// are read: JSON, and YAML as kubectl writes it.
func jsonListStream(n int) *madeStream {
	return &madeStream{head: `{"apiVersion": "v1", "items": [`, tail: `], "kind": "List"}`, n: n, item: func(i int) string {
		sep := ","
		if i == 1 {
			sep = ""
		}
		return fmt.Sprintf(`%s{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c%d", "namespace": "shop"}, "data": {"k": %q}}`, sep, i, strings.Repeat("v", 4000))
	}}
}

func yamlListStream(n int) *madeStream {
	return &madeStream{head: "apiVersion: v1\nitems:\n", tail: "kind: List\nmetadata:\n  resourceVersion: \"\"\n", n: n, item: func(i int) string {
		return fmt.Sprintf("- apiVersion: v1\n  data:\n    k: %s\n  kind: ConfigMap\n  metadata:\n    name: c%d\n    namespace: shop\n", strings.Repeat("v", 4000), i)
	}}
}

// A List streamed in, JSON or YAML, is read in bounded memory, never held whole, and has no
// limit of its own: 100 MB of it in no more than 24 MiB of live heap, its objects handed over as
// they are decoded.
func TestAStreamedListsMemoryIsBounded(t *testing.T) {
	const n = 25_000 // about 100 MB
	for name, list := range map[string]*madeStream{"JSON": jsonListStream(n), "YAML": yamlListStream(n)} {
		sampled := newHeapSampler(list, 4)
		objs := 0
		LoadEach([]string{"-"}, sampled, func(got []*engine.Object, errs []error) {
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			objs += len(got)
		})
		if objs != n {
			t.Errorf("%s: %d objects, want %d", name, objs, n)
		}
		if sampled.reads < 32 || sampled.peak > 24<<20 {
			t.Errorf("%s: %d reads, %d MiB more live heap at most while reading a List of %d MB; want it bounded (24 MiB at most)", name, sampled.reads, sampled.peak>>20, n*4100/1_000_000)
		}
	}
}

// A JSON stream that fails part way keeps what it sent whole: the values before the one cut
// off, and of a List read as it arrives, the items before it; the failure is the stream's
// error, not a document's.
func TestAJSONStreamThatFailsKeepsWhatItSentWhole(t *testing.T) {
	var values bytes.Buffer
	for i := 0; values.Len() < 2*streamChunk+1000; i++ {
		values.WriteString(podJSON(fmt.Sprintf("p%d", i)) + "\n")
	}
	var items []any
	for i := range 2000 {
		items = append(items, configMap(fmt.Sprintf("c%d", i), map[string]any{"k": strings.Repeat("v", 2000)}))
	}
	list := kubectlList(t, items...)
	for _, tc := range []struct {
		name string
		sent []byte
		objs int
	}{
		{"values", values.Bytes()[:values.Len()-20], bytes.Count(values.Bytes(), []byte(`"kind":"Pod"`)) - 1},
		{"a List", list[:bytes.Index(list, []byte(`"name": "c1500"`))], 1500}, // cut off in c1500
	} {
		objs, errs := Load([]string{"-"}, &failingReader{data: tc.sent})
		if len(objs) != tc.objs {
			t.Errorf("%s: %d objects, want the %d sent whole", tc.name, len(objs), tc.objs)
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), StdinName) || !strings.Contains(errs[0].Error(), "connection reset by peer") {
			t.Errorf("%s: errors %v, want one error of %s saying the read failed", tc.name, errs, StdinName)
		}
	}
}

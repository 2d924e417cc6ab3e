package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// sameAsOthers fails when blockJSON decides a document otherwise than the paths it stands in
// front of: the JSON fastJSON writes, byte for byte, when fastJSON decides the document too;
// and always the value sigs.k8s.io/yaml (yaml.v2) reads, which must not refuse it. Reading only
// the metadata (drop) must write the same apiVersion, kind and metadata and nothing else.
func sameAsOthers(t *testing.T, name string, body []byte) (decided bool) {
	t.Helper()
	got, tm, ok := blockJSON(body, nil)
	if !ok {
		return false
	}
	if err := checkAliases(body); err != nil {
		t.Errorf("%s: blockJSON decided a document checkAliases refuses (%v)", name, err)
	}
	if fast, fastTM, fastOK := fastJSON(body); fastOK {
		if !bytes.Equal(got, fast) {
			t.Errorf("%s: blockJSON and fastJSON differ:\nblock: %s\nfast:  %s\nyaml:\n%s", name, got, fast, body)
		}
		if !reflect.DeepEqual(tm, fastTM) {
			t.Errorf("%s: blockJSON read type %+v, fastJSON %+v", name, tm, fastTM)
		}
	}
	g, valid := sameValueAsYAMLv2(t, name, "blockJSON", body, got, tm)
	if !valid {
		return true
	}
	holdsOnlyMetadata(t, name, got, tm)
	// Only the metadata: the same object, less every other top-level key once apiVersion and
	// kind are read.
	asked := 0
	slim, slimTM, ok := blockJSON(body, func(apiVersion, kind string) bool {
		asked++
		if tm == nil || apiVersion != tm.APIVersion || kind != tm.Kind {
			t.Errorf("%s: drop asked about %q %q; the document is %+v", name, apiVersion, kind, tm)
		}
		return true
	})
	if !ok && hasNode(body, '&') && hasNode(body, '*') {
		return true // an alias of an anchored node left out (TestBlockJSONAliases)
	}
	if ok && slimTM != nil {
		holdsOnlyMetadata(t, name+" (metadata only)", slim, slimTM)
	}
	if !ok || !sameType(slimTM, tm) {
		t.Errorf("%s: reading only the metadata: ok %v, type %+v; whole: %+v", name, ok, slimTM, tm)
		return true
	}
	whole, isMap := g.(map[string]any)
	if !isMap {
		if !bytes.Equal(slim, got) {
			t.Errorf("%s: reading only the metadata changed a document that is no map: %s", name, slim)
		}
		return true
	}
	var s map[string]any
	if err := json.Unmarshal(slim, &s); err != nil {
		t.Errorf("%s: reading only the metadata wrote invalid JSON: %v\n%s", name, err, slim)
		return true
	}
	for k, v := range whole {
		if sv, kept := s[k]; kept && !reflect.DeepEqual(sv, v) {
			t.Errorf("%s: reading only the metadata changed %s: %v; whole: %v", name, k, sv, v)
		} else if !kept && (k == "apiVersion" || k == "kind" || k == "metadata" || asked == 0) {
			t.Errorf("%s: reading only the metadata left out %s", name, k)
		}
	}
	if len(s) > len(whole) {
		t.Errorf("%s: reading only the metadata wrote keys the document does not have: %s", name, slim)
	}
	return true
}

// holdsOnlyMetadata fails when tm says otherwise than js whether js holds no key but
// apiVersion, kind and metadata (decodeTyped then decodes js whole for an object of which only
// those are kept).
func holdsOnlyMetadata(t *testing.T, name string, js []byte, tm *typeMeta) {
	t.Helper()
	if tm == nil {
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	only := true
	for k := range top {
		only = only && (k == "apiVersion" || k == "kind" || k == "metadata")
	}
	if tm.onlyMetadata != only {
		t.Errorf("%s: the type read says only apiVersion, kind and metadata: %v; the JSON's keys say %v", name, tm.onlyMetadata, only)
	}
}

// sameType reports whether a and b name the same apiVersion and kind, whatever else the JSON
// holds besides metadata.
func sameType(a, b *typeMeta) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && reflect.DeepEqual(a.Items, b.Items)
}

// TestBlockJSONCases: the constructs manifests are written with, each decided as yaml.v2
// decides it, and those the block reader leaves to the other paths.
func TestBlockJSONCases(t *testing.T) {
	decided := []string{
		"a: b\n",
		"a: b",
		"a:\n  b: c\n  d: [e, 'f', \"g\"]\n",
		"a:\n- b\n- c: d\n  e: f\n-\n- - g\n  - h\n",
		"- a\n- b\n",
		"a: yes\nb: No\nc: 0777\nd: 1_000\ne: .5\nf: 1e3\ng: ~\nh:\ni: 0x1F\nj: 2026-01-01\nk: '0777'\n",
		"a: plain text\n  folded over\n\n  lines\nb: x\n",
		"a: 'it''s'\nb: \"tab\\tand \\u00e9 \\x41 \\U0001F600 \\\" \\\\\"\n",
		"a: 'folded\n  single\n\n  quoted'\n",
		"a: \"folded \\\n  escaped\n  break\"\n",
		"a: |\n  literal\n   more\n\n  end\nb: |-\n  stripped\n\nc: |+\n  kept\n\n\nd: x\n",
		"a: >\n  folded\n  text\n\n  para\n    indented\n  back\ne: >-\n  x\n",
		"a: |2\n    two more\n  b\n",
		"a: |\n  no newline at the end",
		"a: |\n\n  leading blank\n",
		"a: b # comment\n# line comment\nc: 'd' # x\ne: [f] # y\n",
		"a: {b: c, d: [1, 2], e: {}}\nf: []\n",
		"\"quoted key\": 1\n'single': 2\n",
		"a: http://example.com/#x\nb: c:d\nc: a#b\n",
		"a: -1\nb: --flag\nc: [-1, -x]\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: \"1\"\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n",
		"kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {}\n",
		"apiVersion: 1\nkind: Pod\nspec: x\n",
		"  a: indented document\n  b: c\n",
		"a:   \n  b: c\n",
		"a: b   \n",
		"a: 'x'   \nb: \"y\"\n",
		"a: \"\\0\\a\\b\\v\\f\\r\\e\\ \\N\\_\\L\\P\"\n",
		"a: \"x  \n  y  \"\n",
		"a: 'é ünïcödé 日本'\nb: ünïcödé\n",
		"a: |\n  # not a comment\n  x\n",
		"a:\n  - b\n  # c\n  - d\n",
		"a: [b,\n  c]\n", "a:\n  b\n", "a: [a:b, 'c', d]\n", "a: [b,]\n", "a: b\n  - c\n  [d] &e *f !g\n", "a: 'x\ny'\n",
		"a: [b,\nc]\n", "x:\n  a: [b,\n\n  # c\n#d\n  c\n  ]\n", "a: {\"b\":1, c: [http://x]}\n", "a: :9090\nb: ::1\n",
		"a:\n  [b, c]\n", "-\n  b\n-\n  'c'\n", "a: [\"b\"  # c\n  , d]\n",
		// Tabs in the text of block scalars, as yaml.v2 keeps them (JSON dashboards in ConfigMaps).
		"a: |\n  x\ty\n  \tz\nb: c\n", "a: |\n    {\n    \t\"k\": 1,\n    \t\t\"l\": 2\n    }\n",
		"a: >\n  x\n  \ty\n  z\n  w\n", "a: >-\n  x\n\n  \ty\n\n  z\t\n", "- |\n  x\t\n- y\n",
		// Windows line breaks (CR LF), read as yaml.v2 reads them: one line break, LF in scalars.
		"a: b\r\nc:\r\n- d\r\n- e: f\r\n", "a: |\r\n  x\r\n\r\n  y\r\nb: >\r\n  f\r\n  g\r\n", "a: b # c\r\n",
		"a: 'x\r\n  y'\r\nb: \"p\\\r\n  q\"\r\nc: \"r\r\n\r\n  s\"\r\n", "a: plain\r\n  folded\r\n",
		// Anchors on a key's value or a sequence entry, and aliases there.
		"a: &x 1\nb: *x\n", "a: &x\n  b: c\n  d: [1, 2]\ne: *x\n", "a: &t\n- k: v\n  e: f\nb: *t\n",
		"- &a x\n- *a\n- &b\n  c: d\n- *b\n", "a: &x 1\nb: &x 2\nc: *x\n", "a: &x 1 # c\nb: *x # d\n", "a: &x\nb: *x\n",
		"a: &x |\n  t\nb: *x\n", "a: &x [1, {b: c}]\nb: *x\n", "a: &x\n  b: &y 'q'\nc: *y\nd: *x\n",
		"x: &v v1\napiVersion: *v\nkind: Pod\n", "a: &x-1_B 1\nb: *x-1_B\n",
		// An anchor met inside a node anchored with the same name: an alias after both names
		// the inner node, met last, though the outer one was read to its end last.
		"x: &a\n  k: &a v\nz: *a\n", "x: &a\n  k: &a v\n  j: *a\n", "- &a\n  - &a v\n- *a\n",
		"apiVersion: v1\nkind: X\nmetadata:\n  labels: &l\n    a: b\nspec:\n  selector: *l\n  s:\n  - *l\n",
		"apiVersion: v1\nkind: X\nmetadata:\n  name: n\nspec:\n  a: &x {b: c}\n  d: *x\n  e:\n  - *x\n",
	}
	var many strings.Builder
	for i := range 40 {
		fmt.Fprintf(&many, "k%d: v\n", i)
	}
	decided = append(decided, many.String(), "a: {"+strings.TrimSuffix(strings.ReplaceAll(many.String(), "\n", ", "), ", ")+"}\n")
	for _, doc := range decided {
		if !sameAsOthers(t, doc, []byte(doc)) {
			t.Errorf("blockJSON did not decide:\n%s", doc)
		}
	}
	left := []string{
		"a: !!str 1\n", "? a\n: b\n", "a: 1\na: 2\n", "<<: {a: 1}\n", "1: a\n", "true: a\n",
		"a:\tb\n", "%YAML 1.1\n---\na: b\n", "a: b: c\n", "a: - b\n",
		"a: {b}\n", "a: \"\\q\"\n", "a: \"\\uD800\"\n", "a: b\n c: d\n",
		"a:\n  b: c\n d: e\n", "- a\nb: c\n", "a: 'x'y\n", "[a]: b\n", "a: .inf\n", "a: {b :1}\n",
		"a: \"unterminated\n", "a: |0\n  x\n", "a: |x\n", "a: b\n...\n", "\ufeffa: b\n", "a: \u2028\n", "a: \x01\n",
		"a: ]\n", "a: {b: c}: d\n", "\"a\":b\n",
		// Tabs anywhere but in a block scalar's text: where yaml.v2 expects an indentation
		// space (it refuses them), and where it takes them as blanks or text (the slow path
		// reads those).
		"a: |\n  \tx\n", "a: |\n  x\n\ty\n", "a: |\n  x\n \ty\n", "a: |2\n \tx\n", "a: b\t\n", "a: b # c\td\n",
		"a: 'x\ty'\n", "a: |\n  x\nb:\tc\n", "\ta: b\n", "a:\n- b\n-\tc\n",
		// A carriage return by itself: a line break in YAML 1.1.
		"a: b\rc: d\n", "a: b\r", "a: b\r\r\n", "a: 'x\ry'\r\n",
		// Anchors and aliases elsewhere, or that yaml.v2 refuses.
		"a: *x\n", "a: &x [1, *x]\n", "a: &x [1]\nb: [*x]\n", "&x a: b\n", "- &a b: c\n", "a: &x 1\nb: &y *x\n",
		"a: &x !!str 1\n", "a: &x 1\nb: *x y\n", "a: &x\n  - 1\nb: *x\n  c: d\n", "a: &x: 1\n", "a: & x\n", "a: *\n",
		"a: &x\n  b: *x\n", "a: *.example.com\n", "a: &x 1\nb: *x\n  - c\n", "&x\na: b\n",
		// An alias inside the node anchored with its name (the anchor's value contains itself),
		// though an earlier node was anchored with that name too (FuzzBlockJSON found it).
		"a: &x 1\nb: &x\n  c: *x\n", "- &x 0\n- &x\n  - *x\n", "a: &x 1\nb: &x\n  c: &y 2\n  d: *x\n",
	}
	left = append(left, many.String()+"k3: again\n", "a: {"+strings.ReplaceAll(many.String(), "\n", ", ")+"k39: again}\n")
	for _, doc := range left {
		if _, _, ok := blockJSON([]byte(doc), nil); ok {
			t.Errorf("blockJSON decided what it must leave to yaml.v2:\n%q", doc)
		}
	}
}

// TestBlockJSONAliases: a document whose aliases stand for more JSON than maxAliasedJSON is
// left to the slow path, whether the block reader writes that JSON or leaves it out (a value
// of which only the metadata is kept), so that the slow path refuses an alias bomb as it did
// before the block reader read aliases; and an alias of a node read while discarding, in a
// value that is kept, is left too (its JSON was not kept).
func TestBlockJSONAliases(t *testing.T) {
	dropAll := func(string, string) bool { return true }
	head := "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
	long := strings.Repeat("x", 100_000)
	wide := "spec:\n  s: &s " + long + "\n  copies:\n" + strings.Repeat("  - *s\n", 40)
	nested := "spec:\n  a: &a\n" + strings.Repeat("  - lol\n", 10)
	for _, n := range "bcdefghi" {
		nested += fmt.Sprintf("  %c: &%c\n%s", n, n, strings.Repeat(fmt.Sprintf("  - *%c\n", n-1), 10))
	}
	under := "spec:\n  s: &s " + long + "\n  copies:\n" + strings.Repeat("  - *s\n", 2)
	escaped := "spec:\n  s: &s '" + strings.Repeat(`"`, 100_000) + "'\n  copies:\n" + strings.Repeat("  - *s\n", 2)
	controls := "spec:\n  s: &s \"" + strings.Repeat(`\x01`, 50_000) + "\"\n  copies:\n" + strings.Repeat("  - *s\n", 2)
	for _, tc := range []struct {
		name        string
		doc         string
		whole, slim bool // decided read whole, and reading only the metadata
	}{
		{"40 aliases of a 100 kB string", head + wide, false, false},
		{"a billion laughs in block sequences", head + nested, false, false},
		{"2 aliases of a 100 kB string (under the bound)", head + under, true, true},
		// Left out, a string is counted (jsonStringLen), not written: as JSON these stand for
		// 600 kB, over the bound, though their text is 300 kB.
		{"2 aliases of 100 kB of quotes (200 kB as JSON)", head + escaped, false, false},
		{"2 aliases of 50 kB of control characters (300 kB as JSON)", head + controls, false, false},
		// Counted by their length alone until an alias, exactly after one.
		{"an alias, then 200 kB of quotes (400 kB as JSON)", head + "  labels: &l\n    a: b\n  annotations: *l\nspec:\n  t: '" + strings.Repeat(`"`, 200_000) + "'\n", false, false},
		{"an alias after 100 kB of quotes", head + "spec:\n  t: '" + strings.Repeat(`"`, 100_000) + "'\n  a: &a x\n  b: *a\n", true, true},
		// checkAliases counts 8 bytes for each number: over its limit for a document it
		// reads, the block reader leaves it whatever its aliases stand for.
		{"an alias and 200,000 numbers", head + "spec:\n  a: &a 1\n  b: *a\n  nums:\n" + strings.Repeat("  - 1\n", 200_000), false, false},
		{"an anchor in a value left out, named in the metadata", "apiVersion: v1\nkind: X\nspec: &s\n  a: 1\nmetadata:\n  name: n\n  labels: *s\n", true, false},
		{"an anchor in the metadata, named in a value left out", "apiVersion: v1\nkind: X\nmetadata:\n  labels: &l\n    a: b\nspec:\n  s: *l\n", true, true},
	} {
		_, _, whole := blockJSON([]byte(tc.doc), nil)
		_, _, slim := blockJSON([]byte(tc.doc), dropAll)
		if whole != tc.whole || slim != tc.slim {
			t.Errorf("%s: decided whole %v (want %v), reading only the metadata %v (want %v)", tc.name, whole, tc.whole, slim, tc.slim)
		}
		if whole {
			sameAsOthers(t, tc.name, []byte(tc.doc))
		}
	}
	// What the slow path then says, read whole and for the metadata only.
	limit := fmt.Sprintf("document expands to more than %d bytes through its aliases (*name); the limit is %d", MaxDocumentBytes, MaxDocumentBytes)
	for _, tc := range []struct{ name, doc, err string }{
		{"40 aliases of a 100 kB string", head + wide, limit},
		{"a billion laughs in block sequences", head + nested, "yaml: document contains excessive aliasing"},
	} {
		for _, opts := range []Options{{}, {MetadataOnly: func(string) bool { return true }}} {
			objs, errs := DecodeWith("in.yaml", []byte(tc.doc), opts)
			if len(objs) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
				t.Errorf("%s (metadata only: %v): %d objects, errors %v; want the error %q", tc.name, opts.MetadataOnly != nil, len(objs), errs, tc.err)
			}
		}
	}
}

// TestBlockJSONCRLF: every document of the corpus written with CR LF line breaks is decided as
// written with LF ones, to the same JSON, byte for byte (a repository edited on Windows would
// otherwise go through yaml.v3 and yaml.v2, at about three times a scan's CPU).
func TestBlockJSONCRLF(t *testing.T) {
	docs := 0
	var mem BlockScratch
	eachYAMLDocument([]string{"../../../shared/corpus"}, func(path string, body []byte) {
		docs++
		lf, lfTM, lfOK := blockJSON(body, nil)
		crlf := bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
		got, tm, ok := blockJSONInto(crlf, nil, &mem)
		if ok != lfOK || !bytes.Equal(got, lf) || !reflect.DeepEqual(tm, lfTM) {
			t.Errorf("%s: with CR LF decided %v (LF %v), type %+v (LF %+v), JSON equal %v", path, ok, lfOK, tm, lfTM, bytes.Equal(got, lf))
		}
		if docs%50 == 0 {
			sameAsOthers(t, path+" (CR LF)", crlf) // held to yaml.v2 too
		}
	})
	if docs < 1000 {
		t.Fatalf("%d documents read", docs)
	}
}

// TestBlockJSONMatchesFastJSON holds the block reader to the other paths on every document of
// the shared corpus and of the repository's YAML test data, and checks that it decides most
// of them (else it would only move the time elsewhere).
func TestBlockJSONMatchesFastJSON(t *testing.T) {
	docs, decided, fast := 0, 0, 0
	eachYAMLDocument([]string{"../../../shared/corpus", "..", "../../config", "../../docs", "../../charts"}, func(path string, body []byte) {
		docs++
		if _, _, ok := fastJSON(body); ok {
			fast++
		}
		if sameAsOthers(t, path, body) {
			decided++
		}
	})
	t.Logf("%d documents: blockJSON decided %d, fastJSON %d", docs, decided, fast)
	if docs < 1000 || decided < fast*95/100 {
		t.Errorf("blockJSON decided %d of %d documents (fastJSON %d): it leaves too many to the slower paths", decided, docs, fast)
	}
}

// FuzzBlockJSON: whatever the input, blockJSON never decides a document otherwise than
// fastJSON and sigs.k8s.io/yaml.
func FuzzBlockJSON(f *testing.F) {
	for _, seed := range []string{"a: yes\nb: [0777, 1_000, .5, 1e3]\n", "a:\n- b\n- c: d\n  e: |\n    x\n",
		"a: 'x\n\n  y'\nb: \"\\x41\\\n  z\"\n", "a: >-\n  f\n\n   g\n  h\n", "a: b\n  c\n", "- - a\n  - b\n- {c: d}\n",
		"a: &x 1\nb: *x\n", "a: |+\n  x\n\n", "\"k\": 'v'\n", "a: >\n  x\n  \ty\n  z\n", "a: |\n  \tx\n",
		"a: &t\n- k: v\nb:\n- *t\n- &u\n  c: *t\n", "a: |\r\n  x\r\nb: 'y\r\n\r\n  z'\r\n"} {
		f.Add([]byte(seed))
	}
	addManifestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsOthers(t, "fuzz", data)
	})
}

// plainTextByByte is plainText one byte at a time, as it was before it read eight at a time
// (characters beyond ASCII judged by plainRune, as there): the reference TestPlainTextAgrees and
// FuzzPlainText hold it to. It counts the tabs as plainText does.
func plainTextByByte(body []byte) (tabs int, ok bool) {
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7F || c == '\n' || c == '\t' {
				if (c == '.' || c == '-') && (i == 0 || body[i-1] == '\n') && i+2 < len(body) && body[i+1] == c && body[i+2] == c {
					return 0, false // a document marker (--- or ...)
				}
				if c == '\t' {
					tabs++
				}
				i++
				continue
			}
			return 0, false
		}
		size, ok := plainRune(body[i:])
		if !ok {
			return 0, false
		}
		i += size
	}
	return tabs, true
}

// TestPlainTextAgrees: plainText, sixteen bytes at a time, decides as the byte-at-a-time reading
// does: on every document of the corpus, and on every byte value and every document marker at
// each position of a line and a little past it, so at each offset of both words of the sixteen
// bytes read at once, of the eight read after them and of the last few read one at a time.
func TestPlainTextAgrees(t *testing.T) {
	check := func(body []byte) {
		t.Helper()
		tabs, got := plainText(body)
		wantTabs, want := plainTextByByte(body)
		if got != want || tabs != wantTabs {
			t.Errorf("plainText(%q) = %d, %v, want %d, %v", body, tabs, got, wantTabs, want)
		}
	}
	docs, plain := 0, 0
	eachYAMLDocument([]string{"../../../shared/corpus", "testdata"}, func(_ string, body []byte) {
		docs++
		if _, ok := plainText(body); ok {
			plain++
		}
		check(body)
	})
	if docs == 0 {
		t.Fatal("no documents read")
	}
	t.Logf("%d documents, %d plain text", docs, plain)
	line := []byte("metadata:\n  name: web-frontend-0123456789\n")
	for pos := range len(line) + 8 {
		for b := range 256 {
			body := slices.Clone(line)
			body = slices.Insert(body, pos%len(body), byte(b))
			check(body)
			check(body[:pos%len(body)+1])
		}
		for _, s := range []string{"---", "...", "--", "..", "-- -", "\u2028", "\u0085", "\uFEFF", "é", "\xff", "\xe2\x80", "\t", "\r\n", "\x7f"} {
			for _, nl := range []string{"\n", ""} {
				body := slices.Clone(line[:pos%len(line)])
				body = append(append(body, nl...), s...)
				check(body)
				check(append(body, " x"...))
				check(append(body, "\nkind: Pod\n"...))
			}
		}
	}
	for _, b := range []string{"", "-", "--", "---", "--- ", "...", "a\n--", "a\n---", "abcdefg\n---", "abcdefgh---", "abcdefg\n...x"} {
		check([]byte(b))
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"apiVersion: v1\nkind: Pod\n", "a: b\n---\n", "x: \u2028\n", "abcdefgh\n...", "\xff\xfe", "a:\tb\n\t\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tabs, got := plainText(body)
		wantTabs, want := plainTextByByte(body)
		if got != want || tabs != wantTabs {
			t.Errorf("plainText(%q) = %d, %v, want %d, %v", body, tabs, got, wantTabs, want)
		}
	})
}

// TestBlockJSONMetadataOnlyRoom holds that reading only the metadata of a large document does
// not make room for all of it: with a scan's collector off, every buffer the block reader grows
// is memory touched for the first time, and the largest documents of a repository (custom
// resource definitions) are those of which scan keeps only the metadata. A document read whole
// still gets its room up front.
func TestBlockJSONMetadataOnlyRoom(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\n  labels:\n    app: x\nspec:\n  group: example.com\n  versions:\n")
	for v := range 40 {
		fmt.Fprintf(&b, "  - name: v%d\n    schema:\n      openAPIV3Schema:\n        properties:\n", v)
		for f := range 100 {
			fmt.Fprintf(&b, "          field%d:\n            description: \"the %d-th field, described at some length as generators do\"\n            type: string\n            enum:\n            - a\n            - b\n", f, f)
		}
	}
	b.WriteString("status:\n  acceptedNames:\n    kind: Thing\n")
	body := []byte(b.String())
	if len(body) < 500<<10 {
		t.Fatalf("the document is %d bytes; the test wants a large one", len(body))
	}
	var mem BlockScratch
	dropAll := func(string, string) bool { return true }
	js, _, ok := blockJSONInto(body, dropAll, &mem)
	if !ok {
		t.Fatal("the block reader did not decide the document")
	}
	want := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"things.example.com","labels":{"app":"x"}}}`
	if string(js) != want {
		t.Fatalf("metadata only:\ngot  %s\nwant %s", js, want)
	}
	if c := cap(mem.out); c > 4<<10 {
		t.Errorf("reading only the metadata of a %d-byte document kept %d bytes of room; want at most 4 KiB (the deepest path's)", len(body), c)
	}

	mem = BlockScratch{}
	whole, _, ok := blockJSONInto(body, nil, &mem)
	if !ok {
		t.Fatal("the block reader did not decide the document read whole")
	}
	if c := cap(mem.out); c < len(whole) || c > len(body)+len(body)/8 {
		t.Errorf("read whole: room %d bytes for %d bytes of JSON; want it made once, up front (%d)", c, len(whole), len(body)+len(body)/8)
	}
}

// TestEscapes8: escapeMask8 finds the first byte a JSON string escapes (below 0x20, '"', '\\')
// among eight, and notPrintable8 the first that is not printable ASCII, whatever the others
// are: every byte value in every place among bytes that need no escape, ASCII and UTF-8, and
// among bytes that do, and a million words at random. writeString and plainText go on from the
// byte the mask's lowest set bit names.
func TestEscapes8(t *testing.T) {
	notPrintable := func(b byte) bool { return b < 0x20 || b > 0x7E }
	first := func(w uint64, is func(byte) bool) int {
		for i := range 8 {
			if is(byte(w >> (8 * i))) {
				return i
			}
		}
		return 8
	}
	check := func(w uint64) {
		t.Helper()
		for _, c := range []struct {
			name string
			mask func(uint64) uint64
			is   func(byte) bool
		}{{"escapeMask8", escapeMask8, escapes}, {"notPrintable8", notPrintable8, notPrintable}} {
			m := c.mask(w)
			if got, want := bits.TrailingZeros64(m)/8, first(w, c.is); got != want || m != 0 && m&^byteTops != 0 {
				t.Fatalf("%s(%#016x) = %#016x: first byte %d, want %d", c.name, w, m, got, want)
			}
		}
	}
	for _, fill := range []byte{'a', 0x20, 0x7e, 0x7f, 0x80, 0xff, '"' + 1, '\\' + 1, 0x00, '"', 0x1f} {
		for place := range 8 {
			for v := range 256 {
				var w uint64
				for i := range 8 {
					b := fill
					if i == place {
						b = byte(v)
					}
					w |= uint64(b) << (8 * i)
				}
				check(w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		check(rng.Uint64())
	}
}

// TestWriteString: writeString writes what escaping a byte at a time writes, for strings of
// every length up to 24 with every byte that needs escaping in every place, whether the memory
// after the string is its own (capacity, holding bytes that would need escaping) or not.
func TestWriteString(t *testing.T) {
	byByte := func(s []byte) string {
		var b strings.Builder
		b.WriteByte('"')
		for _, c := range s {
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			default:
				if c < 0x20 {
					fmt.Fprintf(&b, `\u%04x`, c)
				} else {
					b.WriteByte(c)
				}
			}
		}
		b.WriteByte('"')
		return b.String()
	}
	check := func(s []byte) {
		t.Helper()
		p := blockParser{out: []byte("x")}
		p.writeString(s)
		if got, want := string(p.out[1:]), byByte(s); got != want {
			t.Fatalf("writeString(%q) (capacity %d) = %s, want %s", s, cap(s), got, want)
		}
		if got, want := jsonStringLen(s), len(p.out)-1; got != want {
			t.Fatalf("jsonStringLen(%q) (capacity %d) = %d, writeString wrote %d bytes", s, cap(s), got, want)
		}
		if i := nextEscape(s, 0); i > len(s) {
			t.Fatalf("nextEscape(%q) (capacity %d) = %d, past the string", s, cap(s), i)
		}
	}
	for n := range 25 {
		for _, esc := range []byte{'"', '\\', '\n', '\t', '\r', 0, 0x1f, 'a', 0xc3, 0x7f} {
			for place := range max(n, 1) {
				s := []byte(strings.Repeat("k8s-é", 5)[:n])
				if n > 0 {
					s[place] = esc
				}
				check(slices.Clip(s))
				spare := append(slices.Clone(s), "\"\\\n\x00\"\"\"\"\"\""...)
				check(spare[:n])
				check(spare[: n : n+3])
				check(append(slices.Clone(s), "ab\"\"\"\"\"\""...)[:n]) // one to escape after s, not at its end
				if n > 0 {
					s[(place+1)%n] = '\\' // two to escape, side by side
					check(slices.Clip(s))
					check(append(s, "\n\n\n\n\n\n\n\n"...)[:n])
				}
			}
		}
	}
}

// FuzzJSONStringLen: for any text a manifest's author writes, jsonStringLen counts the bytes
// writeString writes for it, which the block reader counts instead of writing them for a value
// it leaves out (the bound on what a document's aliases stand for depends on the count).
func FuzzJSONStringLen(f *testing.F) {
	for _, seed := range []string{"", "a", "k8s-\"é\"\\\n\t\r\x00\x1f\x7f", strings.Repeat("\"", 17)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		p := blockParser{}
		p.writeString(s)
		if got, want := jsonStringLen(s), len(p.out); got != want {
			t.Fatalf("jsonStringLen(%q) = %d, writeString wrote %d bytes", s, got, want)
		}
	})
}

// TestSpaces: spaces finds the first byte that is not a space as a byte at a time does, from
// every start in lines of up to 20 spaces followed by every kind of byte, or none.
func TestSpaces(t *testing.T) {
	for n := range 21 {
		for _, end := range []string{"", "a", "\n", "\t", "#", "\x00", "\xa0", "\x20\x21"} {
			line := []byte(strings.Repeat(" ", n) + end + "  x")
			for from := range n + 1 {
				want := from
				for want < len(line) && line[want] == ' ' {
					want++
				}
				if got := spaces(line, from); got != want {
					t.Fatalf("spaces(%q, %d) = %d, want %d", line, from, got, want)
				}
				if got := spaces(line[:n], from); got != n {
					t.Fatalf("spaces(%q, %d) = %d, want %d", line[:n], from, got, n)
				}
			}
		}
	}
}

// TestStop3: stop3 finds the first of three bytes as a byte at a time does, with each of them
// (and bytes near them) at every place from every start.
func TestStop3(t *testing.T) {
	for n := range 20 {
		for _, c := range []byte{'\n', '#', ':', ':' + 1, ':' - 1, 0, 0x80 | ':', ' '} {
			line := []byte(strings.Repeat("k", n) + string([]byte{c}) + "x:#\n")
			for from := range n + 1 {
				want := from
				for want < len(line) && line[want] != '\n' && line[want] != '#' && line[want] != ':' {
					want++
				}
				if got := stop3(line, from, '\n', '#', ':'); got != want {
					t.Fatalf("stop3(%q, %d) = %d, want %d", line, from, got, want)
				}
				if got := stop3(line[:n], from, '\n', '#', ':'); got != n {
					t.Fatalf("stop3(%q, %d) = %d, want %d", line[:n], from, got, n)
				}
			}
		}
	}
}

// Package manifest reads Kubernetes manifests (multi-document YAML, JSON and `kind: List`)
// into engine objects. A broken document is reported with its file, document number and line,
// and never stops the others from being read.
package manifest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// DecodeError is a document that could not be read.
type DecodeError struct {
	// Source is the file ("-" or "<stdin>" for standard input).
	Source string
	// Document is the 1-based number of the document in the file (0: the file itself).
	Document int
	// Line is the line the document starts on (0: unknown).
	Line int
	// Err is what went wrong.
	Err error
}

func (e *DecodeError) Error() string {
	switch {
	case e.Document == 0:
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d): %v", e.Source, e.Document, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: document %d: %v", e.Source, e.Document, e.Err)
	}
}

func (e *DecodeError) Unwrap() error { return e.Err }

// MaxDocumentBytes bounds one document. Kubernetes itself refuses objects over about 1.5 MiB
// (etcd's limit); a larger document is reported, not read. A List (what `kubectl get -o yaml`
// writes for more than one object) may be up to MaxListBytes, each of its items up to
// MaxDocumentBytes.
const (
	MaxDocumentBytes = 3 << 20
	MaxListBytes     = 256 << 20
)

// tooLarge is the error of a document of size bytes, over limit.
func tooLarge(size, limit int) error {
	return fmt.Errorf("document is %d bytes; the limit is %d", size, limit)
}

// documentLimit is the most bytes a document may have: MaxListBytes for one that may be a List
// (it has a top-level items key: maybeList), MaxDocumentBytes for any other.
func documentLimit(body []byte) int {
	if maybeList(body) {
		return MaxListBytes
	}
	return MaxDocumentBytes
}

// maybeList reports whether a document may be a List with items: a JSON object with an
// "items" key anywhere, or YAML with an items key at the start of a line (the top level, as
// kubectl writes a List: apiVersion, then items).
func maybeList(body []byte) bool {
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		return bytes.Contains(trimmed, []byte(`"items"`))
	}
	return bytes.HasPrefix(body, []byte("items:")) || bytes.Contains(body, []byte("\nitems:"))
}

// Options change what is kept of the objects read. The zero value keeps everything.
type Options struct {
	// MetadataOnly names the kinds, among those read as unstructured (no Go type; see typed),
	// whose objects keep only apiVersion, kind and metadata: kinds nothing will read beyond
	// those, which at tens of thousands of objects would otherwise be most of the memory held.
	// Each document is still converted and checked as a whole, so the errors reported are the
	// same. A ClusterServiceVersion is always read whole (it yields the objects it installs).
	MetadataOnly func(kind string) bool
	// Kustomization, if not nil, is called with each kustomization file a directory walk skips
	// (kustomization.yaml, .yml, or Kustomization), from the goroutine that walks, before
	// LoadEachWith returns.
	Kustomization func(path string)
}

// keepsOnlyMetadata reports whether of an object of this apiVersion and kind only apiVersion,
// kind and metadata are kept in the JSON it is converted to: what decodeObject does with
// MetadataOnly, but for a custom resource or a policy engine's object, whose JSON is searched
// for containers (customContainers) before it is let go.
func (o Options) keepsOnlyMetadata(apiVersion, kind string) bool {
	return o.MetadataOnly != nil && o.MetadataOnly(kind) && !isCSV(apiVersion, kind) && typedFor(apiVersion, kind) == nil &&
		!customResource(apiVersion, kind) && !policyResource(apiVersion)
}

// dropper is the block reader's drop for body: keepsOnlyMetadata, and a custom resource or a
// policy engine's object read for its metadata alone whose text holds nothing customContainers
// looks for (textMayHoldContainers) keeps only its metadata too. Converted whole, its JSON was
// read for its metadata and searched for nothing: the PrometheusRules, ServiceMonitors and
// other custom resources of a repository, up to hundreds of KB each, were converted and then
// read once more only to find their metadata. Whether the text may hold a container is asked
// once, when the first key after apiVersion and kind of such an object is read.
func (o Options) dropper(body []byte) func(apiVersion, kind string) bool {
	if o.MetadataOnly == nil {
		return nil
	}
	asked, mayHold := false, true
	return func(apiVersion, kind string) bool {
		switch {
		case o.keepsOnlyMetadata(apiVersion, kind):
			return true
		case !customMetadataOnly || !o.MetadataOnly(kind) || isCSV(apiVersion, kind) || typedFor(apiVersion, kind) != nil ||
			argoRollout(apiVersion, kind) || !customResource(apiVersion, kind) && !policyResource(apiVersion):
			return false
		case !asked:
			asked, mayHold = true, textMayHoldContainers(body)
		}
		return !mayHold
	}
}

// customMetadataOnly is a variable for TestCustomResourcesReadForMetadataDecodeAsBefore, which
// decodes with dropper's custom resources converted whole too, as before.
var customMetadataOnly = true

// Decode reads every document of one file's content. It returns the objects it could read and
// one error per document it could not.
func Decode(source string, data []byte) ([]*engine.Object, []error) {
	return DecodeWith(source, data, Options{})
}

// DecodeWith is Decode keeping what opts says.
func DecodeWith(source string, data []byte, opts Options) ([]*engine.Object, []error) {
	return decodeWith(source, data, opts, &buffers{})
}

// decodeWith is DecodeWith with the memory of bufs, which the caller may pass again for the
// next file: each document's JSON is written over the last one's.
func decodeWith(source string, data []byte, opts Options, bufs *buffers) ([]*engine.Object, []error) {
	return decodeDocuments(source, splitDocuments(utf8Text(data)), opts, bufs)
}

// decodeDocuments decodes docs, documents of source, into their objects and errors, in order.
func decodeDocuments(source string, docs []document, opts Options, bufs *buffers) ([]*engine.Object, []error) {
	var objs []*engine.Object
	var errs []error
	for _, d := range docs {
		err := d.err
		var got []*engine.Object
		switch {
		case err == nil && d.item != 0:
			got, err = decodeItem(d.body, d.yaml, d.listAPIVersion, d.listKind, opts, bufs)
		case err == nil:
			got, err = decodeDocument(d.body, d.yaml, opts, bufs)
			if err == errNoKind && notAnObject(d.body) {
				err = ErrNotAnObject
			}
		}
		if d.item != 0 && err != nil {
			err = fmt.Errorf("items[%d]: %w", d.item-1, err)
		}
		// A List with broken items still yields its good ones; each broken item is an error.
		for _, o := range got {
			o.Source = engine.Source{File: source, Document: d.index, Line: d.line}
		}
		objs = append(objs, got...)
		for _, e := range unjoin(err) {
			errs = append(errs, &DecodeError{Source: source, Document: d.index, Line: d.line, Err: shiftYAMLLine(e, d.line)})
		}
	}
	return objs, errs
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// utf8Text turns UTF-16 with a byte-order mark (what Windows PowerShell's > writes) into UTF-8,
// so that its documents are split like any other file's, and lets go of a UTF-8 byte-order mark.
func utf8Text(data []byte) []byte {
	order := utf16Order(data)
	if order == nil {
		return bytes.TrimPrefix(data, utf8BOM)
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 2; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return []byte(string(utf16.Decode(units)))
}

// utf8BOM is UTF-8's byte-order mark. kubectl lets go of one at the start of a file or of
// standard input (cli-runtime's FileVisitor reads through unicode.BOMOverride) before it tells
// JSON from YAML: left in, JSON values after one were a YAML document of which only the first
// value was read, and the rest, which kubectl applies, went unjudged without an error.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// utf16Order is the byte order of UTF-16 text that begins with data, by its byte-order mark, or
// nil for none.
func utf16Order(data []byte) binary.ByteOrder {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return binary.LittleEndian
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return binary.BigEndian
	}
	return nil
}

type document struct {
	body  []byte
	index int   // 1-based, counting every document, empty ones too
	line  int   // 1-based line of the document's first line
	err   error // set when the document cannot be read at all (invalid JSON, a bad separator)
	// item, when not 0, says that the document is the item at index item-1 of the List that is
	// document index (a List read from a stream item by item: readJSONStream, yamlList).
	item int
	// yaml says that body is YAML text (a YAML stream's document or a List's item in one),
	// which may also be JSON; else it is a JSON value the JSON splitters checked.
	yaml bool
	// listAPIVersion and listKind are those of the List an item is of, when they were read
	// before its items (typedItem); "" otherwise.
	listAPIVersion, listKind string
}

// splitDocuments cuts a YAML stream at `---` lines. JSON content is a stream of JSON values.
func splitDocuments(data []byte) []document {
	if isJSONStream(data) {
		return splitJSON(data)
	}
	var s splitter
	docs, _, _ := s.split(data, 0, true)
	return docs
}

// isJSONStream reports whether a stream that begins with data is JSON values, not YAML.
func isJSONStream(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// splitter cuts a YAML stream at `---` lines as it is read: split takes what has been read
// from the start of the document being read on, and returns the documents that a separator has
// ended. Its zero value is at the start of a stream.
type splitter struct {
	index        int   // the document being read, 1-based (0: 1)
	startLine    int   // its first line, 1-based (0: 1)
	line         int   // the line that begins where split stopped scanning, 1-based (0: 1)
	badSeparator error // the error of the document being read, which a bad separator began
	// limit is the most bytes the document being read may have (documentLimit), decided by
	// the reader of the stream once it is over MaxDocumentBytes (0 until then).
	limit int
	// dropped is how many bytes of the document being read were let go unread, over its limit
	// already (drop), and droppedText whether any of them was not blank.
	dropped     int
	droppedText bool
	// lists says that a List as kubectl writes it in YAML is read item by item once it is over
	// MaxDocumentBytes (readStream), and list, when not nil, that the document being read is
	// one (yamlList); listChecked that it has been checked for one.
	lists       bool
	list        *yamlList
	listChecked bool
}

// drop lets go of the start of the document being read, scanned lines (the caller's data
// from then on starts after them): for a document already over its limit, which is
// reported with its size and not read, so that a stream's memory stays bounded whatever the
// size of its documents.
func (s *splitter) drop(lines []byte) {
	s.dropped += len(lines)
	s.droppedText = s.droppedText || !blank(lines)
}

// ended is the document being read, which ends with body (all of it, unless some was dropped).
func (s *splitter) ended(docs []document, body []byte) []document {
	d := document{body: body, index: s.index, line: s.startLine, err: s.badSeparator, yaml: true}
	if s.dropped > 0 {
		if s.droppedText || !blank(body) {
			d.body = nil
			if d.err == nil { // a bad separator's error is the one reported, as for any document
				d.err = tooLarge(s.dropped+len(body), s.limit)
			}
		}
		s.dropped, s.droppedText = 0, false
	}
	s.limit, s.listChecked = 0, false
	return appendDocument(docs, d)
}

// split scans data, the stream from the start of the document being read, from scanned (where
// the last call stopped scanning: a line's start) to the end of its last complete line, or to
// its end when eof. It returns the documents ended, which are slices of data without those
// that hold only comments and blank lines (the numbering counts them), the offset in data of
// the document being read (where the next call's data must start, unless eof), and the offset
// where it stopped scanning.
func (s *splitter) split(data []byte, scanned int, eof bool) (docs []document, start, stop int) {
	if s.index == 0 {
		s.index, s.startLine, s.line = 1, 1, 1
	}
	pos := scanned
	for pos < len(data) {
		if !s.lists && s.list == nil && !bytes.HasPrefix(data[pos:], []byte("---")) {
			// Up to the next line that begins with ---, lines change nothing but where the
			// scan is and the count of lines: skip them many bytes at a time (a line at a time,
			// scanning files took about 1.5% of a scan's instructions). Stop before the last
			// line when it has no end yet: the loop below decides it.
			rest := data[pos:]
			skip := bytes.Index(rest, []byte("\n---")) + 1
			if skip == 0 {
				skip = bytes.LastIndexByte(rest, '\n') + 1
			}
			if skip > 0 {
				s.line += bytes.Count(rest[:skip], []byte("\n"))
				pos += skip
				continue
			}
		}
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		} else if !eof {
			break // the rest of a line: its end decides whether it is a separator
		}
		l := data[pos:next]
		if bytes.HasPrefix(l, []byte("---")) {
			switch {
			case s.list != nil:
				docs = s.list.end(docs, data[start:pos], s.index, s.startLine)
				s.list, s.listChecked, s.limit = nil, false, 0
				s.index++
			case pos > start || s.index > 1 || s.dropped > 0 || s.line > 1:
				// Only a --- on the stream's first line opens its first document; any other
				// ends the document before it, empty or not (`---\n---\n` is an empty
				// document 1, as in YAML and in the middle of a stream).
				docs = s.ended(docs, data[start:pos])
				s.index++
			}
			start, s.startLine, s.badSeparator = next, s.line+1, nil
			if !isSeparator(l) {
				// kubectl refuses `--- {kind: Pod, ...}`; other tools read the document. Either
				// way it must not go unread in silence.
				start, s.startLine = pos, s.line
				s.badSeparator = fmt.Errorf("a document separator (---) may be followed only by a comment, as kubectl requires; "+
					"this one is followed by %q", engine.TruncateTo(string(bytes.TrimSpace(l[3:])), 40))
			}
		} else if s.list != nil {
			docs, start = s.list.take(docs, data, start, pos, l, s.index, s.line)
		}
		pos = next
		s.line++
		if s.lists && s.list == nil && !s.listChecked && pos-start > listFrom && s.dropped == 0 && s.badSeparator == nil {
			// Decided where the document passes the limit, however the stream was read.
			s.listChecked = true
			if isYAMLList(data[start:pos]) {
				// A List as kubectl writes it: read again from its start, item by item, with
				// no limit of its own (the reader may have set one on what it had read).
				s.list = &yamlList{}
				pos, s.line, s.limit = start, s.startLine, 0
			}
		}
	}
	if eof {
		if s.list != nil {
			docs = s.list.end(docs, data[start:], s.index, s.startLine)
			s.list = nil
		} else {
			docs = s.ended(docs, data[start:])
		}
	}
	return docs, start, pos
}

// appendDocument appends d to docs unless it holds nothing but comments and blank lines (and
// is not an error: the body of one over MaxDocumentBytes was let go).
func appendDocument(docs []document, d document) []document {
	if d.err == nil && blank(d.body) {
		return docs
	}
	return append(docs, d)
}

// isSeparator reports whether a line that starts with `---` is a document separator as kubectl
// accepts it: nothing after the dashes but spaces or a comment.
func isSeparator(l []byte) bool {
	rest := bytes.TrimSpace(l[3:])
	return len(rest) == 0 || rest[0] == '#'
}

// splitJSON cuts a stream of JSON values (kubectl reads several objects in a row too) into
// documents. Whatever is not JSON ends the stream and is reported with its line; the values
// before it are still read. Unless it is the first or second value: kubectl's reader
// (YAMLOrJSONDecoder) then reads the stream on as YAML from the end of the value before it, and
// so does splitJSON when that YAML's first document is a map (yamlAfterJSON). A Pod written in
// YAML's flow style, `{apiVersion: v1, kind: Pod, ...}`, or after a JSON object, a --- and a
// line break, is applied by kubectl; it was an invalid JSON error and never judged.
func splitJSON(data []byte) []document { return splitJSONOn(data, 1, 1) }

// splitJSONOn is splitJSON of data that is a stream's from its index'th document on (or from
// the end of the value before it), which starts on line.
func splitJSONOn(data []byte, index, line int) []document {
	docs, after := splitJSONAt(data, index, line)
	if n := len(docs); n > 0 && docs[n-1].err != nil && docs[n-1].index <= 2 {
		if more := yamlAfterJSON(data, after, docs[n-1].index, line); more != nil {
			return append(docs[:n-1], more...)
		}
	}
	return docs
}

// yamlAfterJSON is the documents of data, which starts on line, read as YAML from after, the
// end of the last JSON value read (0: none), on, numbered from index, as kubectl's reader reads
// on after a value that is not JSON: from after the first line break that follows, or from the
// first character before it that is not a space. It is nil unless the first of them is a map.
func yamlAfterJSON(data []byte, after, index, line int) []document {
	from := after
	for from < len(data) {
		r, size := utf8.DecodeRune(data[from:])
		if r == utf8.RuneError && size == 1 {
			return nil // kubectl reads no YAML then
		}
		if !unicode.IsSpace(r) {
			break
		}
		from += size
		if r == '\n' {
			break
		}
	}
	var s splitter
	docs, _, _ := s.split(data[from:], 0, true)
	if len(docs) == 0 || docs[0].err != nil {
		return nil
	}
	if js, err := yaml.YAMLToJSON(docs[0].body); err != nil || !bytes.HasPrefix(bytes.TrimSpace(js), []byte("{")) {
		return nil
	}
	line += bytes.Count(data[:from], []byte("\n")) - 1
	for i := range docs {
		docs[i].index += index - 1
		docs[i].line += line
	}
	return docs
}

// splitJSONFrom is splitJSON of data that is a stream's from its index'th document on, which
// starts on line, without reading on as YAML.
func splitJSONFrom(data []byte, index, line int) []document {
	docs, _ := splitJSONAt(data, index, line)
	return docs
}

// splitJSONAt is splitJSONFrom also returning, for a stream that ends with a value that is not
// JSON, the offset in data of the end of the value before it (0: none).
func splitJSONAt(data []byte, index, line int) (docs []document, after int) {
	dec := json.NewDecoder(bytes.NewReader(data))
	counted := 0
	for ; ; index++ {
		after = int(dec.InputOffset())
		start := after + len(data[after:]) - len(bytes.TrimLeft(data[after:], " \t\r\n"))
		line += bytes.Count(data[counted:start], []byte("\n"))
		counted = start
		var raw json.RawMessage
		err := dec.Decode(&raw)
		switch {
		case err == io.EOF:
			return docs, 0
		case err != nil:
			var se *json.SyntaxError
			if errors.As(err, &se) {
				errLine := line + bytes.Count(data[counted:min(int(se.Offset), len(data))], []byte("\n"))
				err = fmt.Errorf("invalid JSON at line %d: %w", errLine, describeDepth(err))
			} else {
				err = fmt.Errorf("invalid JSON: %w", err)
			}
			return append(docs, document{index: index, line: line, err: err}), after
		}
		docs = append(docs, document{body: raw, index: index, line: line})
	}
}

func blank(b []byte) bool {
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n')
		var l []byte
		if end < 0 {
			l, b = b, nil
		} else {
			l, b = b[:end], b[end+1:]
		}
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("...")) {
			return false
		}
	}
	return true
}

// unmarshal decodes JSON as the API server decodes a request's body and kubectl an object:
// with sigs.k8s.io/json, whose field names are case-sensitive (encoding/json matches a key to a
// field in any case, so that of privileged and Privileged the last one written would decide,
// where the server keeps privileged and drops the other) and whose numbers in untyped values
// are int64 when they are integers, as in the objects the operator reads from the server.
func unmarshal(js []byte, v any) error { return kjson.UnmarshalCaseSensitivePreserveInts(js, v) }

// typeError is a JSON value of the wrong type for its field, from encoding/json or from
// sigs.k8s.io/json (whose error type is internal to it, with the same fields).
type typeError struct {
	Value string       // "bool", "array", "number -5", ...
	Type  reflect.Type // the Go type it could not be stored in
	Field string       // the field's path, or "" for the whole value
}

// asTypeError finds a type mismatch in err's chain.
func asTypeError(err error) (typeError, bool) {
	for ; err != nil; err = errors.Unwrap(err) {
		v := reflect.ValueOf(err)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().Type().Name() != "UnmarshalTypeError" {
			continue
		}
		e := v.Elem()
		value, typ, field := e.FieldByName("Value"), e.FieldByName("Type"), e.FieldByName("Field")
		if value.Kind() != reflect.String || field.Kind() != reflect.String || !typ.IsValid() {
			continue
		}
		te := typeError{Value: value.String(), Field: field.String()}
		if t, ok := typ.Interface().(reflect.Type); ok {
			te.Type = t
		}
		return te, true
	}
	return typeError{}, false
}

// typeMeta is read first to choose the type to decode into.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	// onlyMetadata: the JSON holds no key but apiVersion, kind and metadata (the block reader
	// says so when it wrote no other), so that keeping only those is decoding all of it.
	onlyMetadata bool
}

// decodeItem decodes an item of a List read from a stream item by item, JSON (readJSONStream)
// or YAML (yamlList), as decodeJSON decodes the items of a List read whole; listAPIVersion and
// listKind are the List's when they came before its items (typedItem).
func decodeItem(body []byte, yamlText bool, listAPIVersion, listKind string, opts Options, bufs *buffers) ([]*engine.Object, error) {
	js, tm, err := toJSONInto(body, yamlText, opts, bufs)
	switch {
	case err != nil:
		return nil, err
	case tm != nil:
		return decodeObject(js, *tm, opts)
	}
	return decodeJSON(typedItem(js, listAPIVersion, listKind), 0, opts)
}

// ErrNotAnObject is the error of a document (decodeDocuments) that is a map with neither
// apiVersion nor kind, in any case: a GitHub workflow, a docker-compose file, a chart's values,
// a package.json. kubectl apply and Argo CD refuse such a document, so it deploys nothing; scan
// notes it instead of failing on it (see notAnObject).
var ErrNotAnObject = errors.New("not a Kubernetes object (neither apiVersion nor kind)")

// notAnObject reports whether body, a whole document (not a List's item) the decoders found
// no kind in, is a map with no key that reads apiVersion or kind in any case, as
// sigs.k8s.io/yaml (kubectl's reader of YAML and JSON) reads it. So that a document is let go as no object only when kubectl's own
// reading agrees and nothing in it looks like a type, whatever the fast readers made of it: a
// document with `Kind: Pod` or only an apiVersion is still an error.
func notAnObject(body []byte) bool {
	var m map[string]any
	if yaml.Unmarshal(body, &m) != nil || m == nil {
		return false
	}
	for k := range m {
		if strings.EqualFold(k, "kind") || strings.EqualFold(k, "apiVersion") {
			return false
		}
	}
	return true
}

func decodeDocument(body []byte, yamlText bool, opts Options, bufs *buffers) ([]*engine.Object, error) {
	large := len(body) > MaxDocumentBytes
	if large {
		if limit := documentLimit(body); len(body) > limit {
			return nil, tooLarge(len(body), limit)
		}
	}
	js, tm, err := toJSONInto(body, yamlText, opts, bufs)
	if err != nil {
		return nil, err
	}
	if tm != nil { // no List
		if large {
			return nil, tooLarge(len(body), MaxDocumentBytes)
		}
		return decodeObject(js, *tm, opts)
	}
	return decodeJSON(js, len(body), opts)
}

// toJSON converts a document to JSON. When a fast path read apiVersion and kind as plain
// strings from a document that is no List and has no items, it returns them too, so that the
// JSON is not decoded once more only to read them; the block reader then leaves out of the JSON
// what opts does not keep of the object (keepsOnlyMetadata), and tm.onlyMetadata says whether
// it holds any key but apiVersion, kind and metadata.
//
// Three paths, each taken when the one before cannot decide the document: blockJSON, a reader
// of the YAML manifests are written in; fastJSON, over a yaml.v3 node tree; and the
// sigs.k8s.io/yaml (yaml.v2) round trip, which words the errors. All three give the same JSON.
func toJSON(body []byte, opts Options) ([]byte, *typeMeta, error) {
	return toJSONInto(body, true, opts, nil)
}

// toJSONInto is toJSON with the block reader using bufs' memory (when bufs is not nil), which
// the next document overwrites. A body that is not yamlText is JSON already (the JSON splitters
// checked it); YAML text that begins with { is taken as it is only when it is JSON: a document
// written in YAML's flow style (`{apiVersion: v1, kind: Pod, ...}`) is YAML to kubectl, which
// applies it, and taken for JSON it was an error and the Pod went unjudged.
func toJSONInto(body []byte, yamlText bool, opts Options, bufs *buffers) ([]byte, *typeMeta, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && (!yamlText || json.Valid(trimmed)) {
		return trimmed, nil, nil
	}
	var mem *BlockScratch
	if bufs != nil {
		mem = &bufs.block
	}
	// The block reader bounds the JSON a document's aliases stand for itself (maxAliasedJSON),
	// more tightly than checkAliases: it leaves any document over its bound to it.
	if js, tm, ok := blockJSONInto(body, opts.dropper(body), mem); ok {
		return js, tm, nil
	}
	if err := checkAliases(body); err != nil {
		return nil, nil, err
	}
	// fastJSON refuses an anchor (&name) after parsing the whole document, so a document that
	// may hold one goes to yaml.v2 at once: one with anchors the block reader leaves (a merge
	// key, an alias in a flow collection, more JSON than maxAliasedJSON).
	if !hasNode(body, '&') {
		if js, tm, ok := fastJSON(body); ok {
			return js, tm, nil
		}
	}
	// Strict: a key written twice in one map is an error, as kubectl's validation says, rather
	// than the last one silently winning.
	js, err := yaml.YAMLToJSONStrict(body)
	if err != nil && strings.HasPrefix(err.Error(), yamlUnmarshalErrors) && bytes.Contains(body, []byte("<<")) {
		// yaml.v2 counts a key that overrides a merged one (<<: *base) as a duplicate; it is not.
		js, err = yaml.YAMLToJSON(body)
	}
	if err != nil {
		return nil, nil, describeYAMLError(err, body)
	}
	return js, nil, nil
}

const yamlUnmarshalErrors = "yaml: unmarshal errors:\n"

// describeYAMLError gives every problem the line it is on: one error per duplicate key, the
// line of a control character or of invalid UTF-8, and a hint when a tab indents a line.
func describeYAMLError(err error, body []byte) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, yamlUnmarshalErrors); ok {
		var errs []error
		for _, l := range strings.Split(rest, "\n") {
			errs = append(errs, errors.New("yaml: "+strings.TrimSpace(l)))
		}
		return errors.Join(errs...)
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		lines := bytes.Split(body, []byte("\n"))
		if strings.HasSuffix(msg, "found character that cannot start any token") && n >= 1 && n <= len(lines) {
			l := lines[n-1]
			if indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]; bytes.IndexByte(indent, '\t') >= 0 {
				return fmt.Errorf("%w (a tab indents this line; YAML indents with spaces only)", err)
			}
		}
		return err
	}
	if rest, ok := strings.CutPrefix(msg, "yaml: "); ok {
		if line := firstUnreadableLine(body); line > 0 {
			return fmt.Errorf("yaml: line %d: %s", line, rest)
		}
	}
	return err
}

// firstUnreadableLine is the line of the first byte that is not UTF-8 or is a character YAML
// does not allow (the test of yaml.v2's reader), or 0.
func firstUnreadableLine(body []byte) int {
	line := 1
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		ok := r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7E) || r == 0x85 ||
			(r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF) || r >= 0x10000
		if r == utf8.RuneError && size == 1 || !ok && !(i == 0 && r == 0xFEFF) {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}

// hasNode reports whether the document may hold an anchor (&name) or alias (*name): the sign
// where a YAML node can start (line start, after a space, '[', '{', ',', ':' or '-') followed by
// a name character. It tells a document with aliases from the many with a '*' in a string
// ("*.example.com", verbs: ["*"]) or a '&' in a URL, so that only the former are parsed twice.
func hasNode(body []byte, sign byte) bool {
	for i := bytes.IndexByte(body, sign); i >= 0; {
		if i+1 < len(body) && isNameByte(body[i+1]) && (i == 0 || bytes.IndexByte([]byte(" \t\n[{,:-"), body[i-1]) >= 0) {
			return true
		}
		next := bytes.IndexByte(body[i+1:], sign)
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// checkAliases refuses a document whose aliases (*name) expand it beyond MaxDocumentBytes: a few
// kilobytes of YAML could otherwise stand for gigabytes of JSON. yaml.v2 itself stops nested
// alias bombs, not wide ones (many aliases of one long string).
func checkAliases(body []byte) error {
	if !hasNode(body, '&') || !hasNode(body, '*') {
		return nil
	}
	var v any
	if yamlv2.Unmarshal(body, &v) != nil {
		return nil // converting reports the error
	}
	if jsonSize(v, MaxDocumentBytes) > MaxDocumentBytes {
		return fmt.Errorf("document expands to more than %d bytes through its aliases (*name); the limit is %d", MaxDocumentBytes, MaxDocumentBytes)
	}
	return nil
}

// jsonSize is about the size of v as JSON, counted until it passes limit.
func jsonSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch t := v.(type) {
		case string:
			n += len(t) + 2
		case []any:
			n += 2
			for _, e := range t {
				walk(e)
				n++
			}
		case map[any]any:
			n += 2
			for k, e := range t {
				walk(k)
				walk(e)
				n += 2
			}
		default:
			n += 8
		}
	}
	walk(v)
	return n
}

// decodeJSON decodes an object, or with size (the bytes of the document it is) not 0 a List
// too. Only a List may be over MaxDocumentBytes, each of its items up to MaxDocumentBytes of
// JSON.
func decodeJSON(js []byte, size int, opts Options) ([]*engine.Object, error) {
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	tm, err := readTypeMeta(js)
	if err != nil {
		return nil, describeTypeMeta(err)
	}
	if err := typeMetaError(tm); err != nil {
		return nil, err
	}
	if strings.HasPrefix(tm.APIVersion, "kustomize.config.k8s.io/") {
		// A kustomization configures a tool; it is not an object in the cluster.
		return nil, nil
	}
	// kubectl takes any object with a list of items for a List, whatever its kind (unstructured's
	// decoder looks for the key alone), and applies the items, not the object: so are they
	// judged. One over MaxDocumentBytes whose kind is no List's stays an error, as read from a
	// stream (listError).
	if size != 0 && tm.Items != nil && (strings.HasSuffix(tm.Kind, "List") || size <= MaxDocumentBytes) {
		var out []*engine.Object
		var errs []error
		for i, item := range tm.Items {
			if len(item) > MaxDocumentBytes {
				if err := itemTooLarge(len(item), compactSize(item)); err != nil {
					errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
					continue
				}
			}
			objs, err := decodeJSON(typedItem(item, tm.APIVersion, tm.Kind), 0, opts)
			if err != nil {
				errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
			}
			out = append(out, objs...) // none with an error but ErrContainersNotJudged
		}
		return out, errors.Join(errs...)
	}
	if size > MaxDocumentBytes {
		return nil, tooLarge(size, MaxDocumentBytes)
	}
	return decodeObject(js, tm, opts)
}

// typedItem returns item, an item of a List whose apiVersion and kind are listAPIVersion and
// listKind, with the apiVersion and kind kubectl gives it when it names neither: the List's
// apiVersion, and its kind less the List suffix. The API server writes no apiVersion or kind
// in the items of a PodList, a DeploymentList, ... (kubectl get --raw, a client's dump), and
// kubectl apply takes them from the List (unstructured's decodeToList), so they are judged as
// it applies them. A v1 List's items must name their own. Any other item is returned as it is.
func typedItem(item []byte, listAPIVersion, listKind string) []byte {
	kind := strings.TrimSuffix(listKind, "List")
	if kind == "" || listAPIVersion == "" {
		return item
	}
	trimmed := bytes.TrimSpace(item)
	if len(trimmed) < 2 || trimmed[0] != '{' {
		return item
	}
	if top, err := readTop(trimmed); err != nil || top.APIVersion != nil || top.Kind != nil {
		return item
	}
	head, err := json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}{listAPIVersion, kind})
	if err != nil {
		return item
	}
	out := append(head[:len(head)-1:len(head)-1], ',')
	rest := bytes.TrimSpace(trimmed[1:])
	if rest[0] == '}' {
		out = out[:len(out)-1]
	}
	return append(out, rest...)
}

// errNoKind is typeMetaError's error for a document without a kind.
var errNoKind = errors.New("not a Kubernetes object: kind is missing")

// typeMetaError is the error of a document that tm says is no object: its kind missing, or
// its apiVersion; nil for one that has both.
func typeMetaError(tm typeMeta) error {
	switch {
	case tm.Kind == "":
		return errNoKind
	case tm.APIVersion == "":
		return fmt.Errorf("%s: apiVersion is missing", tm.Kind)
	}
	return nil
}

// decodeObject decodes one object (no List) whose apiVersion and kind are known.
func decodeObject(js []byte, tm typeMeta, opts Options) ([]*engine.Object, error) {
	if err := typeMetaError(tm); err != nil {
		return nil, err
	}
	if strings.HasPrefix(tm.APIVersion, "kustomize.config.k8s.io/") {
		return nil, nil
	}
	if err := checkServed(tm.APIVersion, tm.Kind); err != nil {
		return nil, err
	}
	metadataOnly := opts.MetadataOnly != nil && opts.MetadataOnly(tm.Kind) && !isCSV(tm.APIVersion, tm.Kind)
	// A custom resource kept for its metadata alone whose JSON customContainers searches is
	// decoded whole once, for both: read for its metadata (readTop) and then decoded whole
	// again by customContainers, RayServices, JobSets and other kinds that run containers
	// were read twice over.
	var whole map[string]any
	if metadataOnly && !tm.onlyMetadata && decodeWholeOnce && searchesWhole(tm.APIVersion, tm.Kind, js) {
		whole, _ = unmarshalGeneric(js) // on an error, decodeTyped reads it as before and says what is wrong
	}
	obj, err := decodeTyped(tm.APIVersion, tm.Kind, js, metadataOnly, tm.onlyMetadata, whole)
	if err != nil {
		return nil, err
	}
	if obj.GetName() == "" && obj.GetGenerateName() == "" {
		return nil, fmt.Errorf("%s: metadata.name is missing", tm.Kind)
	}
	if isClusterScoped(tm.APIVersion, tm.Kind) && obj.GetNamespace() != "" {
		// The API server ignores a namespace on a cluster-scoped object; so do the checks.
		obj.SetNamespace("")
	}
	objs := []*engine.Object{engine.NewObject(obj, tm.APIVersion, tm.Kind)}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return objs, nil
	}
	if isCSV(tm.APIVersion, tm.Kind) {
		installed, err := expandCSV(js, u)
		if err != nil {
			return nil, err
		}
		objs = append(objs, installed...)
	}
	if whole == nil {
		whole = u.Object
	}
	return objs, customContainers(tm.APIVersion, tm.Kind, obj.GetName(), obj.GetNamespace(), js, whole)
}

// decodeWholeOnce is a variable for TestCustomResourcesDecodedWholeOnceAsBefore, which decodes
// with it off too: read for their metadata, then decoded whole again by customContainers.
var decodeWholeOnce = true

// decodeTyped decodes js into the Go type of its kind, or as unstructured; with metadataOnly an
// unstructured object keeps only its apiVersion, kind and metadata. onlyMetadata says that js
// holds no other key: then decoding it whole is keeping only those, in one pass. whole, when
// not nil, is js decoded whole already (unmarshalGeneric), whose values under those keys are
// kept.
func decodeTyped(apiVersion, kind string, js []byte, metadataOnly, onlyMetadata bool, whole map[string]any) (engine.KubeObject, error) {
	if convert := olderVersions[versionKind{apiVersion, kind}]; convert != nil {
		obj, err := convert(js)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, locateError(describeJSONError(err), js))
		}
		return obj, nil
	}
	if newObj := typedFor(apiVersion, kind); newObj != nil {
		obj, err := unmarshalTyped(js, newObj)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, locateError(describeJSONError(err), js))
		}
		if err := unknownOwnField(apiVersion, js, newObj); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		return obj, nil
	}
	u := &unstructured.Unstructured{}
	if metadataOnly && whole != nil {
		// The same values under the same keys: unmarshalGeneric decodes as sigs.k8s.io/json
		// does, as the readTop path below decodes each of the three.
		u.Object = make(map[string]any, 3)
		for _, k := range [...]string{"apiVersion", "kind", "metadata"} {
			if v, ok := whole[k]; ok {
				u.Object[k] = v
			}
		}
	} else if metadataOnly && !onlyMetadata {
		// The same values under the same keys as decoding the whole object, without building
		// the rest: the decoder still checks all of js first.
		top, err := readTop(js)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, describeJSONError(err))
		}
		u.Object = make(map[string]any, 3)
		for _, kv := range [...]struct {
			k   string
			raw []byte
		}{{"apiVersion", top.APIVersion}, {"kind", top.Kind}, {"metadata", top.Metadata}} {
			k, raw := kv.k, kv.raw
			if raw == nil { // not in js (null is "null")
				continue
			}
			var v any
			if err := unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", kind, describeJSONError(err))
			}
			u.Object[k] = v
		}
	} else {
		var err error
		if u.Object, err = unmarshalGeneric(js); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, describeJSONError(err))
		}
	}
	if _, ok := u.Object["metadata"].(map[string]any); !ok && u.Object["metadata"] != nil {
		return nil, fmt.Errorf("%s: metadata is not a map", kind)
	}
	return u, nil
}

// unknownOwnField refuses a field this operator's own kinds (a ControlException, a
// ComplianceProfile) do not have, as kubectl apply does: it asks the API server for strict field
// validation (--validate=strict, its default), and the CRD's schema is made from the Go types.
// Such an object never exists in the cluster, and read without the field it could mean more
// than was written: an exception whose match says name for names matched every object of its
// namespace. Other kinds are read as before: judging an object kubectl would refuse fails no
// more than it should.
func unknownOwnField(apiVersion string, js []byte, newObj func() engine.KubeObject) error {
	if group, _, _ := strings.Cut(apiVersion, "/"); group != v1alpha1.GroupVersion.Group {
		return nil
	}
	strict, err := kjson.UnmarshalStrict(js, newObj(), kjson.DisallowUnknownFields)
	if err != nil || len(strict) == 0 {
		return nil // read as before; unmarshalTyped decided
	}
	return strict[0]
}

// describeTypeMeta says in words what is wrong with a document that does not even have the
// shape of an object.
func describeTypeMeta(err error) error {
	te, ok := asTypeError(err)
	if !ok {
		return describeDepth(err)
	}
	got := te.Value
	switch {
	case got == "array":
		got = "list"
	case got == "object":
		got = "map"
	case got == "bool":
		got = "boolean"
	case strings.HasPrefix(got, "number"):
		got = "number"
	}
	switch te.Field {
	case "":
		return fmt.Errorf("not a Kubernetes object: the document is a %s, not a map with apiVersion and kind", got)
	case "items":
		return fmt.Errorf("not a Kubernetes object: items must be a list, not a %s", got)
	}
	return fmt.Errorf("not a Kubernetes object: %s must be a string, not a %s", te.Field, got)
}

// describeDepth words the JSON decoders' limit on nesting (encoding/json's and
// sigs.k8s.io/json's) as yaml.v2 words its own.
func describeDepth(err error) error {
	if strings.HasSuffix(err.Error(), "exceeded max depth") {
		return errors.New("exceeded max depth of 10000")
	}
	return err
}

// describeJSONError names the field of a type mismatch the way kubectl does.
func describeJSONError(err error) error {
	if te, ok := asTypeError(err); ok && te.Field != "" {
		return fmt.Errorf("%s: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err
}

// locateError adds the field path to errors that the JSON decoder reports without one: a custom
// unmarshaller's, such as a resource quantity that does not parse.
func locateError(err error, js []byte) error {
	if !strings.Contains(err.Error(), "quantities must match") {
		return err
	}
	var m map[string]any
	if unmarshal(js, &m) != nil {
		return err
	}
	if p := findBadQuantity(m, ""); p != "" {
		return fmt.Errorf("%s: %w", p, err)
	}
	return err
}

// findBadQuantity returns the path of the first string that does not parse as a quantity under
// a key that holds quantities.
func findBadQuantity(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := path + "." + k
			if path == "" {
				child = k
			}
			if quantityParents[k] {
				if q, ok := t[k].(map[string]any); ok {
					for _, qk := range sortedKeys(q) {
						if str, ok := q[qk].(string); ok {
							if _, err := resource.ParseQuantity(str); err != nil {
								return child + "." + qk
							}
						}
					}
				}
			}
			if p := findBadQuantity(t[k], child); p != "" {
				return p
			}
		}
	case []any:
		for i, item := range t {
			if p := findBadQuantity(item, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

var quantityParents = map[string]bool{"limits": true, "requests": true, "capacity": true, "hard": true, "used": true,
	"min": true, "max": true, "default": true, "defaultRequest": true, "maxLimitRequestRatio": true, "overhead": true, "allocatable": true}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var yamlLine = regexp.MustCompile(`yaml: line (\d+)`)

// shiftYAMLLine turns a YAML parser's line, counted from the document's start, into a line of
// the file.
func shiftYAMLLine(err error, docLine int) error {
	msg := err.Error()
	loc := yamlLine.FindStringSubmatchIndex(msg)
	if loc == nil || docLine <= 1 {
		return err
	}
	n, convErr := strconv.Atoi(msg[loc[2]:loc[3]])
	if convErr != nil {
		return err
	}
	return errors.New(msg[:loc[2]] + strconv.Itoa(n+docLine-1) + msg[loc[3]:])
}

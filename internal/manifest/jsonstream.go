package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxItemBytes is the most bytes, whitespace included, a List's item read from a stream may
// have (readJSONStream). An item's limit is MaxDocumentBytes of JSON without whitespace
// (itemTooLarge), and kubectl indents what it writes by four spaces a level: the largest
// CustomResourceDefinitions of ../shared/corpus take about 1.6 times their compact size so
// indented. This bounds what an item mostly of whitespace holds in memory.
const maxItemBytes = 8 * MaxDocumentBytes

// listFrom is the size past which a List read from a stream is read item by item
// (readJSONStream, yamlList): MaxDocumentBytes, a variable so that tests can read small Lists
// so.
var listFrom = MaxDocumentBytes

// itemTooLarge is the error of a List's item of size bytes of JSON, compact of them without
// whitespace, or nil when it is within the limits (MaxDocumentBytes of compact JSON,
// maxItemBytes in all). The limit is on the JSON without whitespace so that an object is read
// however it was indented: `kubectl get -o json` indents by four spaces a level, and the
// largest CRDs in real clusters (Argo CD's) are then over 4 MiB where their YAML and compact
// JSON are under 3.
func itemTooLarge(size, compact int) error {
	switch {
	case compact > MaxDocumentBytes:
		return fmt.Errorf("%d bytes as JSON without whitespace; the limit is %d", compact, MaxDocumentBytes)
	case size > maxItemBytes:
		return fmt.Errorf("%d bytes as JSON with whitespace; the limit is %d", size, maxItemBytes)
	}
	return nil
}

// compactSize is how many bytes of js, one JSON value, are not whitespace outside its strings.
func compactSize(js []byte) int {
	n, inString, escaped := 0, false, false
	for _, c := range js {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			n++
			inString = c == '"'
		}
	}
	return n
}

// jsonReader reads a stream of JSON values a chunk at a time, for readJSONStream. Offsets are
// the stream's: buf holds its bytes from off on, and what is read next is kept from keep on.
// It reads each chunk into the same buffer, after what it keeps of the last one, and grows it
// only for a value larger than a chunk: whatever is taken of it to keep (a document, an item)
// is a copy. Reading into a new buffer each time (as readStream does, so that a YAML
// stream's documents are slices of it) took 0.11 s of a core more on a List of 158 MB: clearing
// new memory, where a copy (bytes.Clone) clears none.
type jsonReader struct {
	r    io.Reader
	buf  []byte
	off  int // the stream's offset of buf[0]
	pos  int // the next byte to scan
	keep int // what is read next is kept from here on; before it, let go
	// bound, when not 0, is the offset past which the value being scanned (skip) is let go as
	// it is scanned instead of kept: dropped then says that some of it was.
	bound   int
	dropped bool
	// lines counts the newlines before lineAt.
	lines, lineAt int
	ended         bool   // nothing more to read
	err           error  // why, if not the end of the stream
	open          []byte // skip's brackets not yet closed
}

// errSyntax is the JSON scanner's error; syntaxError words it with its line.
type errSyntax struct {
	at  int
	msg string
}

func (e *errSyntax) Error() string { return e.msg }

// more reads the next chunk, keeping what is kept, and reports whether it read anything.
func (j *jsonReader) more() bool {
	if j.ended {
		return false
	}
	if j.bound != 0 && j.pos > j.bound && j.keep < j.pos {
		j.keep, j.dropped = j.pos, true
	}
	j.lineOf(j.keep) // the lines of what is let go are counted first
	rest := j.buf[j.keep-j.off:]
	buf := j.buf[:len(rest)]
	if cap(j.buf) < len(rest)+streamChunk {
		buf = make([]byte, len(rest), max(2*streamChunk, 2*len(rest)))
	}
	copy(buf, rest)
	n, err := io.ReadFull(j.r, buf[len(rest):len(rest)+streamChunk])
	j.buf, j.off = buf[:len(rest)+n], j.keep
	if err != nil {
		j.ended = true
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			j.err = err
		}
	}
	return n > 0
}

// end is the stream's offset just past what has been read.
func (j *jsonReader) end() int { return j.off + len(j.buf) }

// lineOf is the 1-based line of the byte at offset at, which is kept and not before any asked
// about before.
func (j *jsonReader) lineOf(at int) int {
	if at > j.lineAt {
		j.lines += bytes.Count(j.buf[j.lineAt-j.off:at-j.off], []byte("\n"))
		j.lineAt = at
	}
	return j.lines + 1
}

// bytes is what the stream holds from offset from (kept) to to.
func (j *jsonReader) bytes(from, to int) []byte { return j.buf[from-j.off : to-j.off] }

// next skips whitespace and returns the next byte, or false at the end of the stream.
func (j *jsonReader) next() (byte, bool) {
	for {
		for i := j.pos - j.off; i < len(j.buf); i++ {
			switch c := j.buf[i]; c {
			case ' ', '\t', '\n', '\r':
			default:
				j.pos = j.off + i
				return c, true
			}
		}
		j.pos = j.end()
		if !j.more() {
			return 0, false
		}
	}
}

// expect skips whitespace and the byte c, or fails saying what was found instead.
func (j *jsonReader) expect(c byte, where string) error {
	got, ok := j.next()
	switch {
	case !ok:
		return &errSyntax{j.pos, "unexpected end of JSON input"}
	case got != c:
		return &errSyntax{j.pos, fmt.Sprintf("invalid character %q %s", got, where)}
	}
	j.pos++
	return nil
}

// skip scans the value that starts at the next byte that is not whitespace, to just past its
// end, and returns how many bytes of whitespace outside strings it holds. It checks only what
// finding the end needs (strings, and brackets that match): the value is decoded later.
func (j *jsonReader) skip() (space int, err error) {
	c, ok := j.next()
	if !ok {
		return 0, &errSyntax{j.pos, "unexpected end of JSON input"}
	}
	switch c {
	case '"':
		return 0, j.skipString()
	case '{', '[':
	case ',', ':', '}', ']':
		return 0, &errSyntax{j.pos, fmt.Sprintf("invalid character %q looking for beginning of value", c)}
	default: // a number, true, false or null: up to the next delimiter
		for {
			for i := j.pos - j.off; i < len(j.buf); i++ {
				switch j.buf[i] {
				case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
					j.pos = j.off + i
					return 0, nil
				}
			}
			j.pos = j.end()
			if !j.more() {
				return 0, nil
			}
		}
	}
	open := j.open[:0]
	defer func() { j.open = open }()
	for {
		i := j.pos - j.off
		for ; i < len(j.buf); i++ {
			switch c := j.buf[i]; c {
			case ' ', '\t', '\n', '\r':
				space++
			case '{', '[':
				open = append(open, c)
			case '}', ']':
				if want := open[len(open)-1] + 2; c != want { // '{'+2 is '}', '['+2 is ']'
					return space, &errSyntax{j.off + i, fmt.Sprintf("invalid character %q where %q closes", c, want)}
				}
				if open = open[:len(open)-1]; len(open) == 0 {
					j.pos = j.off + i + 1
					return space, nil
				}
			case '"':
				j.pos = j.off + i
				if err := j.skipString(); err != nil {
					return space, err
				}
				i = j.pos - j.off - 1
			}
		}
		j.pos = j.end()
		if !j.more() {
			return space, &errSyntax{j.pos, "unexpected end of JSON input"}
		}
	}
}

// skipString scans the string that starts at the next byte, to just past its closing quote.
// A string longer than a chunk is scanned on from where the last chunk ended (escaped says
// whether its first byte is escaped), so that one over bound is let go as it is read.
func (j *jsonReader) skipString() error {
	i, escaped := j.pos-j.off+1, false
	for {
		for i < len(j.buf) {
			if escaped {
				i, escaped = i+1, false
				continue
			}
			q := bytes.IndexByte(j.buf[i:], '"')
			if q < 0 {
				escaped = backslashes(j.buf[i:])%2 == 1
				i = len(j.buf)
				break
			}
			if backslashes(j.buf[i:i+q])%2 == 0 {
				j.pos = j.off + i + q + 1
				return nil
			}
			i += q + 1
		}
		j.pos = j.end()
		if !j.more() {
			return &errSyntax{j.pos, "unexpected end of JSON input"}
		}
		i = j.pos - j.off
	}
}

// backslashes is how many backslashes b ends with.
func backslashes(b []byte) int {
	n := 0
	for k := len(b) - 1; k >= 0 && b[k] == '\\'; k-- {
		n++
	}
	return n
}

// readJSONStream reads a stream of JSON values whose first bytes, head, have been read already
// from r (all of it, with ended), and adds its values as documents in parts (p). A value is a
// document of its own, cut as splitJSON cuts a stream read whole, except for the items of a
// List over MaxDocumentBytes (kubectl get -A -o json): each of those is a document of its own,
// added as soon as it is read, so that a cluster's objects are decoded on every core as they
// are read and the List is never held whole. Held whole, the 20k copies of the corpus as one
// List of 158 MB took 7.8-10.9 s and 683-818 MiB; item by item, 0.57-0.92 s and 133-136 MiB.
//
// A List is known for one by its kind, which kubectl writes after its items: an object over
// MaxDocumentBytes is read as a List once its items have passed that size, unless a kind before
// them says it is none, and one that then is no List is an error (the error of a document over
// MaxDocumentBytes) after its items have been read. One over MaxDocumentBytes before its items
// is an error too.
//
// As splitJSON, a stream whose first or second value is not JSON is read on as YAML from the
// end of the value before it, when that reads as YAML: the rest of the stream is then read
// whole, as after any value that is not an object.
func readJSONStream(head []byte, r io.Reader, ended bool, p *parts) error {
	j := &jsonReader{r: r, buf: head, ended: ended}
	after := 0 // the end of the value before this one
	for index := 1; ; index++ {
		c, ok := j.next()
		if !ok {
			return j.err
		}
		start := j.pos
		line := j.lineOf(start)
		j.keep = start
		from, fromLine := start, line // where splitJSONOn reads the rest from
		if index <= 2 {
			// Kept, so that the rest can be read as YAML from there (splitJSONOn).
			j.keep, from = after, after
			fromLine -= bytes.Count(j.bytes(after, start), []byte("\n"))
		}
		// rest is what splitJSONOn makes of the rest of the stream, read whole.
		rest := func() []document {
			for j.pos = j.end(); j.more(); j.pos = j.end() {
			}
			return splitJSONOn(bytes.Clone(j.bytes(from, j.end())), index, fromLine)
		}
		if c != '{' {
			// Anything else, a value or not JSON at all, is rare here: the rest is read whole.
			p.take(rest()...)
			return j.err
		}
		doc, list, err := j.object(start, index, line, p)
		switch {
		case err != nil && j.err != nil:
			// Cut off by a failed read: the documents read whole before it are kept (taken
			// already), and the failure is the stream's error, not this document's.
			return j.err
		case err != nil && doc.index == 0 && index <= 2:
			// Held whole, and it may be YAML: the rest is read whole.
			docs := rest()
			if len(docs) == 0 || docs[len(docs)-1].err == nil && !docs[len(docs)-1].yaml { // not read as YAML
				docs = append(docs, document{index: index, line: line, err: j.syntaxError(err)})
			}
			p.take(docs...)
			return j.err
		case err != nil && doc.index == 0:
			// Held whole: the error as splitJSON words it on what has been read (the scanner
			// checks less than encoding/json, so that finds it there too), and the stream ends.
			docs := splitJSONFrom(bytes.Clone(j.bytes(start, j.end())), index, line)
			if len(docs) == 0 || docs[len(docs)-1].err == nil {
				docs = append(docs, document{index: index, line: line, err: j.syntaxError(err)})
			}
			p.take(docs...)
			return j.err
		case err != nil:
			p.take(document{index: index, line: line, err: j.syntaxError(err)})
			return j.err
		case doc.err != nil:
			p.take(doc)
		case list: // its items are taken already
		default:
			docs := splitJSONFrom(doc.body, index, line)
			if len(docs) != 1 || docs[0].err != nil {
				if index <= 2 {
					docs = rest()
				}
				p.take(docs...)
				return j.err
			}
			p.take(docs...)
		}
		after = j.pos
	}
}

// syntaxError words the scanner's error with its line.
func (j *jsonReader) syntaxError(err error) error {
	var se *errSyntax
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at line %d: %s", j.lineOf(max(se.at, j.keep, j.lineAt)), se.msg)
	}
	return err
}

// object scans the object that starts at start, the index'th value of the stream, on line.
// Up to MaxDocumentBytes it is kept whole and returned as doc's body. Once its items have
// passed that size it is read as a List (list): each item is added (p) as a document as it is
// read, and doc.err is the error of an object that turns out to be no List. Over
// MaxDocumentBytes otherwise, it is let go as it is read, and doc.err is its error. An error
// means that the stream cannot be read on: with doc.index 0, the object was held whole and the
// error is to be worded as splitJSON words it.
func (j *jsonReader) object(start, index, line int, p *parts) (doc document, list bool, err error) {
	var (
		members []byte // with list, its members but items, as an object: what it is
		noList  bool   // its kind, before its items, is not a List's
		lost    bool   // with list, a member after items was over MaxDocumentBytes and let go
		twice   bool   // with list, items was written again after them
	)
	fail := func(err error) (document, bool, error) {
		if !list && !j.dropped {
			return document{}, false, err
		}
		return document{index: index, line: line}, list, err
	}
	j.bound, j.dropped = start+MaxDocumentBytes, false
	defer func() { j.bound, j.dropped = 0, false }()
	j.pos++ // {
	for n := 0; ; n++ {
		c, ok := j.next()
		if !ok {
			return fail(&errSyntax{j.pos, "unexpected end of JSON input"})
		}
		if c == '}' {
			j.pos++
			break
		}
		if n > 0 {
			if err := j.expect(',', "after object key:value pair"); err != nil {
				return fail(err)
			}
			if c, ok = j.next(); !ok {
				return fail(&errSyntax{j.pos, "unexpected end of JSON input"})
			}
		}
		if c != '"' {
			return fail(&errSyntax{j.pos, fmt.Sprintf("invalid character %q looking for beginning of object key string", c)})
		}
		key := j.pos
		if list {
			j.keep, j.bound, j.dropped = key, key+MaxDocumentBytes, false
		}
		if err := j.skipString(); err != nil {
			return fail(err)
		}
		itemsKey := !j.dropped && keyIs(j.bytes(key, j.pos), "items")
		kindKey := !list && !j.dropped && keyIs(j.bytes(key, j.pos), "kind")
		// A List's items key comes within MaxDocumentBytes (dropped says only that what was
		// over it has been let go at a read).
		isItems := itemsKey && !list && !noList && j.pos-start <= MaxDocumentBytes
		if err := j.expect(':', "after object key"); err != nil {
			return fail(err)
		}
		if c, ok := j.next(); isItems && ok && c == '[' {
			before := bytes.Clone(j.bytes(start, key))
			if list, err = j.items(start, index, line, listTypeBefore(before), p); err != nil {
				return fail(err)
			}
			if list {
				members = bytes.TrimSuffix(bytes.TrimRight(before, " \t\r\n"), []byte(","))
			} else {
				j.bound = start + MaxDocumentBytes
			}
			continue
		}
		value := j.pos
		if _, err := j.skip(); err != nil {
			return fail(err)
		}
		if kindKey && !j.dropped {
			var kind string
			noList = json.Unmarshal(j.bytes(value, j.pos), &kind) == nil && !strings.HasSuffix(kind, "List")
		}
		switch {
		case !list:
		case j.dropped:
			lost = true
		case itemsKey:
			// Read whole, the last items written would be the List's (encoding/json keeps
			// the last of a name written twice); read as they arrive, the first were.
			twice = true
		default:
			if len(members) > 1 {
				members = append(members, ',')
			}
			members = append(members, j.bytes(key, j.pos)...)
		}
	}
	size := j.pos - start
	switch {
	case list && lost, !list && (j.dropped || size > MaxDocumentBytes):
		return document{index: index, line: line, err: tooLarge(size, MaxDocumentBytes)}, list, nil
	case list && twice:
		return document{index: index, line: line, err: errors.New("a List whose items are written twice")}, true, nil
	case list:
		return document{index: index, line: line, err: listError(append(members, '}'), size)}, true, nil
	}
	return document{body: bytes.Clone(j.bytes(start, j.pos)), index: index, line: line}, false, nil
}

// keyIs reports whether raw, an object's key as written (a JSON string), is name as
// encoding/json and sigs.k8s.io/json read it: "\u0069tems" is items to them, and to kubectl.
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return len(raw) == len(name)+2 && string(raw[1:len(raw)-1]) == name
	}
	var key string
	return json.Unmarshal(raw, &key) == nil && key == name
}

// items scans the items of the object at start, from their opening bracket. It holds them
// while the object is within MaxDocumentBytes; once past it, the object is a List (list) and
// its items documents of their own, added (p) as they are read: those held, then each as soon
// as it is read. Each is let go as it is read once over maxItemBytes.
func (j *jsonReader) items(start, index, line int, listType typeMeta, p *parts) (list bool, err error) {
	type held struct {
		body  []byte
		space int
	}
	var kept []held
	add := func(i int, body []byte, size, space int) {
		d := document{index: index, line: line, item: i + 1, listAPIVersion: listType.APIVersion, listKind: listType.Kind}
		if d.err = itemTooLarge(size, size-space); d.err == nil {
			d.body = body
		}
		p.take(d)
	}
	toList := func() {
		list = true
		for k, h := range kept {
			add(k, h.body, len(h.body), h.space)
		}
		kept = nil
	}
	j.pos++ // [
	for i := 0; ; i++ {
		c, ok := j.next()
		if !ok {
			return list, &errSyntax{j.pos, "unexpected end of JSON input"}
		}
		if !list && j.pos-start > listFrom {
			toList()
		}
		if c == ']' {
			j.pos++
			return list, nil
		}
		if i > 0 {
			if err := j.expect(',', "after array element"); err != nil {
				return list, err
			}
			if _, ok := j.next(); !ok {
				return list, &errSyntax{j.pos, "unexpected end of JSON input"}
			}
		}
		from := j.pos
		if list {
			j.keep = from
		}
		j.bound, j.dropped = from+maxItemBytes, false
		space, err := j.skip()
		if err != nil {
			return list, err
		}
		if j.dropped && !list {
			toList() // over maxItemBytes, and so the object over MaxDocumentBytes
		}
		var body []byte
		if !j.dropped {
			body = bytes.Clone(j.bytes(from, j.pos))
		}
		if list {
			add(i, body, j.pos-from, space)
			j.keep = j.pos
		} else {
			kept = append(kept, held{body, space})
		}
	}
}

// listTypeBefore reads the apiVersion and kind of a List from its members before its items key,
// before (the API server writes them first): zero when they are not there.
func listTypeBefore(before []byte) typeMeta {
	members := bytes.TrimSuffix(bytes.TrimRight(before, " \t\r\n"), []byte(","))
	tm, err := readTypeMeta(append(bytes.Clone(members), '}'))
	if err != nil {
		return typeMeta{}
	}
	return typeMeta{APIVersion: tm.APIVersion, Kind: tm.Kind}
}

// listError is the error of a List read from a stream, whose members but items are members
// (an object), of size bytes in all: nil for a List, else the error decodeJSON gives that
// object whole.
func listError(members []byte, size int) error {
	tm, err := readTypeMeta(members)
	if err != nil {
		return describeTypeMeta(err)
	}
	if err := typeMetaError(tm); err != nil {
		return err
	}
	if !strings.HasSuffix(tm.Kind, "List") {
		return tooLarge(size, MaxDocumentBytes)
	}
	return nil
}

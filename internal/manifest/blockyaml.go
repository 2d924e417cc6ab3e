package manifest

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// blockJSON converts one YAML document to JSON in a single pass over its bytes, without a token
// stream or a node tree: a hand-written reader of the YAML that Kubernetes manifests are
// written in. Block mappings and sequences (indentless ones too), plain, single- and
// double-quoted scalars (folded over lines as yaml.v2 folds them), literal and folded block
// scalars (tabs in their text too), comments, flow collections (over lines too), and anchors
// and aliases on a block mapping's value or a sequence entry (node). The JSON is byte for byte
// what fastJSON writes (keys in document order, scalars resolved as yaml.v2 resolves them);
// fastJSON leaves a document with anchors, whose JSON holds yaml.v2's values.
//
// Anything else, and anything it is not sure of, makes ok false and the caller takes the
// fastJSON and then the yaml.v2 path, which also words the errors: anchors and aliases
// elsewhere, or standing for more than maxAliasedJSON, tags, directives, complex (?) keys,
// keys that are not strings, merge keys, duplicate keys, tabs outside a block scalar's text,
// a carriage return that is not part of a CR LF line break, a document that is a scalar or a
// flow collection, a flow scalar over lines, nesting deeper than maxFastDepth, any syntax
// error. TestBlockJSONCases, TestBlockJSONAliases, TestBlockJSONMatchesFastJSON and
// FuzzBlockJSON hold it to the other paths.
//
// drop says, once apiVersion and kind are read (both strings, before the key in question), that
// only apiVersion, kind and metadata of this object will be kept: the values of its other
// top-level keys are then read (so that every syntax error still sends the document to the slow
// path, which reports it) but not written. tm is as fastJSON's.
func blockJSON(body []byte, drop func(apiVersion, kind string) bool) (js []byte, tm *typeMeta, ok bool) {
	return blockJSONInto(body, drop, nil)
}

// BlockScratch is memory the block reader reuses from one document to the next: the JSON it
// writes, the keys of the mappings being read and the scalar being unescaped, and a document
// written with CR LF line breaks, as read with LF ones. The zero value is ready to use; a
// BlockScratch is for one goroutine.
type BlockScratch struct {
	out  []byte
	keys []string
	tmp  []byte
	lf   []byte
}

// blockJSONInto is blockJSON using mem's memory (nil: new memory): js is valid until mem is
// used again.
func blockJSONInto(body []byte, drop func(apiVersion, kind string) bool, mem *BlockScratch) (js []byte, tm *typeMeta, ok bool) {
	if mem == nil {
		mem = &BlockScratch{}
	}
	tabs, plain := plainText(body)
	if !plain && bytes.IndexByte(body, '\r') >= 0 {
		// Windows line breaks: read the document with LF ones.
		var lf bool
		if body, lf = lfOnly(body, mem.lf); lf {
			if cap(body) <= maxKeptBuffer {
				mem.lf = body[:0]
			}
			tabs, plain = plainText(body)
		}
	}
	if !plain {
		return nil, nil, false
	}
	p := blockParser{src: body, out: mem.out[:0], keys: mem.keys[:0], tmp: mem.tmp[:0], drop: drop, tabs: tabs}
	if drop == nil {
		p.reserve()
	}
	defer func() {
		// Keep the memory, as grown, for the next document; not a very large one's.
		if cap(p.out) <= maxKeptBuffer {
			mem.out = p.out[:0]
		}
		clear(p.keys[:cap(p.keys)]) // the keys share the document's bytes: do not hold them
		mem.keys, mem.tmp = p.keys[:0], p.tmp[:0]
	}()
	ok = p.document()
	if p.recount {
		// An alias after strings left out were counted by their length alone: read the
		// document again, counting them exactly.
		p = blockParser{src: body, out: p.out[:0], keys: p.keys[:0], tmp: p.tmp[:0], drop: drop, tabs: tabs, exact: true}
		if drop == nil {
			p.reserve()
		}
		ok = p.document()
	}
	if !ok {
		return nil, nil, false
	}
	return p.out, p.tm, true
}

// document reads the document, a block mapping or sequence, and reports whether the block
// reader decides it.
func (p *blockParser) document() bool {
	ind := p.nextLine()
	if ind < 0 {
		return false
	}
	p.pos = p.lineStart + ind
	var ok bool
	if p.seqEntry(p.pos) {
		ok = p.sequence(ind)
	} else {
		ok = p.mapping(ind, true)
	}
	// Not a tab outside a block scalar's text, nor too much JSON for aliases.
	return ok && p.nextLine() == eof && p.tabs == 0 && !(p.aliased && p.written() > maxAliasedJSON)
}

// plainText reports whether body holds only what the block reader takes: printable characters
// (the test of yaml.v2's reader) and tabs, no carriage return, byte order mark or Unicode line
// break (NEL, LS, PS, which YAML 1.1 reads as line breaks), and no line starting with "..." or
// "---" (document markers; splitDocuments cuts at the latter). It counts the tabs: the block
// reader takes them only in the text of a block scalar (blockScalar), where yaml.v2 keeps them
// as they are, and leaves a document with any other to the slow path.
func plainText(body []byte) (tabs int, ok bool) {
	if docMarker(body, 0) {
		return 0, false
	}
	for i := 0; ; {
		// Skip to the next byte that is not printable ASCII or a line feed not starting a
		// document marker (most of a manifest), not a byte at a time through those before it.
		var marker bool
		if i, marker = notPlainFrom(body, i); marker {
			return 0, false
		}
		if i == len(body) {
			break
		}
		c := body[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\t':
				tabs++
			case c < 0x20 || c == 0x7F:
				return 0, false
			}
			i++
			continue
		}
		size, ok := plainRune(body[i:])
		if !ok {
			return 0, false
		}
		i += size
	}
	return tabs, true
}

// notPlainFrom returns the index of the first byte at or after i in body that is neither
// printable ASCII nor a line feed, or len(body); marker true where a line starts with a
// document marker (docMarker) first. Sixteen bytes a loop (the first byte found in a word is
// exact: notPrintable8), then eight, then one; a line feed is looked at here and the loop goes
// on. plainText read eight bytes a loop, the slice taken anew for each, and returned to its own
// loop at every line feed: 47 M instructions in an offline scan of 2,996 objects, most of them
// the loops' own rather than the tests.
func notPlainFrom(body []byte, i int) (int, bool) {
	for {
		for ; i+16 <= len(body); i += 16 {
			b := (*[16]byte)(body[i : i+16])
			m0 := notPrintable8(binary.LittleEndian.Uint64(b[:8]))
			m1 := notPrintable8(binary.LittleEndian.Uint64(b[8:]))
			if m0|m1 != 0 {
				if m0 != 0 {
					i += bits.TrailingZeros64(m0) / 8
				} else {
					i += 8 + bits.TrailingZeros64(m1)/8
				}
				break
			}
		}
		if i+16 > len(body) {
			for ; i < len(body); i++ {
				if c := body[i]; c < 0x20 || c > 0x7E {
					break
				}
			}
		}
		if i == len(body) || body[i] != '\n' {
			return i, false
		}
		i++
		if docMarker(body, i) {
			return i, true
		}
	}
}

// lfOnly returns body with its CR LF line breaks as LF, in buf's memory: yaml.v2 reads CR LF as
// one line break, and writes every line break in a scalar as LF, so the JSON of the two is the
// same. false when body has a CR that does not start a CR LF (a line break by itself in YAML
// 1.1, which the block reader leaves to yaml.v2).
func lfOnly(body, buf []byte) ([]byte, bool) {
	out := buf[:0]
	for {
		i := bytes.IndexByte(body, '\r')
		if i < 0 {
			return append(out, body...), true
		}
		if i+1 == len(body) || body[i+1] != '\n' {
			return out, false
		}
		out = append(out, body[:i]...)
		body = body[i+1:]
	}
}

// plainRune decodes the UTF-8 character b starts with (not ASCII) and reports whether the block
// reader takes it: valid, printable as yaml.v2 reads, and not a line break or byte order mark.
func plainRune(b []byte) (size int, ok bool) {
	r, size := utf8.DecodeRune(b)
	return size, !(r == utf8.RuneError && size == 1 || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xFEFF ||
		r < 0xA0 || r > 0xD7FF && r < 0xE000 || r > 0xFFFD && r < 0x10000)
}

// docMarker reports whether a document marker ("---" or "...") starts at i, the start of a
// line.
func docMarker(body []byte, i int) bool {
	if i+2 >= len(body) {
		return false
	}
	c := body[i]
	return (c == '.' || c == '-') && body[i+1] == c && body[i+2] == c
}

// Eight bytes at a time (notPrintable8, eqMask, escapeMask8): each byte of byteOnes is 1, of byteTops
// 0x80.
const byteOnes, byteTops = 0x0101010101010101, 0x8080808080808080

// belowMask is not zero when a byte of w is below n (n at most 0x80): subtracting n from such a
// byte borrows into its top bit, which the byte did not have. A borrow changes only the bytes
// after the first such byte, so whether there is one is exact (which bits are set past it is
// not).
func belowMask(w uint64, n byte) uint64 { return (w - uint64(n)*byteOnes) &^ w & byteTops }

// notPrintable8 is not zero when a byte of w is not printable ASCII: below 0x20 (belowMask) or
// above 0x7E (adding 1 to such a byte sets its top bit, or it is set already). Its lowest set
// bit is the top bit of the first such byte (the lowest-addressed of eight read little-endian):
// a borrow or a carry moves only to the bytes after it.
func notPrintable8(w uint64) uint64 { return belowMask(w, 0x20) | (w+byteOnes|w)&byteTops }

// spaces returns the index of the first byte at or after i in src that is not a space, or
// len(src): eight bytes at a time (the lowest set bit of the bytes that differ from a space
// names the first such byte). A manifest's lines are indented by 6 to 12 spaces; nextLine
// counted them a byte at a time in 7% of the block reader's instructions.
func spaces(src []byte, i int) int {
	for ; i+8 <= len(src); i += 8 {
		if x := binary.LittleEndian.Uint64(src[i:]) ^ ' '*byteOnes; x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < len(src) && src[i] == ' ' {
		i++
	}
	return i
}

// eqMask is not zero when a byte of w is c (w xored with c has a zero byte there: belowMask of
// 1); its lowest set bit is the top bit of the first.
func eqMask(w uint64, c byte) uint64 { return belowMask(w^(uint64(c)*byteOnes), 1) }

// stop3 returns the index of the first byte at or after i in src that is a, b or c, or
// len(src), eight bytes at a time.
func stop3(src []byte, i int, a, b, c byte) int {
	for ; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:])
		if m := eqMask(w, a) | eqMask(w, b) | eqMask(w, c); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(src); i++ {
		if x := src[i]; x == a || x == b || x == c {
			return i
		}
	}
	return len(src)
}

// escapeMask8 is not zero when a byte of w is one a JSON string escapes (escapes): a control
// character (below 0x20), '"' or '\\'; bytes from 0x80 (UTF-8) are not. Its lowest set bit is
// the top bit of the first.
func escapeMask8(w uint64) uint64 { return belowMask(w, 0x20) | eqMask(w, '"') | eqMask(w, '\\') }

const (
	eof  = -1 // nextLine: no more content
	fail = -2 // nextLine: a line the block reader does not take
)

type blockParser struct {
	src       []byte
	pos       int // the next byte to read
	lineStart int // the start of the line pos is on
	out       []byte
	depth     int
	keys      []string // the keys of the mappings being read, innermost last
	tmp       []byte   // a scalar being folded or unescaped
	drop      func(apiVersion, kind string) bool
	// reserved: the room for the JSON of the whole document is made (reserve).
	reserved bool
	// discarding: the value being read is left out (drop), and out is cut back to discardFrom
	// after each entry of the mappings and sequences inside it, so that reading it costs no
	// more room than its deepest path.
	discarding  bool
	discardFrom int
	// exact: a string left out is counted as the bytes writeString would write
	// (jsonStringLen). Otherwise, until an alias is read, it is counted by its length and
	// quotes alone, and uncounted says so: that count decides nothing unless the document has
	// an alias, and the first alias then sets recount and stops the reading (blockJSONInto
	// reads the document again, exact). Scanning the strings for escapes cost 1.7% of an
	// offline scan's instructions, for the descriptions of custom resource definitions left out.
	exact, uncounted, recount bool

	// lastLine is one past the start of the line nextLine found last (0: none yet), and
	// lastInd its indentation.
	lastLine, lastInd int

	// The last scalar read: its value and whether it is a string (quoted, block or a plain
	// scalar that resolves to one). str aliases src or tmp: copy it to keep it.
	str      []byte
	isString bool
	strInTmp bool // str is in tmp, which the next scalar overwrites

	tm *typeMeta

	// The anchors met so far, in the order they were met (node), those whose node is still
	// being read among them; the bytes of JSON the document stood for that are not in out (cut
	// from it while discarding, or aliases read meanwhile, which write nothing); aliased: the
	// document has an alias.
	anchors  []blockAnchor
	notInOut int
	aliased  bool

	// tabs is how many tabs the document holds that no block scalar's text has taken yet; a
	// document is decided only once all are (a tab anywhere else goes to the slow path).
	tabs int
}

// reserve makes room in out for the JSON of the whole document, once: up front when nothing is
// left out, else once a key other than apiVersion, kind and metadata is to be written. The room
// for a document of which only the metadata is kept is not made: the largest documents, custom
// resource definitions of 0.6-0.8 MB in ../shared/corpus, are such, and with the collector off
// (a scan's memory budget) every buffer made for one stays memory touched for the first time.
// The room is about what the JSON needs (appending grows past it).
func (p *blockParser) reserve() {
	if p.reserved {
		return
	}
	p.reserved = true
	if want := len(p.src) + len(p.src)/8; cap(p.out) < want {
		p.out = append(make([]byte, 0, want), p.out...)
	}
}

// nextLine moves from the start of a line to the start of the next line that holds more than
// blanks or a comment and returns its indentation, or eof; pos is then at that line's start.
//
// A mapping or sequence that ends at a line less indented returns with pos at that line's
// start, and the collection it belongs to asks again (each of those it ends, in a schema's
// nested properties): the line found last is remembered (lastLine, at its start, and lastInd),
// not read again.
func (p *blockParser) nextLine() int {
	if p.pos == p.lastLine-1 {
		p.lineStart = p.pos
		return p.lastInd
	}
	src := p.src
	i := p.pos
	for i < len(src) {
		start := i
		i = spaces(src, i)
		if i < len(src) && src[i] != '\n' && src[i] != '#' {
			p.pos, p.lineStart = start, start
			p.lastLine, p.lastInd = start+1, i-start
			return i - start
		}
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			i = len(src)
			break
		}
		i += nl + 1
	}
	p.pos, p.lineStart = len(src), len(src)
	return eof
}

// lineEnd moves pos past the rest of the line, which must hold only blanks or a comment (after
// a blank); false if it holds anything else.
func (p *blockParser) lineEnd() bool {
	src := p.src
	i := p.pos
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if i < len(src) && src[i] == '#' {
		if i == p.pos {
			return false // a comment must follow a blank
		}
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			i = len(src)
		} else {
			i += nl
		}
	}
	if i == len(src) {
		p.pos, p.lineStart = i, i
		return true
	}
	if src[i] != '\n' {
		return false
	}
	p.pos, p.lineStart = i+1, i+1
	return true
}

// seqEntry reports whether a block sequence entry ("- " or a lone "-") starts at i.
func (p *blockParser) seqEntry(i int) bool {
	return i < len(p.src) && p.src[i] == '-' && (i+1 == len(p.src) || p.src[i+1] == ' ' || p.src[i+1] == '\n')
}

func (p *blockParser) enter() bool {
	p.depth++
	return p.depth <= maxFastDepth
}

// nodeAt reads the node that starts at pos, in column ind, on the line after its key or "-"
// or after the "-" on its line: a block collection, or a node inline would read. col is the
// column of the collection it belongs to.
func (p *blockParser) nodeAt(ind, col int) bool {
	switch {
	case p.seqEntry(p.pos):
		return p.sequence(ind)
	case p.isKey(p.pos):
		return p.mapping(ind, false)
	}
	return p.inline(col)
}

// sequence reads a block sequence whose first "-" is at pos, in column col.
func (p *blockParser) sequence(col int) bool {
	if !p.enter() {
		return false
	}
	p.out = append(p.out, '[')
	for n := 0; ; n++ {
		if n > 0 {
			p.out = append(p.out, ',')
		}
		p.pos++ // the "-"
		if !p.node(col, (*blockParser).entry) {
			return false
		}
		if p.discarding {
			p.cutTo(p.discardFrom) // an item of a value left out
		}
		ind := p.nextLine()
		if ind < col || ind == col && !p.seqEntry(p.lineStart+col) {
			break // the end of the sequence; what follows is the parent's to judge
		}
		if ind != col {
			return false
		}
		p.pos = p.lineStart + col
	}
	p.out = append(p.out, ']')
	p.depth--
	p.isString = false
	return true
}

// entry reads the node of a block sequence's entry: pos is after the "-". col is the
// sequence's column.
func (p *blockParser) entry(col int) bool {
	i := p.pos
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	if i == len(p.src) || p.src[i] == '\n' || p.src[i] == '#' {
		if !p.lineEnd() {
			return false
		}
		ind := p.nextLine()
		if ind > col {
			p.pos = p.lineStart + ind
			return p.nodeAt(ind, col)
		}
		p.out = append(p.out, "null"...)
		return true
	}
	p.pos = i
	return p.nodeAt(i-p.lineStart, col)
}

// mapping reads a block mapping whose first key is at pos, in column col. top is the
// document's mapping: it reads apiVersion and kind and may leave out other keys (drop).
func (p *blockParser) mapping(col int, top bool) bool {
	if !p.enter() {
		return false
	}
	base := len(p.keys)
	p.out = append(p.out, '{')
	written, dropped, others := 0, false, false
	var set map[string]struct{}
	var apiVersion, kind string
	var haveAPIVersion, haveKind, items bool
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		if p.dupKey(base, key, &set) {
			return false // yaml.v2 (strict) refuses a duplicate key: the slow path says so
		}
		mark := len(p.out)
		if written > 0 {
			p.out = append(p.out, ',')
		}
		p.writeString(unsafe.Slice(unsafe.StringData(key), len(key)))
		p.out = append(p.out, ':')
		skip := false
		if top {
			switch key {
			case "apiVersion", "kind", "metadata":
			case "items":
				if dropped {
					return false
				}
				items = true
			default:
				skip = haveAPIVersion && haveKind && !items && !strings.HasSuffix(kind, "List") &&
					p.drop != nil && p.drop(apiVersion, kind)
				if !skip {
					p.reserve()
				}
			}
		}
		p.isString = false
		if skip {
			p.discarding, p.discardFrom = true, mark
		}
		if !p.node(col, (*blockParser).value) {
			return false
		}
		if skip {
			p.discarding = false
		}
		if top && (key == "apiVersion" || key == "kind") {
			if p.isString {
				if key == "kind" {
					kind, haveKind = string(p.str), true
				} else {
					apiVersion, haveAPIVersion = string(p.str), true
				}
			} else {
				items = true // not a string: decodeJSON words the error, as for a List
			}
		}
		switch {
		case skip:
			p.cutTo(mark)
			dropped = true
		case p.discarding:
			p.cutTo(p.discardFrom) // an entry of a value left out
		default:
			written++
			others = others || top && key != "apiVersion" && key != "kind" && key != "metadata"
		}
		ind := p.nextLine()
		if ind < col {
			break
		}
		if ind != col {
			return false
		}
		p.pos = p.lineStart + col
	}
	p.keys = p.keys[:base]
	p.out = append(p.out, '}')
	p.depth--
	p.isString = false
	if top && haveAPIVersion && haveKind && !items && !strings.HasSuffix(kind, "List") {
		p.tm = &typeMeta{APIVersion: apiVersion, Kind: kind, onlyMetadata: !others}
	}
	return true
}

// isKey reports whether a simple key (a plain or quoted scalar on one line, then ": ") starts
// at i.
func (p *blockParser) isKey(i int) bool {
	src := p.src
	switch src[i] {
	case '"', '\'':
		q := src[i]
		for j := i + 1; j < len(src); j++ {
			switch src[j] {
			case '\n':
				return false
			case '\\':
				if q == '"' {
					j++
				}
			case q:
				if q == '\'' && j+1 < len(src) && src[j+1] == '\'' {
					j++
					continue
				}
				j++
				for j < len(src) && src[j] == ' ' {
					j++
				}
				return j < len(src) && src[j] == ':' && (j+1 == len(src) || src[j+1] == ' ' || src[j+1] == '\n')
			}
		}
		return false
	}
	if !plainStart(src, i) {
		return false
	}
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '\n':
			return false
		case ':':
			if j+1 == len(src) || src[j+1] == ' ' || src[j+1] == '\n' {
				return true
			}
		case '#':
			if src[j-1] == ' ' {
				return false
			}
		}
	}
	return false
}

// plainStart reports whether a plain scalar may start at i (in either context): not at an
// indicator, except "-" before a non-blank.
func plainStart(src []byte, i int) bool {
	switch src[i] {
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '?', ':', ' ', '\n':
		return false
	case '-':
		return i+1 < len(src) && src[i+1] != ' ' && src[i+1] != '\n'
	}
	return true
}

// key reads a simple key at pos and the ": " after it; pos is then after the ':'.
func (p *blockParser) key() (string, bool) {
	src := p.src
	i := p.pos
	if i >= len(src) {
		return "", false
	}
	var k []byte
	quoted := false
	switch src[i] {
	case '"', '\'':
		line := bytes.IndexByte(src[i:], '\n')
		if !p.quoted() || line >= 0 && p.pos > i+line {
			return "", false
		}
		k, quoted = p.str, true
		for p.pos < len(src) && src[p.pos] == ' ' {
			p.pos++
		}
	default:
		if !plainStart(src, i) {
			return "", false
		}
		j := i
		for {
			j = stop3(src, j, '\n', '#', ':')
			if j == len(src) || src[j] == '\n' || src[j] == '#' && src[j-1] == ' ' {
				return "", false
			}
			if src[j] == ':' && (j+1 == len(src) || src[j+1] == ' ' || src[j+1] == '\n') {
				break
			}
			j++
		}
		end := j
		for src[end-1] == ' ' {
			end--
		}
		k = src[i:end]
		if _, isString := resolvePlain(unsafe.String(&k[0], len(k))); !isString {
			return "", false // a key yaml.v2 reads as a bool, number, null or merge
		}
		p.pos = j
	}
	if p.pos >= len(src) || src[p.pos] != ':' || p.pos+1 < len(src) && src[p.pos+1] != ' ' && src[p.pos+1] != '\n' || p.pos-i > 1000 {
		return "", false // not a key, or longer than yaml.v2 takes for a simple key
	}
	p.pos++
	return p.keyString(k, quoted), true
}

// node reads, with read, the value of a block mapping's key (value) or the node of a block
// sequence's entry (entry), from pos (after the ':' or '-'), and an anchor (&name) or alias
// (*name) before it: the two ways manifests use them, to write a block collection or a scalar
// once and name it again further down (a pod's affinity, its tolerations, a set of labels).
// Anywhere else (a document, a key, a flow collection) the block reader leaves them to the
// slow path, as it does an anchor on the same line as a key ("- &a b: c" names the key, not
// the mapping) or on an alias, and an alias of an anchor it has not read or did not keep.
//
// The JSON an anchor names is the JSON written for its node (yaml.v2 reads an alias as the node
// it names), kept as bytes; an alias writes them again. A few kilobytes of YAML could so stand
// for gigabytes of JSON: a document with aliases is decided only while all the JSON it stands
// for, written or left out, stays under maxAliasedJSON, else the slow path refuses or reads it
// (checkAliases).
func (p *blockParser) node(col int, read func(*blockParser, int) bool) bool {
	src := p.src
	i := p.pos
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if i == len(src) || src[i] != '&' && src[i] != '*' {
		return read(p, col)
	}
	j := i + 1
	for j < len(src) && isNameByte(src[j]) {
		j++
	}
	if j == i+1 || j < len(src) && src[j] != ' ' && src[j] != '\n' {
		return false // no name, or one yaml.v2 ends at a character the block reader leaves
	}
	name := unsafe.String(&src[i+1], j-i-1)
	p.pos = j
	if src[i] == '*' {
		return p.alias(name) && p.lineEnd()
	}
	for j < len(src) && src[j] == ' ' {
		j++
	}
	if j < len(src) && (src[j] == '&' || src[j] == '*' || src[j] == '!' || p.isKey(j) || p.seqEntry(j)) {
		return false
	}
	start, before := len(p.out), p.written()
	k := len(p.anchors)
	p.anchors = append(p.anchors, blockAnchor{name: name, open: true})
	if !read(p, col) {
		return false
	}
	a := &p.anchors[k]
	a.open, a.size = false, p.written()-before
	if !p.discarding {
		a.json = append([]byte(nil), p.out[start:]...)
	}
	return true
}

// blockAnchor is a node the document names (&name): its JSON, or nil when the node was read
// while discarding, and the number of bytes of JSON it stands for either way; open while the
// node is being read.
type blockAnchor struct {
	name string
	json []byte
	size int
	open bool
}

// maxAliasedJSON bounds the JSON a document with aliases may stand for, written or left out,
// for the block reader to decide it: an eighth of MaxDocumentBytes, so that checkAliases, which
// counts a value's size otherwise (8 bytes for any number, bool or null; at most 4.5 times its
// JSON), would let it pass too.
const maxAliasedJSON = MaxDocumentBytes / 8

// alias writes the JSON of the node whose anchor was the last met named name, as yaml.v2 does
// (which names a node as it meets the anchor, before reading the node). While discarding, it
// writes nothing and counts the bytes it stands for.
//
// A node read to its end before another that holds it names it later (x: &a {k: &a v}, where
// *a is v): the anchors are kept in the order they were met, not read. When the last met is one
// whose node is still being read (x: &a {k: *a}), yaml.v2 refuses the document (the anchor's
// value contains itself), and the block reader leaves it to the slow path.
func (p *blockParser) alias(name string) bool {
	if p.uncounted {
		p.recount = true // what the document stands for is known only counted exactly
		return false
	}
	for k := len(p.anchors) - 1; k >= 0; k-- {
		a := &p.anchors[k]
		if a.name != name {
			continue
		}
		if a.open {
			return false
		}
		p.aliased, p.isString = true, false
		if p.discarding {
			p.notInOut += a.size
		} else {
			if a.json == nil {
				return false // read while discarding: the slow path reads the document whole
			}
			p.out = append(p.out, a.json...)
		}
		return p.written() <= maxAliasedJSON
	}
	return false // no such anchor before it: yaml.v2 says so
}

// written is how many bytes of JSON the document has stood for so far, in out or not.
func (p *blockParser) written() int { return len(p.out) + p.notInOut }

// cutTo cuts out back to n bytes, counting what it cuts.
func (p *blockParser) cutTo(n int) {
	p.notInOut += len(p.out) - n
	p.out = p.out[:n]
}

// value reads the value of a block mapping's key: pos is after the ':'. col is the mapping's
// column.
func (p *blockParser) value(col int) bool {
	src := p.src
	i := p.pos
	for i < len(src) && src[i] == ' ' {
		i++
	}
	if i < len(src) && src[i] != '\n' && src[i] != '#' {
		p.pos = i
		return p.inline(col)
	}
	if !p.lineEnd() {
		return false
	}
	ind := p.nextLine()
	switch {
	case ind > col:
		p.pos = p.lineStart + ind
		return p.nodeAt(ind, col)
	case ind == col && p.seqEntry(p.lineStart+col):
		p.pos = p.lineStart + col
		return p.sequence(col)
	}
	p.out = append(p.out, "null"...)
	return true
}

// inline reads a node that starts on the line of its key or "-": a scalar or a flow
// collection. col is the column of the collection it belongs to. pos is then at the start of
// the line after it.
func (p *blockParser) inline(col int) bool {
	switch p.src[p.pos] {
	case '"', '\'':
		if !p.quoted() {
			return false
		}
		p.writeString(p.str)
		return p.lineEnd()
	case '|', '>':
		return p.blockScalar(col)
	case '[', '{':
		if !p.flow() {
			return false
		}
		return p.lineEnd()
	case ':':
		// ":x" is a plain scalar in block context (":9090", "::1").
		if p.pos+1 < len(p.src) && p.src[p.pos+1] != ' ' && p.src[p.pos+1] != '\n' {
			return p.plain(col)
		}
		return false
	}
	if !plainStart(p.src, p.pos) {
		return false
	}
	return p.plain(col)
}

// quoted reads a single- or double-quoted scalar at pos into str, as yaml.v2 does: escapes,
// and line breaks folded (a single break is a space, n+1 breaks are n newlines, blanks around
// breaks dropped). Its continuation lines must be indented past col. pos is then after the
// closing quote.
func (p *blockParser) quoted() bool {
	src := p.src
	q := src[p.pos]
	i := p.pos + 1
	start := i
	// The common case: one line, no escapes.
	for i < len(src) {
		c := src[i]
		if c == q || c == '\\' && q == '"' || c == '\n' {
			break
		}
		i++
	}
	if i < len(src) && src[i] == q && (q == '"' || i+1 == len(src) || src[i+1] != '\'') {
		p.str, p.isString, p.strInTmp = src[start:i], true, false
		p.pos = i + 1
		return true
	}
	if i < len(src) && src[i] == '\n' {
		for i > start && src[i-1] == ' ' {
			i-- // blanks before a line break are dropped: the loop below does so
		}
	}
	s := append(p.tmp[:0], src[start:i]...)
	for {
		if i >= len(src) {
			return false
		}
		c := src[i]
		switch {
		case c == q && q == '\'' && i+1 < len(src) && src[i+1] == '\'':
			s = append(s, '\'')
			i += 2
		case c == q:
			p.tmp = s
			p.str, p.isString = s, true
			p.strInTmp = true
			p.pos = i + 1
			return true
		case c == '\\' && q == '"':
			if i+1 >= len(src) {
				return false
			}
			e := src[i+1]
			i += 2
			switch e {
			case '\n':
				// An escaped line break: the lines join without a space.
				var ok bool
				if s, i, ok = p.foldQuoted(s, i, false); !ok {
					return false
				}
				continue
			case '0':
				s = append(s, 0)
			case 'a':
				s = append(s, '\a')
			case 'b':
				s = append(s, '\b')
			case 't':
				s = append(s, '\t')
			case 'n':
				s = append(s, '\n')
			case 'v':
				s = append(s, '\v')
			case 'f':
				s = append(s, '\f')
			case 'r':
				s = append(s, '\r')
			case 'e':
				s = append(s, 0x1B)
			case ' ', '"', '\'', '\\':
				s = append(s, e)
			case 'N':
				s = utf8.AppendRune(s, 0x85)
			case '_':
				s = utf8.AppendRune(s, 0xA0)
			case 'L':
				s = utf8.AppendRune(s, 0x2028)
			case 'P':
				s = utf8.AppendRune(s, 0x2029)
			case 'x', 'u', 'U':
				n := 2
				if e == 'u' {
					n = 4
				} else if e == 'U' {
					n = 8
				}
				if i+n > len(src) {
					return false
				}
				v := 0
				for _, h := range src[i : i+n] {
					switch {
					case h >= '0' && h <= '9':
						v = v<<4 | int(h-'0')
					case h >= 'a' && h <= 'f':
						v = v<<4 | int(h-'a'+10)
					case h >= 'A' && h <= 'F':
						v = v<<4 | int(h-'A'+10)
					default:
						return false
					}
				}
				if v >= 0xD800 && v <= 0xDFFF || v > 0x10FFFF {
					return false
				}
				s = utf8.AppendRune(s, rune(v))
				i += n
			default:
				return false // an escape yaml.v2 refuses
			}
		case c == ' ' || c == '\n':
			// Blanks: kept inside a line, dropped around a line break.
			j := i
			for j < len(src) && src[j] == ' ' {
				j++
			}
			if j < len(src) && src[j] != '\n' {
				s = append(s, src[i:j]...)
				i = j
				continue
			}
			if j == len(src) {
				return false
			}
			var ok bool
			if s, i, ok = p.foldQuoted(s, j+1, true); !ok {
				return false
			}
		default:
			s = append(s, c)
			i++
		}
	}
}

// foldQuoted continues a quoted scalar on the line that starts at i (after a line break, or
// after an escaped one when fold is false): empty lines are newlines; otherwise a folded break
// is a space. It returns the index of the first character of the continuation.
func (p *blockParser) foldQuoted(s []byte, i int, fold bool) ([]byte, int, bool) {
	src := p.src
	breaks := 0
	for {
		for i < len(src) && src[i] == ' ' {
			i++
		}
		if i == len(src) {
			return s, i, false
		}
		if src[i] != '\n' {
			break
		}
		i++
		breaks++
	}
	switch {
	case breaks > 0:
		for range breaks {
			s = append(s, '\n')
		}
	case fold:
		s = append(s, ' ')
	}
	return s, i, true
}

// plain reads a plain scalar at pos, folded over the lines indented past col that continue
// it, writes its JSON value, and leaves pos at the start of the line after it.
func (p *blockParser) plain(col int) bool {
	src := p.src
	start := p.pos
	end, stop := p.plainChunk(start, false)
	if stop == ':' {
		return false // "a: b: c", or a key where a value must be
	}
	// Continuation lines.
	folded := false
	s := p.tmp[:0]
	i := end
	for stop == '\n' {
		for i < len(src) && src[i] == ' ' {
			i++
		}
		if i == len(src) || src[i] != '\n' {
			break
		}
		i++ // past the line break ending the chunk
		breaks := 0
		var lineStart, next int
		for {
			lineStart = i
			i = spaces(src, i)
			if i == len(src) || src[i] != '\n' {
				break
			}
			i++
			breaks++
		}
		next = i
		if next == len(src) || next-lineStart <= col || src[next] == '#' {
			break // the scalar ended with the line before
		}
		cEnd, cStop := p.plainChunk(next, false)
		if cStop == ':' {
			return false
		}
		if !folded {
			s = append(s, src[start:end]...)
			folded = true
		}
		if breaks == 0 {
			s = append(s, ' ')
		}
		for range breaks {
			s = append(s, '\n')
		}
		s = append(s, src[next:cEnd]...)
		end, stop, i = cEnd, cStop, cEnd
	}
	// pos: the start of the line after the scalar (blank and comment lines are skipped by
	// the caller).
	p.pos = end
	if !p.lineEnd() {
		return false
	}
	if folded {
		p.tmp = s
		p.str, p.isString = s, true
		p.writeString(s)
		return true
	}
	v := src[start:end]
	lit, isString := resolvePlain(unsafe.String(&v[0], len(v)))
	if isString {
		p.str, p.isString = v, true
		p.writeString(v)
		return true
	}
	if lit == nil {
		return false
	}
	p.out = append(p.out, lit...)
	return true
}

// plainChunk scans a plain scalar's text on one line from i (block context). It returns the end
// of the text (trailing blanks dropped) and what stopped it: '\n' (the line's end, or the end
// of the input), '#' (a comment) or ':' (": ", a key's indicator).
func (p *blockParser) plainChunk(i int, flow bool) (end int, stop byte) {
	src := p.src
	end = i
	for i < len(src) {
		if !flow {
			// Outside a flow collection only a line break, a blank (before a comment) and ':'
			// (before a blank) can end the chunk: the bytes up to the next of those are taken
			// eight at a time.
			if j := stop3(src, i, '\n', ' ', ':'); j > i {
				i, end = j, j
				if i == len(src) {
					break
				}
			}
		}
		c := src[i]
		switch c {
		case '\n':
			return end, '\n'
		case ' ':
			i++
			if i < len(src) && src[i] == '#' {
				return end, '#'
			}
			continue
		case ':':
			if i+1 == len(src) || src[i+1] == ' ' || src[i+1] == '\n' {
				return end, ':'
			}
			if flow && (src[i+1] == ',' || src[i+1] == '[' || src[i+1] == ']' || src[i+1] == '{' || src[i+1] == '}') {
				return end, 0 // "a:]" in a flow collection: left to yaml.v2
			}
		case ',', '[', ']', '{', '}', '?':
			if flow {
				return end, c
			}
		}
		i++
		end = i
	}
	return end, '\n'
}

// blockScalar reads a literal (|) or folded (>) block scalar at pos, as yaml.v2 does, and
// writes it as a string. col is the column of the collection it belongs to.
func (p *blockParser) blockScalar(col int) bool {
	src := p.src
	literal := src[p.pos] == '|'
	p.pos++
	chomp, increment := 0, 0
	for k := 0; k < 2 && p.pos < len(src); k++ {
		switch c := src[p.pos]; {
		case (c == '+' || c == '-') && chomp == 0:
			chomp = 1
			if c == '-' {
				chomp = -1
			}
			p.pos++
		case c >= '1' && c <= '9' && increment == 0:
			increment = int(c - '0')
			p.pos++
		}
	}
	if p.pos < len(src) && src[p.pos] != ' ' && src[p.pos] != '\n' {
		return false
	}
	if !p.lineEnd() {
		return false
	}
	indent := 0
	if increment > 0 {
		indent = col + increment
	}
	s := p.tmp[:0]
	var leadingBreak, trailingBreaks int // counts of '\n'
	i := p.pos
	// breaks eats indentation and empty lines; it returns the column reached, or -1 at a tab
	// where an indentation space is expected (yaml.v2 refuses it).
	breaks := func() int {
		maxIndent := 0
		for {
			lineStart := i
			if i = spaces(src, i); indent != 0 && i-lineStart > indent {
				i = lineStart + indent
			}
			if i-lineStart > maxIndent {
				maxIndent = i - lineStart
			}
			if i < len(src) && src[i] == '\t' && (indent == 0 || i-lineStart < indent) {
				return -1
			}
			if i == len(src) || src[i] != '\n' {
				if indent == 0 {
					indent = max(maxIndent, col+1, 1)
				}
				return i - lineStart
			}
			i++
			trailingBreaks++
		}
	}
	column := breaks()
	leadingBlank := false
	for column == indent && i < len(src) {
		// A line that starts with a blank, a space or a tab, is not folded (yaml.v2's is_blank).
		trailingBlank := src[i] == ' ' || src[i] == '\t'
		if !literal && leadingBreak > 0 && !leadingBlank && !trailingBlank {
			if trailingBreaks == 0 {
				s = append(s, ' ')
			}
		} else {
			for range leadingBreak {
				s = append(s, '\n')
			}
		}
		leadingBreak = 0
		for range trailingBreaks {
			s = append(s, '\n')
		}
		trailingBreaks = 0
		leadingBlank = src[i] == ' ' || src[i] == '\t'
		end := len(src)
		if nl := bytes.IndexByte(src[i:], '\n'); nl >= 0 {
			end = i + nl
		}
		line := src[i:end]
		if p.tabs > 0 {
			p.tabs -= bytes.Count(line, []byte{'\t'}) // text, kept as it is
		}
		s = append(s, line...)
		if end == len(src) {
			i = end
			column = breaks()
			break
		}
		i = end + 1
		leadingBreak = 1
		column = breaks()
	}
	if column < 0 {
		return false
	}
	if chomp != -1 {
		for range leadingBreak {
			s = append(s, '\n')
		}
	}
	if chomp == 1 {
		for range trailingBreaks {
			s = append(s, '\n')
		}
	}
	p.tmp = s
	p.str, p.isString = s, true
	p.writeString(s)
	// The line that ended the scalar: back to its start.
	if i < len(src) {
		i -= column
	}
	p.pos, p.lineStart = i, i
	return true
}

// flow reads a flow sequence or mapping at pos, over lines if need be, and writes it.
func (p *blockParser) flow() bool {
	src := p.src
	if !p.enter() {
		return false
	}
	open := src[p.pos]
	end := byte(']')
	if open == '{' {
		end = '}'
	}
	p.out = append(p.out, open)
	p.pos++
	base := len(p.keys)
	var set map[string]struct{}
	for n := 0; ; n++ {
		if !p.flowSpace() {
			return false
		}
		if src[p.pos] == end {
			break // the end, or "[a, b,]"
		}
		if n > 0 {
			p.out = append(p.out, ',')
		}
		if open == '{' {
			key, ok := p.flowKey()
			if !ok {
				return false
			}
			if p.dupKey(base, key, &set) {
				return false
			}
			p.writeString(unsafe.Slice(unsafe.StringData(key), len(key)))
			p.out = append(p.out, ':')
		}
		if !p.flowNode() || !p.flowSpace() {
			return false
		}
		if src[p.pos] == end {
			break
		}
		if src[p.pos] != ',' {
			return false
		}
		p.pos++
		if !p.flowSpace() || src[p.pos] == ',' {
			return false
		}
	}
	p.keys = p.keys[:base]
	p.pos++
	p.out = append(p.out, end)
	p.depth--
	p.isString = false
	return true
}

// flowSpace skips blanks, line breaks and comments inside a flow collection (yaml.v2 and v3
// check no indentation there); false at the end of the input.
func (p *blockParser) flowSpace() bool {
	src := p.src
	for p.pos < len(src) {
		switch src[p.pos] {
		case ' ':
			p.pos++
		case '\n':
			p.pos++
			p.lineStart = p.pos
			p.skipSpaces()
		case '#':
			if src[p.pos-1] != ' ' && src[p.pos-1] != '\n' {
				return false
			}
			nl := bytes.IndexByte(src[p.pos:], '\n')
			if nl < 0 {
				return false
			}
			p.pos += nl
		default:
			return true
		}
	}
	return false
}

// flowKey reads a key of a flow mapping on one line and the ':' after it.
func (p *blockParser) flowKey() (string, bool) {
	src := p.src
	var k []byte
	quoted := false
	switch src[p.pos] {
	case '"', '\'':
		i := p.pos
		line := bytes.IndexByte(src[i:], '\n')
		if !p.quoted() || line >= 0 && p.pos > i+line {
			return "", false
		}
		k, quoted = p.str, true
		p.skipSpaces()
	default:
		if !plainStart(src, p.pos) {
			return "", false
		}
		end, stop := p.plainChunk(p.pos, true)
		if stop != ':' {
			return "", false
		}
		k = src[p.pos:end]
		if _, isString := resolvePlain(unsafe.String(&k[0], len(k))); !isString {
			return "", false
		}
		p.pos = end
		p.skipSpaces()
	}
	if p.pos+1 >= len(src) || src[p.pos] != ':' {
		return "", false
	}
	if c := src[p.pos+1]; c != ' ' && c != '\n' && !(quoted && c != ',' && c != ']' && c != '}' && c != '[' && c != '{' && c != '#') {
		return "", false // only after a quoted key may the value follow the ':' at once ({"a":1})
	}
	p.pos++
	if !p.flowSpace() {
		return "", false
	}
	return p.keyString(k, quoted), true
}

// dupKey reports whether key is among the keys read so far of the mapping whose keys start at
// p.keys[base], and adds it; a large mapping's keys are looked up in set.
func (p *blockParser) dupKey(base int, key string, set *map[string]struct{}) bool {
	if *set == nil && len(p.keys)-base < 32 {
		for _, k := range p.keys[base:] {
			if k == key {
				return true
			}
		}
		p.keys = append(p.keys, key)
		return false
	}
	if *set == nil {
		*set = make(map[string]struct{}, 64)
		for _, k := range p.keys[base:] {
			(*set)[k] = struct{}{}
		}
	}
	if _, dup := (*set)[key]; dup {
		return true
	}
	(*set)[key] = struct{}{}
	return false
}

// keyString is a key read from src, as a string that shares src's bytes (the keys are only
// compared while the document is read); a quoted key with escapes or folds is copied.
func (p *blockParser) keyString(k []byte, quoted bool) string {
	if len(k) == 0 {
		return ""
	}
	if quoted && p.strInTmp {
		return string(k)
	}
	return unsafe.String(&k[0], len(k))
}

func (p *blockParser) skipSpaces() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

// flowNode reads a node inside a flow collection: a nested collection, a quoted scalar, or a
// plain scalar on one line.
func (p *blockParser) flowNode() bool {
	src := p.src
	switch src[p.pos] {
	case '[', '{':
		return p.flow()
	case '"', '\'':
		if !p.quoted() {
			return false
		}
		p.writeString(p.str)
		p.skipSpaces()
		return p.pos < len(src) && src[p.pos] != ':'
	}
	if !plainStart(src, p.pos) {
		return false
	}
	end, stop := p.plainChunk(p.pos, true)
	switch stop {
	case ',', ']', '}':
	case '\n', '#':
		// The end of the line: the next must go on with ',' or the end of the collection.
		j := end
		for j < len(src) && src[j] == ' ' {
			j++
		}
		if j < len(src) && src[j] == '#' {
			j += bytes.IndexByte(src[j:], '\n') + 1
		} else if j < len(src) {
			j++
		}
		for j < len(src) && (src[j] == ' ' || src[j] == '\n') {
			j++
		}
		if j == len(src) || src[j] != ',' && src[j] != ']' && src[j] != '}' {
			return false // a plain scalar over lines, or a comment between it and what follows
		}
	default:
		return false // a key, "a:b", '?' or '[' in a scalar
	}
	v := src[p.pos:end]
	p.pos = end
	lit, isString := resolvePlain(unsafe.String(&v[0], len(v)))
	if isString {
		p.writeString(v)
		return true
	}
	if lit == nil {
		return false
	}
	p.out = append(p.out, lit...)
	return true
}

// writeString appends s as a JSON string, as jsonWriter.str does (s is valid UTF-8: plainText
// checked the document, and escapes write whole characters). While discarding it only counts
// the bytes it would write in notInOut, as cutTo would once they were cut (exactly or not: see
// blockParser.exact): the strings of a value left out are most of the bytes of a custom
// resource definition (their OpenAPI descriptions), two thirds of ../shared/corpus, and writing
// them only to cut them was about 0.6% of an offline scan's instructions.
func (p *blockParser) writeString(s []byte) {
	if p.discarding {
		if p.exact || p.aliased {
			p.notInOut += jsonStringLen(s)
		} else {
			p.notInOut += len(s) + 2
			p.uncounted = true
		}
		return
	}
	out := append(p.out, '"')
	start := 0
	for i := nextEscape(s, 0); i < len(s); i = nextEscape(s, i+1) {
		out = append(out, s[start:i]...)
		switch b := s[i]; b {
		case '"', '\\':
			out = append(out, '\\', b)
		case '\n':
			out = append(out, '\\', 'n')
		case '\t':
			out = append(out, '\\', 't')
		case '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, `\u00`...)
			out = append(out, "0123456789abcdef"[b>>4], "0123456789abcdef"[b&0xF])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	p.out = append(out, '"')
}

// jsonStringLen is the number of bytes writeString writes for s: its quotes, s, and one more
// byte for each escaped as two (\" \\ \n \t \r) or five more for one escaped as \u00XX.
func jsonStringLen(s []byte) int {
	n := len(s) + 2
	for i := nextEscape(s, 0); i < len(s); i = nextEscape(s, i+1) {
		switch s[i] {
		case '"', '\\', '\n', '\t', '\r':
			n++
		default:
			n += 5
		}
	}
	return n
}

// nextEscape returns the index of the first byte at or after i in s that a JSON string escapes,
// or len(s), eight bytes at a time: writeString was 5% of a 3,000-object scan's CPU when it
// compared a byte at a time. The last few bytes are read as eight too where the memory after s
// is s's (its capacity), most strings of a manifest being shorter than eight bytes; a byte to
// escape found past s is none.
func nextEscape(s []byte, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := escapeMask8(binary.LittleEndian.Uint64(s[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	if i < len(s) && i+8 <= cap(s) {
		if m := escapeMask8(binary.LittleEndian.Uint64(s[i : i+8])); m != 0 {
			return min(i+bits.TrailingZeros64(m)/8, len(s)) // the first may be past s
		}
		return len(s)
	}
	for i < len(s) && !escapes(s[i]) {
		i++
	}
	return i
}

// escapes reports whether a JSON string escapes b: a control character, '"' or '\\'.
func escapes(b byte) bool { return b < 0x20 || b == '"' || b == '\\' }

// BlockJSON is the first of Decode's paths alone: one YAML document converted to JSON by the
// block reader, or ok false when it leaves the document to the slower paths. With
// metadataOnly, of the top level only apiVersion, kind and metadata are written (the rest is
// read and checked). It uses mem's memory (nil: new memory), as Decode's workers do; js is
// valid until mem is used again. hack/yamlfloor measures with it how fast YAML can only be
// parsed.
func BlockJSON(body []byte, metadataOnly bool, mem *BlockScratch) (js []byte, ok bool) {
	var drop func(string, string) bool
	if metadataOnly {
		drop = func(string, string) bool { return true }
	}
	js, _, ok = blockJSONInto(body, drop, mem)
	return js, ok
}

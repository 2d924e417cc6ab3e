package scan

import (
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// appendFindingJSON appends f as json.MarshalIndent(f, prefix, "  ") writes it, byte for byte,
// without reflection and without indenting compact JSON a second time: -o json writes a finding
// per failing (or, with --show all, every) result, and encoding/json's Encoder with
// appendIndented took about a fifth of the instructions of a whole `scan -o json` of 3,000
// objects. TestFindingJSONAsMarshalIndent holds the bytes to encoding/json's on every finding
// of the corpus, FuzzFindingJSON on any strings, and TestFindingJSONKnowsEveryField fails when
// a field is added to Finding, ResourceRef or Source that this does not write.
func appendFindingJSON(dst []byte, f *Finding, prefix string) []byte {
	in, inner := indents(prefix)
	dst = append(dst, '{')
	dst = appendKey(dst, in, "check", true)
	dst = appendJSONString(dst, f.Check)
	dst = appendKey(dst, in, "title", false)
	dst = appendJSONString(dst, f.Title)
	dst = appendKey(dst, in, "severity", false)
	dst = appendJSONString(dst, string(f.Severity))
	dst = appendKey(dst, in, "criteria", false)
	switch {
	case f.Criteria == nil:
		dst = append(dst, "null"...)
	case len(f.Criteria) == 0:
		dst = append(dst, "[]"...)
	default:
		dst = append(dst, '[')
		for i, c := range f.Criteria {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, '\n'), in...), "  "...)
			dst = appendJSONString(dst, string(c))
		}
		dst = append(append(append(dst, '\n'), in...), ']')
	}
	dst = appendKey(dst, in, "result", false)
	dst = appendJSONString(dst, string(f.Result))
	if r := f.Resource; r != nil {
		dst = appendKey(dst, in, "resource", false)
		dst = append(dst, '{')
		first := true
		if r.APIVersion != "" {
			dst = appendKey(dst, inner, "apiVersion", first)
			dst = appendJSONString(dst, r.APIVersion)
			first = false
		}
		dst = appendKey(dst, inner, "kind", first)
		dst = appendJSONString(dst, r.Kind)
		if r.Namespace != "" {
			dst = appendKey(dst, inner, "namespace", false)
			dst = appendJSONString(dst, r.Namespace)
		}
		dst = appendKey(dst, inner, "name", false)
		dst = appendJSONString(dst, r.Name)
		dst = append(append(append(dst, '\n'), in...), '}')
	}
	for _, s := range [...]struct{ key, value string }{{"container", f.Container}, {"message", f.Message}, {"exception", f.Exception}} {
		if s.value != "" {
			dst = appendKey(dst, in, s.key, false)
			dst = appendJSONString(dst, s.value)
		}
	}
	if s := f.Source; s != nil {
		dst = appendKey(dst, in, "source", false)
		dst = append(dst, '{')
		dst = appendKey(dst, inner, "file", true)
		dst = appendJSONString(dst, s.File)
		dst = appendKey(dst, inner, "document", false)
		dst = strconv.AppendInt(dst, int64(s.Document), 10)
		dst = appendKey(dst, inner, "line", false)
		dst = strconv.AppendInt(dst, int64(s.Line), 10)
		dst = append(append(append(dst, '\n'), in...), '}')
	}
	return append(append(append(dst, '\n'), prefix...), '}')
}

// indents are prefix and one and two indents of two spaces after it: slices of blanks when
// prefix is blanks (always, from writeStreamed), so that a finding does not make them anew.
func indents(prefix string) (in, inner string) {
	const blanks = "                                "
	if len(prefix)+4 <= len(blanks) && prefix == blanks[:len(prefix)] {
		return blanks[:len(prefix)+2], blanks[:len(prefix)+4]
	}
	return prefix + "  ", prefix + "    "
}

// appendKey appends a member's key on a line of its own, after the comma that ends the member
// before it unless first: `,\n<indent>"key": `. Keys are plain ASCII that needs no escape.
func appendKey(dst []byte, indent, key string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(append(dst, '\n'), indent...)
	dst = append(append(append(dst, '"'), key...), '"', ':', ' ')
	return dst
}

// jsonSafe says which ASCII bytes encoding/json writes as they are inside a string with HTML
// escaping on (its htmlSafeSet, the Encoder's and Marshal's default): all but control bytes,
// '"', '\\', '<', '>' and '&'. Bytes of 0x80 and more are not in it: UTF-8 decides them.
var jsonSafe = func() (safe [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		safe[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return safe
}()

const lowerHex = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json's Marshal quotes a string (appendString
// with escapeHTML): '"' and '\\' escaped by a backslash; \b, \f, \n, \r and \t by their letter;
// other control bytes, '<', '>' and '&' as \u00XX; a byte that is not UTF-8 as \ufffd; and
// U+2028 and U+2029 as \u2028 and \u2029.
//
// Eight bytes at a time while none of them needs a look (jsonLook8): most of a finding's text is
// plain ASCII. Byte by byte, this was 57 M of the 1,538 M instructions of `scan -o json` of
// 3,000 objects.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			if m := jsonLook8(load8(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i == len(s) {
			break
		}
		b := s[i]
		if jsonSafe[b] { // not one byte of 0x80 or more: those are decided below
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', lowerHex[b>>4], lowerHex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Eight bytes at a time (jsonLook8): each byte of byteOnes is 1, of byteTops 0x80.
const byteOnes, byteTops = 0x0101010101010101, 0x8080808080808080

// load8 is the eight bytes of s from i, the first the lowest (little-endian).
func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// jsonLook8 is not zero when a byte of w is one appendJSONString does not copy as it is without
// a look (not jsonSafe): a control byte (below 0x20), '"', '\\', '<', '>', '&', or a byte of
// 0x80 or more (UTF-8, which it decodes). Its lowest set bit is the top bit of the first such
// byte. x-n*byteOnes &^ x has the top bit of a byte set where the byte is below n, as
// internal/manifest's belowMask: subtracting borrows into the top bit, and a borrow changes only
// the bytes after the first such byte, so each term's lowest set bit is exact, and so is the
// lowest of their union. A zero byte (below 1) of w^c*byteOnes is a byte c; '<' (0x3C) and '>'
// (0x3E) differ only in bit 1, '"' (0x22) and '&' (0x26) only in bit 2, so one test finds
// either of a pair: the byte with that bit set is the pair's higher. Written to be inlined.
func jsonLook8(w uint64) uint64 {
	lt := (w | 0x02*byteOnes) ^ 0x3E*byteOnes // '<' or '>': 0
	qa := (w | 0x04*byteOnes) ^ 0x26*byteOnes // '"' or '&': 0
	bs := w ^ '\\'*byteOnes                   // '\\': 0
	return ((w-0x20*byteOnes)&^w | (lt-byteOnes)&^lt | (qa-byteOnes)&^qa | (bs-byteOnes)&^bs | w) & byteTops
}

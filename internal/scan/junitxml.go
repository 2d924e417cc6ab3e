package scan

import (
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// appendJUnitSuiteHead, appendJUnitCase and appendJUnitSuiteEnd append a JUnit test suite as an
// xml.Encoder indented by two spaces with a prefix of two spaces writes it alone after a line
// break (writeJUnit), byte for byte, without reflection: -o junit writes a test case per result,
// and encoding/xml's escaping and the garbage of its Encoder took about a quarter of the
// instructions of a whole `scan -o junit` of 3,000 objects. TestJUnitSuiteAsEncoder holds the
// bytes to encoding/xml's on every suite of the golden input and of the corpus,
// FuzzJUnitSuite on any strings, and TestJUnitSuiteKnowsEveryField fails when a field is added
// to junitSuite, junitCase, junitFailure or junitSkipped that these do not write.

// appendJUnitSuite appends s whole: its head, its test cases and its end.
func appendJUnitSuite(dst []byte, s *junitSuite) []byte {
	dst = appendJUnitSuiteHead(dst, s)
	for i := range s.Cases {
		dst = appendJUnitCase(dst, &s.Cases[i])
	}
	return appendJUnitSuiteEnd(dst, len(s.Cases))
}

// appendJUnitSuiteHead appends the line break and the start tag of s, with its counts.
func appendJUnitSuiteHead(dst []byte, s *junitSuite) []byte {
	dst = append(dst, "\n  <testsuite name=\""...)
	dst = appendXMLEscaped(dst, s.Name)
	dst = append(dst, "\" tests=\""...)
	dst = strconv.AppendInt(dst, int64(s.Tests), 10)
	dst = append(dst, "\" failures=\""...)
	dst = strconv.AppendInt(dst, int64(s.Failures), 10)
	dst = append(dst, "\" errors=\""...)
	dst = strconv.AppendInt(dst, int64(s.Errors), 10)
	dst = append(dst, "\" skipped=\""...)
	dst = strconv.AppendInt(dst, int64(s.Skipped), 10)
	return append(dst, "\">"...)
}

// appendJUnitSuiteEnd appends the end tag of a suite of cases test cases: on a line of its own
// after them, right after the start tag when there are none (as the Encoder writes an element
// with no children).
func appendJUnitSuiteEnd(dst []byte, cases int) []byte {
	if cases == 0 {
		return append(dst, "</testsuite>"...)
	}
	return append(dst, "\n  </testsuite>"...)
}

// appendJUnitCase appends the line break and the test case c, indented within its suite.
func appendJUnitCase(dst []byte, c *junitCase) []byte {
	dst = append(dst, "\n    <testcase name=\""...)
	dst = appendXMLEscaped(dst, c.Name)
	dst = append(dst, "\" classname=\""...)
	dst = appendXMLEscaped(dst, c.Classname)
	dst = append(dst, "\">"...)
	children := false
	for _, m := range [...]struct {
		tag string
		f   *junitFailure
	}{{"failure", c.Failure}, {"error", c.Error}} {
		if m.f == nil {
			continue
		}
		dst = append(append(append(dst, "\n      <"...), m.tag...), " message=\""...)
		dst = appendXMLEscaped(dst, m.f.Message)
		dst = append(dst, "\" type=\""...)
		dst = appendXMLEscaped(dst, m.f.Type)
		dst = append(dst, "\">"...)
		dst = appendXMLEscaped(dst, m.f.Text)
		dst = append(append(append(dst, "</"...), m.tag...), '>')
		children = true
	}
	if c.Skipped != nil {
		dst = append(dst, "\n      <skipped message=\""...)
		dst = appendXMLEscaped(dst, c.Skipped.Message)
		dst = append(dst, "\"></skipped>"...)
		children = true
	}
	if !children {
		return append(dst, "</testcase>"...)
	}
	return append(dst, "\n    </testcase>"...)
}

// xmlPlain[c] is whether encoding/xml writes the ASCII byte c as it is, in an attribute value
// and in character data alike: not a quote, apostrophe, ampersand, angle bracket, tab, line
// feed or carriage return (each written as a reference) nor another control character (XML 1.0
// cannot hold it: written as U+FFFD).
var xmlPlain = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 0x20
	}
	for _, c := range `"'&<>` {
		t[c] = false
	}
	return t
}()

// appendXMLEscaped appends s escaped as encoding/xml's EscapeText (and its Encoder, for
// attribute values and character data) escapes it: " ' & < > tab, line feed and carriage
// return as character references, and each byte that is not UTF-8, each control character other
// than those three and U+FFFE and U+FFFF (which XML 1.0 cannot hold) as U+FFFD. A U+FFFD in s
// is kept. TestXMLEscapedAsEscapeText compares it with xml.EscapeText byte by byte.
//
// Eight bytes at a time while none of them needs a look (xmlLook8), as appendJSONString: byte
// by byte, this was 172 M of the 2,360 M instructions of `scan -o junit` of 3,000 objects.
func appendXMLEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			if m := xmlLook8(load8(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if xmlPlain[c] {
				i++
				continue
			}
			var esc string
			switch c {
			case '"':
				esc = "&#34;"
			case '\'':
				esc = "&#39;"
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default:
				esc = "\uFFFD"
			}
			dst = append(append(dst, s[last:i]...), esc...)
			i++
			last = i
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && width == 1) || r == 0xFFFE || r == 0xFFFF {
			dst = append(append(dst, s[last:i]...), "\uFFFD"...)
			i += width
			last = i
			continue
		}
		i += width
	}
	return append(dst, s[last:]...)
}

// xmlLook8 is not zero when a byte of w is one appendXMLEscaped does not copy as it is without
// a look (not xmlPlain): a control byte (below 0x20), '"', '&', an apostrophe, '<', '>', or a
// byte of 0x80 or more (UTF-8, which it decodes). Its lowest set bit is the top bit of the first
// such byte, as jsonLook8's (which says why): '<' (0x3C) and '>' (0x3E) differ only in bit 1,
// '"' (0x22) and '&' (0x26) only in bit 2, and the apostrophe (0x27) is tested alone. Written
// to be inlined.
func xmlLook8(w uint64) uint64 {
	lt := (w | 0x02*byteOnes) ^ 0x3E*byteOnes // '<' or '>': 0
	qa := (w | 0x04*byteOnes) ^ 0x26*byteOnes // '"' or '&': 0
	ap := w ^ '\''*byteOnes                   // '\'': 0
	return ((w-0x20*byteOnes)&^w | (lt-byteOnes)&^lt | (qa-byteOnes)&^qa | (ap-byteOnes)&^ap | w) & byteTops
}

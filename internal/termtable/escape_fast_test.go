package termtable

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// escapeByRune is Escape without the printable-ASCII shortcut: every string decided by decoding
// its runes (the implementation before printableASCII), the reference the shortcut must agree
// with.
func escapeByRune(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, shownEscaped) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\x1b':
			b.WriteString("^[")
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		case shownEscaped(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case shownEscaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// TestEscapeShortcutAgreesByteByByte: every byte value, alone and at the start, middle and end
// of printable text, is escaped as decoding runes escapes it, and printableASCII takes exactly
// the bytes from space to '~'.
func TestEscapeShortcutAgreesByteByByte(t *testing.T) {
	for c := range 256 {
		b := string([]byte{byte(c)})
		if got, want := printableASCII(b), c >= ' ' && c <= '~'; got != want {
			t.Errorf("printableASCII(%q) = %v", b, got)
		}
		for _, s := range []string{b, b + "name", "name" + b, "na" + b + "me", "payments" + b + "\u200b"} {
			if got, want := Escape(s), escapeByRune(s); got != want {
				t.Errorf("Escape(%q) = %q, by rune %q", s, got, want)
			}
		}
	}
}

// printableASCIIByByte is printableASCII a byte at a time, as it was before it read eight at a
// time: the reference TestPrintableASCIIEightBytesAtATime and FuzzPrintableASCII hold it to.
func printableASCIIByByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// TestPrintableASCIIEightBytesAtATime: printableASCII, eight bytes at a time, answers as a byte
// at a time does for every byte value at every place of texts of 1 to 24 bytes, the others
// each of eight fillers (the bytes around the bounds, and beyond ASCII), so at each offset of
// a word and in the last few bytes; and for texts of one filler alone.
func TestPrintableASCIIEightBytesAtATime(t *testing.T) {
	fillers := []byte{0x00, 0x1f, ' ', 'a', '~', 0x7f, 0x80, 0xff}
	for n := 1; n <= 24; n++ {
		for _, f := range fillers {
			text := []byte(strings.Repeat(string(f), n))
			if got, want := printableASCII(string(text)), printableASCIIByByte(string(text)); got != want {
				t.Errorf("printableASCII(%q) = %v, a byte at a time %v", text, got, want)
			}
			for at := range n {
				for c := range 256 {
					text[at] = byte(c)
					if got, want := printableASCII(string(text)), printableASCIIByByte(string(text)); got != want {
						t.Errorf("printableASCII(%q) = %v, a byte at a time %v", text, got, want)
					}
				}
				text[at] = f
			}
		}
	}
}

// FuzzPrintableASCII: printableASCII answers as a byte at a time does, whatever the text.
func FuzzPrintableASCII(f *testing.F) {
	f.Add("deployment/web container app")
	f.Add("0123456789abcdef\x7f")
	f.Add("\u200bname")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := printableASCII(s), printableASCIIByByte(s); got != want {
			t.Fatalf("printableASCII(%q) = %v, a byte at a time %v", s, got, want)
		}
	})
}

// FuzzEscapeShortcut: Escape, with its printable-ASCII shortcut, escapes any string as deciding
// by runes does.
func FuzzEscapeShortcut(f *testing.F) {
	f.Add("deployment/web container app")
	f.Add("pay\u202ements\x1b[2J\r\x7f\xff\u200b")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Escape(s), escapeByRune(s); got != want {
			t.Fatalf("Escape(%q) = %q, by rune %q", s, got, want)
		}
	})
}

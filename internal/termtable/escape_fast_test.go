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

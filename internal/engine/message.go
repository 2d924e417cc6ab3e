package engine

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxMessageLength bounds every message the operator writes: a result's message (and so a
// finding's), a condition's message and an event's note. Checks name a few items and count the
// rest; this bound is the backstop for everything else (custom check messages, API server
// errors quoted in conditions).
const MaxMessageLength = 1024

// Truncate shortens s to at most MaxMessageLength bytes, cutting on a UTF-8 boundary and
// ending in "..." when it had to cut.
func Truncate(s string) string { return TruncateTo(s, MaxMessageLength) }

// TruncateTo shortens s to at most max bytes (max >= 3), cutting on a UTF-8 boundary and
// ending in "..." when it had to cut: for a text quoted inside a message, or a record with a
// tighter bound than MaxMessageLength.
func TruncateTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Printable is s with every character that is not printable written as a Go escape, as %q
// writes it: a control character (ESC \x1b, a carriage return \r, a line break \n), a
// bidirectional override (\u202e), a zero-width space (\u200b), a byte that is not UTF-8.
// Checks quote what an object's author wrote (%q), but some text reaches a message unquoted
// (a library's error repeating an image string, a mount path, an environment variable's name, a
// custom check's message), and the message is shown as text by more than the operator's own
// outputs: kubectl prints the admission webhook's denial as it is, PolicyReport viewers show
// the message, and the API server drops a warning that holds a control character.
//
// Every result's message goes through it: eight bytes at a time, a word has a byte below ' '
// when subtracting ' ' from each byte borrows into a byte whose own high bit is clear, and one
// above '~' when adding 1 to each (or the byte itself) sets a high bit (the tests of "Bit
// Twiddling Hacks", exact for whether a word has such a byte: a borrow or carry that reaches
// the next byte comes from a byte that has).
func Printable(s string) string {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if (w-' '*ones)&^w&highs != 0 || (w+ones|w)&highs != 0 {
			return printableSlow(s)
		}
	}
	for ; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return printableSlow(s)
		}
	}
	return s
}

func printableSlow(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if strconv.IsPrint(r) && !(r == utf8.RuneError && size == 1) {
			b.WriteString(s[i : i+size])
		} else {
			q := strconv.Quote(s[i : i+size])
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

package engine

import "unicode/utf8"

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

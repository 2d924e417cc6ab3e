// Package termtable prints tables for people at a terminal: aligned columns two spaces apart,
// every line at most the terminal's width, with free text under a row wrapped rather than cut.
// `soc2-operator scan` and `kubectl soc2` print with it, so the two fit a terminal the same way.
package termtable

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
)

// DefaultWidth is the line width when stdout is no terminal and COLUMNS is unset.
const DefaultWidth = 100

// Width is the width output fits: $COLUMNS when set, else the width of the terminal stdout is,
// else DefaultWidth; never under 40.
func Width(stdout io.Writer) int {
	if c, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && c > 0 {
		return max(c, 40)
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return max(w, 40)
		}
	}
	return DefaultWidth
}

// Table is rows of cells, printed in aligned columns two spaces apart, every line at most the
// width: the flexible column shrinks first (to 12 characters), then the widest column, down to
// MinColumn; a cell that does not fit is cut with "…".
type Table struct {
	Header []string
	// Flex is the column that gives up width first (usually the free text).
	Flex int
	// MinColumn is the narrowest a column is made when the others cannot give more. Default 4.
	MinColumn int

	rows  [][]string
	notes [][]string // per row: the paragraphs printed under it, wrapped and indented
}

// Add adds a row.
func (t *Table) Add(cells ...string) { t.rows = append(t.rows, cells); t.notes = append(t.notes, nil) }

// AddNoted adds a row with paragraphs printed under it, each starting a line of its own,
// indented and wrapped to the width: nothing of them is cut. A paragraph is text from the
// objects like a cell: a line break in it is shown escaped (see Wrap), not obeyed, so that a
// name inside a paragraph cannot start a line that reads as the table's own.
func (t *Table) AddNoted(paragraphs []string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.notes = append(t.notes, paragraphs)
}

// Write prints the table, every line at most width characters; width <= 0 means no limit.
func (t *Table) Write(w io.Writer, width int) error {
	n := len(t.Header)
	widths := make([]int, n)
	// Cells are text from the objects (names, messages): control characters are shown, not
	// obeyed (see Escape), and measured as shown.
	rows := make([][]string, 0, len(t.rows)+1)
	for _, r := range append([][]string{t.Header}, t.rows...) {
		esc := make([]string, len(r))
		for i, c := range r {
			esc[i] = Escape(c)
		}
		rows = append(rows, esc)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		s := 2 * (n - 1)
		for _, x := range widths {
			s += x
		}
		return s
	}
	limit := width
	if limit <= 0 {
		limit = total()
	}
	if over := total() - limit; over > 0 {
		widths[t.Flex] = max(widths[t.Flex]-over, min(widths[t.Flex], 12))
	}
	minColumn := t.MinColumn
	if minColumn <= 0 {
		minColumn = 4
	}
	// Still too wide for a narrow terminal: take from the widest column.
	for total() > limit {
		widest := 0
		for i := range widths {
			if widths[i] > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= minColumn {
			break
		}
		widths[widest]--
	}
	noteWidth := max(limit-4, 20)
	if width <= 0 {
		noteWidth = 1 << 30
	}
	var b strings.Builder
	for ri, r := range rows {
		b.Reset()
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			c = Cut(c, widths[i])
			b.WriteString(c)
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
			}
		}
		line := Cut(strings.TrimRight(b.String(), " "), limit)
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
		if ri == 0 {
			continue
		}
		for _, para := range t.notes[ri-1] {
			for _, l := range Wrap(para, noteWidth) {
				if _, err := fmt.Fprintln(w, "    "+l); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Cut shortens s to n characters, the last one "…" when anything was cut.
func Cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return strings.Repeat("…", max(n, 0))
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Wrap breaks s into lines of at most n characters at spaces (a longer word is cut). Control
// characters are shown, not obeyed (see Escape): a line break or a tab is part of a word, shown
// as \n or \t, not a place to break.
func Wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }) {
		word = Escape(word)
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
		for utf8.RuneCountInString(line) > n {
			r := []rune(line)
			lines = append(lines, string(r[:n]))
			line = string(r[n:])
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// Escape shows the control characters of s instead of letting the terminal obey them: text from
// the objects (a name, a container name, an exception's reason) could otherwise move the cursor,
// erase or recolour lines, or set a hyperlink, and so hide or rewrite a finding. ESC is written
// ^[ and CR \r, as kubectl writes them (k8s.io/cli-runtime pkg/printers EscapeTerminal); every
// other C0 or C1 control character and DEL as a Go escape (\b, \n, \x7f, \u009b). So is every
// character a terminal draws as nothing or obeys as format: Unicode's format characters (Cf),
// among them the bidirectional ones (Bidi_Control, such as RIGHT-TO-LEFT OVERRIDE), which would
// show the text in another order than it is written ("Trojan Source", CVE-2021-42574), and the
// zero-width ones, the byte order mark and the tag characters, which would make "payments\u200b"
// look like "payments"; the other default-ignorable characters (the Hangul fillers, variation
// selectors) for the same reason; and the line and paragraph separators. A byte that is not
// UTF-8 is written \x9b: a terminal reading 8-bit controls takes it for one. Text without any of
// these is returned unchanged.
func Escape(s string) string {
	if printableASCII(s) || utf8.ValidString(s) && !strings.ContainsFunc(s, shownEscaped) {
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

// printableASCII reports whether s is only printable ASCII (space to '~'): what most text is,
// and Escape returns unchanged. A byte at a time it took about a third of the instructions of
// decoding runes for shownEscaped, which was 4% of `scan -o sarif` of 3,000 objects; and still
// 62 M of the 2,084 M instructions of `scan -o junit` of 2,996 objects, whose failures' texts
// (each with its check's remediation) go through it line by line. It now tests eight bytes at a
// time: a word has a byte below ' ' or above '~' when subtracting ' ' from each byte or adding
// 1 to each sets a high bit. The first such byte has no borrow or carry from the bytes before
// it: below ' ' it borrows (its high bit set), from '\x7f' to 0xfe adding 1 sets its high bit,
// and 0xff less ' ' has it; a byte from ' ' to '~' gets it neither way. So the test is exact
// for whether a word has such a byte (a borrow or carry reaching the next byte comes from a
// byte that has), with two operations fewer than engine.Printable's (&^w and |w: a high bit
// that the byte itself has is found by one of the two already).
func printableASCII(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if ((w-' '*ones)|(w+ones))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// shownEscaped reports whether Escape writes r as an escape.
func shownEscaped(r rune) bool {
	if r < utf8.RuneSelf {
		return r < ' ' || r == '\x7f'
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point,
		unicode.Variation_Selector, unicode.Zl, unicode.Zp)
}

// EscapeLines returns a writer that writes to w what it is given with every line's control
// characters shown, not obeyed (see Escape); the line breaks themselves are kept. For messages
// that name a user's files or objects. Each Write should be whole lines or whole characters (as
// fmt.Fprint* writes them).
func EscapeLines(w io.Writer) io.Writer { return escapeLines{w} }

type escapeLines struct{ w io.Writer }

func (e escapeLines) Write(p []byte) (int, error) {
	s := string(p)
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && shownEscaped(r) }) {
		return e.w.Write(p)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	if _, err := io.WriteString(e.w, strings.Join(lines, "\n")); err != nil {
		return 0, err
	}
	return len(p), nil
}

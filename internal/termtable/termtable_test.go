package termtable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTableFitsTheWidth(t *testing.T) {
	tb := &Table{Header: []string{"NAMESPACE", "RESULT", "MESSAGE"}, Flex: 2}
	tb.Add("a-very-long-namespace-name-indeed", "NonCompliant", strings.Repeat("word ", 40))
	tb.AddNoted([]string{"a note long enough to wrap over several lines when the table is narrow", "second paragraph"}, "ns", "Compliant", "short")
	for _, width := range []int{40, 60, 100} {
		var b strings.Builder
		if err := tb.Write(&b, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d characters: %q", width, n, l)
			}
		}
		if !strings.Contains(b.String(), "    second paragraph") {
			t.Errorf("width %d: a note's second paragraph starts its own indented line:\n%s", width, b.String())
		}
		if !strings.Contains(b.String(), "…") {
			t.Errorf("width %d: the long message should be cut with …:\n%s", width, b.String())
		}
	}
}

func TestNoLimitKeepsEveryCell(t *testing.T) {
	tb := &Table{Header: []string{"A", "B"}, Flex: 1}
	long := strings.Repeat("x", 300)
	tb.Add("1", long)
	var b strings.Builder
	if err := tb.Write(&b, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), long) {
		t.Errorf("width 0 means no limit, but the cell was cut:\n%s", b.String())
	}
}

func TestMinColumn(t *testing.T) {
	tb := &Table{Header: []string{"FIRST", "SECOND", "THIRD"}, Flex: 2, MinColumn: 6}
	tb.Add("abcdefghij", "abcdefghij", "abcdefghij")
	var b strings.Builder
	if err := tb.Write(&b, 10); err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(b.String(), "\n", 2)[0]
	if !strings.HasPrefix(header, "FIRST ") {
		t.Errorf("no column is made narrower than MinColumn: %q", header)
	}
}

func TestWrapCutsLongWords(t *testing.T) {
	got := Wrap("short "+strings.Repeat("y", 25), 10)
	for _, l := range got {
		if utf8.RuneCountInString(l) > 10 {
			t.Errorf("line longer than 10: %q (all: %q)", l, got)
		}
	}
	if strings.Join(got, "") != "short"+strings.Repeat("y", 25) {
		t.Errorf("Wrap lost text: %q", got)
	}
}

// Bidirectional formatting characters (Unicode's Bidi_Control: RIGHT-TO-LEFT OVERRIDE and the
// isolates) make a terminal show text in another order than it is written, so a reason or an
// image string could show "ok" where the text says otherwise (the "Trojan Source" attack,
// CVE-2021-42574). They are shown escaped like control characters; other text, right-to-left
// scripts included, is left as it is.
func TestEscapeShowsBidiControls(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com/app\u202e1.0:gat": `registry.example.com/app\u202e1.0:gat`,
		"waiver \u2066approved\u2069":           `waiver \u2066approved\u2069`,
		"\u200fשלום":                            `\u200fשלום`,
		"שלום עולם":                             "שלום עולם",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Characters a terminal draws as nothing (zero-width spaces and joiners, the word joiner, the
// byte order mark, the soft hyphen, Unicode's tag characters, the Hangul fillers) make two names
// look the same: a scanned Deployment "payments\u200b" read as the Deployment "payments" next
// to it, an image "nginx\U000E0020:1.27" as "nginx:1.27". The line and paragraph separators
// break lines where a viewer honours them. A byte that is not UTF-8 is no character at all, and
// a terminal reading 8-bit controls takes \x9b for the start of an escape sequence. All are
// shown escaped, so each name shows as what it is; visible text (accents, CJK, emoji) is left.
func TestEscapeShowsInvisibleCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"payments\u200b":           `payments\u200b`,
		"pay\u200dments\u2060":     `pay\u200dments\u2060`,
		"\ufeffpayments":           `\ufeffpayments`,
		"pay\u00adments":           `pay\u00adments`,
		"nginx\U000E0020:1.27":     `nginx\U000e0020:1.27`,
		"api\u3164":                `api\u3164`,
		"api\ufe0f":                `api\ufe0f`,
		"one\u2028two\u2029three":  `one\u2028two\u2029three`,
		"b\x9b8m.yaml":             `b\x9b8m.yaml`,
		"café 東京 🚀 naïve":          "café 東京 🚀 naïve",
		"registry.example.com/a:1": "registry.example.com/a:1",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// A note's paragraphs are the caller's; a line break inside one (a name, a message) is text.
func TestANoteShowsALineBreakInsteadOfStartingALine(t *testing.T) {
	tb := &Table{Header: []string{"SEVERITY", "CHECK"}, Flex: 1}
	tb.AddNoted([]string{"on: Pod/shop/zz\nall excepted, by shop/waiver", "second\tparagraph"}, "Critical", "wl-privileged")
	var b strings.Builder
	if err := tb.Write(&b, 100); err != nil {
		t.Fatal(err)
	}
	want := "SEVERITY  CHECK\nCritical  wl-privileged\n    on: Pod/shop/zz\\nall excepted, by shop/waiver\n    second\\tparagraph\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

package checks

import (
	"slices"
	"strings"
	"testing"
)

// shellWordsAsBefore is shellWords as it was, every byte through the cases.
func shellWordsAsBefore(line string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			words = append(words, line[start:end])
			start = -1
		}
	}
	noParen, noBrace := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			flush(i)
		case c == '#' && start < 0:
			return words
		case c == ';' || c == '|' || c == '&' && (start < 0 || !strings.ContainsRune("<>", rune(line[i-1]))) &&
			!(i+1 < len(line) && line[i+1] == '>'):
			flush(i)
			op := i
			if i+1 < len(line) && (line[i+1] == c || c == '|' && line[i+1] == '&') && c != ';' {
				i++
			}
			words = append(words, line[op:i+1])
		default:
			if start < 0 {
				start = i
			}
			switch {
			case c == '\\':
				i++
			case c == '\'':
				if j := strings.IndexByte(line[i+1:], '\''); j >= 0 {
					i += 1 + j
				} else {
					i = len(line) - 1
				}
			case c == '`':
				if j := strings.IndexByte(line[i+1:], '`'); j >= 0 {
					i += 1 + j
				} else {
					i = len(line) - 1
				}
			case c == '"':
				i = closingQuote(line, i)
			case c == '$' && i+1 < len(line) && line[i+1] == '\'':
				if j := ansiCQuoteEnd(line, i+1); j >= 0 {
					i = j
				} else {
					i = len(line) - 1
				}
			case (c == '$' || c == '<' || c == '>') && i+1 < len(line) && line[i+1] == '(' && !noParen:
				if j := strings.IndexByte(line[i+2:], ')'); j >= 0 {
					i += 2 + j
				} else {
					noParen = true
				}
			case c == '$' && i+1 < len(line) && line[i+1] == '{' && !noBrace:
				if j := strings.IndexByte(line[i+2:], '}'); j >= 0 {
					i += 2 + j
				} else {
					noBrace = true
				}
			}
		}
	}
	flush(len(line))
	return words
}

// shellWordsLines are lines beside the corpus's: every operator, quote, escape and expansion
// next to word bytes, at the start and the end.
var shellWordsLines = []string{"", "a", " a ", "a#b #c", "#a", "a;b", "a|b||c|&d", "a&b&&c", "a>&b", "a<&b", "a &>b", "a&>b",
	`a\ b`, `a\`, "a'b c'd", "a'b", "a`b c`d", "a`b", `a"b c"d`, `a"b`, "a$'b c'd", "a$'b", "a$(b c)d", "a$(b", "a<(b c)",
	"a>(b c)", "a${b c}d", "a${b", "x\ty\rz", "a<b", "a>b", "é ü", "mysql -u root -p'x y' db; echo $(date)"}

// TestShellWordsAsBefore: shellWords, which takes a run of bytes that only make a word at
// once, splits as it did, for every text of prefilterTexts (the corpus's commands, scripts and
// the Grafana dashboards the command reader reads), each of its lines, and shellWordsLines.
func TestShellWordsAsBefore(t *testing.T) {
	lines := shellWordsLines
	for _, text := range prefilterTexts(t) {
		lines = append(lines, text)
		if strings.Contains(text, "\n") {
			lines = append(lines, strings.Split(text, "\n")...)
		}
	}
	words := 0
	for _, line := range lines {
		got, want := shellWords(line), shellWordsAsBefore(line)
		if !slices.Equal(got, want) {
			t.Errorf("shellWords(%.100q) = %.200q, was %.200q", line, got, want)
		}
		words += len(want)
	}
	t.Logf("%d lines, %d words", len(lines), words)
}

// FuzzShellWords: shellWords splits as it did.
func FuzzShellWords(f *testing.F) {
	for _, line := range shellWordsLines {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if got, want := shellWords(line), shellWordsAsBefore(line); !slices.Equal(got, want) {
			t.Errorf("shellWords(%q) = %q, was %q", line, got, want)
		}
	})
}

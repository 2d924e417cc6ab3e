package checks

import (
	"strings"
	"testing"
)

// openQuoteAsBefore is openQuote as it was, one byte at a time.
func openQuoteAsBefore(line string, quote byte) byte {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '$':
			if c == '\\' {
				i++
			} else if c == '\'' {
				quote = 0
			}
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++
		case quote == '"':
			if c == '"' {
				quote = 0
			}
		case c == '$' && i+1 < len(line) && line[i+1] == '\'':
			quote = '$'
			i++
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return 0
		}
	}
	return quote
}

// openQuoteLines are lines beside the corpus's: every quote opened, closed and escaped, at the
// start and the end, and comments.
var openQuoteLines = []string{"", `\`, `'`, `"`, `$`, `#`, `$'`, `$'\'`, `$'\''`, `a\`, `"\"`, `"\\"`, `'\'`, `echo "it's" 'a"b'`,
	`x # 'c`, `x#'c`, "x\t#'c", `#`, `"#"`, `$'a\'b' "c`, `echo \"x`, `echo \'x`, `a"b'c"d'`, `'$'`, `"$'"`, `\$'x`}

// TestOpenQuoteAsBefore: openQuote, which skips to the bytes that can change its state, gives
// what reading one byte at a time gave, for every line of every text of prefilterTexts (the
// corpus's scripts and the Grafana dashboards the command reader reads among them) and of
// openQuoteLines, whatever quote the lines before left open.
func TestOpenQuoteAsBefore(t *testing.T) {
	lines := openQuoteLines
	for _, text := range prefilterTexts(t) {
		lines = append(lines, strings.Split(text, "\n")...)
	}
	open := 0
	for _, line := range lines {
		for _, quote := range []byte{0, '\'', '"', '$'} {
			got, want := openQuote(line, quote), openQuoteAsBefore(line, quote)
			if got != want {
				t.Errorf("openQuote(%.100q, %q) = %q, was %q", line, quote, got, want)
			}
			if quote == 0 && want != 0 {
				open++
			}
		}
	}
	if open == 0 {
		t.Error("no line leaves a quote open: the comparison says little")
	}
	t.Logf("%d lines, %d leave a quote open", len(lines), open)
}

// FuzzOpenQuote: openQuote gives what reading one byte at a time gives.
func FuzzOpenQuote(f *testing.F) {
	for _, line := range openQuoteLines {
		f.Add(line, byte(0))
		f.Add(line, byte('"'))
	}
	f.Fuzz(func(t *testing.T, line string, q byte) {
		quote := []byte{0, '\'', '"', '$'}[q%4]
		if got, want := openQuote(line, quote), openQuoteAsBefore(line, quote); got != want {
			t.Errorf("openQuote(%q, %q) = %q, was %q", line, quote, got, want)
		}
	})
}

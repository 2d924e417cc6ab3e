package checks

import (
	"slices"
	"strings"
	"testing"
)

// substitutionsAsBefore is substitutions as it was, reading every text quote by quote.
func substitutionsAsBefore(text string, f func(s substitution) bool) {
	single, double := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case single:
			single = c != '\''
		case c == '\\':
			i++
		case c == '\'' && !double:
			single = true
		case c == '$' && !double && i+1 < len(text) && text[i+1] == '\'':
			if i = ansiCQuoteEnd(text, i+1); i < 0 {
				return
			}
		case c == '"':
			double = !double
		case c == '`':
			j := strings.IndexByte(text[i+1:], '`')
			if j < 0 {
				return
			}
			if f(substitution{start: i, end: i + 2 + j, command: text[i+1 : i+1+j], quoted: double}) {
				return
			}
			i += 1 + j
		case i+1 < len(text) && text[i+1] == '(' && (c == '$' || !double && (c == '<' || c == '>')):
			if c == '$' && i+2 < len(text) && text[i+2] == '(' {
				i += 2
				continue
			}
			j := strings.IndexByte(text[i+2:], ')')
			if j < 0 {
				return
			}
			if f(substitution{start: i, end: i + 3 + j, command: text[i+2 : i+2+j], quoted: double}) {
				return
			}
			i += 2 + j
		}
	}
}

// substitutionTexts are texts beside the corpus's with substitutions of every kind, at the
// start and the end, and parentheses that begin none.
var substitutionTexts = []string{"", "(", "$(", "$(x)", "<(x)", ">(x)", "`x`", "`", "a <(printf 'x') b", "diff <(a) >(b)",
	"x=$(echo a) y=`b`", "rate(x[5m])", "f(x) $(g)", "'$(x)' \"$(y)\" \"<(z)\"", "$((1+2)) $(x)", "echo $'\\'' $(x)",
	"sum(rate(http_requests_total{job=\"api\"}[5m])) by (code)", "(a)(b)$", "\\$(x)"}

// TestSubstitutionsAsBefore: substitutions, which skips a text with no '`' and no '(' after '$',
// '<' or '>' (maySubstitute), finds what it found reading every text quote by quote: the same
// substitutions in the same order, for every text of prefilterTexts, each of its lines, and
// substitutionTexts, reading all of them and stopping at the first.
func TestSubstitutionsAsBefore(t *testing.T) {
	var texts []string
	for _, text := range append(prefilterTexts(t), substitutionTexts...) {
		texts = append(texts, text)
		if strings.Contains(text, "\n") {
			texts = append(texts, strings.Split(text, "\n")...)
		}
	}
	found, skipped := 0, 0
	for _, text := range texts {
		for _, first := range []bool{false, true} {
			var got, want []substitution
			substitutions(text, func(s substitution) bool { got = append(got, s); return first })
			substitutionsAsBefore(text, func(s substitution) bool { want = append(want, s); return first })
			if !slices.Equal(got, want) {
				t.Errorf("substitutions(%.100q) = %+v, was %+v", text, got, want)
			}
			if !first {
				found += len(want)
			}
		}
		if !maySubstitute(text) {
			skipped++
		}
	}
	if found == 0 || skipped == 0 {
		t.Errorf("%d substitutions, %d texts skipped: the comparison says nothing", found, skipped)
	}
	t.Logf("%d texts, %d substitutions, %d skipped", len(texts), found, skipped)
}

// FuzzSubstitutions: substitutions finds what it found reading every text quote by quote.
func FuzzSubstitutions(f *testing.F) {
	for _, text := range substitutionTexts {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var got, want []substitution
		substitutions(text, func(s substitution) bool { got = append(got, s); return false })
		substitutionsAsBefore(text, func(s substitution) bool { want = append(want, s); return false })
		if !slices.Equal(got, want) {
			t.Errorf("substitutions(%q) = %+v, was %+v", text, got, want)
		}
	})
}

package checks

import (
	"strings"
	"testing"
)

// containsFoldCases are texts for containsFold: the word in each case, at either end, cut
// short, beside bytes that are not ASCII (İ and the Kelvin sign lower to i and k; invalid UTF-8
// lowers to U+FFFD), and punctuation whose bit 0x20 is set (a carriage return is '-' with
// that bit).
var containsFoldCases = []string{
	"", "a", "authorization", "AUTHORIZATION", "Proxy-Authorization: Basic x", "x authorizatio", "uthorization",
	"AUTHORİZATION", "authorİzation", "\xffauthorization", "authorization\xff", "é Authorization", "ﬃ authorization",
	"x-honeycomb-team", "X-Honeycomb-Team: k", "x\rhoneycomb\rteam", "X-HONEYCOMB-TEAM", "x-honeycomb-tea",
	"x-honeycomb-team\n", "\u212a", "x-honeycomb-tea\u212a", "X-HoneyComb-Team\xc3",
	"1-1-2", "zz authorizatioN authorization", "x-honeycomb-teaX-HONEYCOMB-TEAM",
	// Characters beyond ASCII that lower to others beyond it, beside, inside and far from the
	// word; İ or the Kelvin sign elsewhere in a text that holds the word or not.
	"é Authorization é", "authoré ization", "AUTHOR\u0130ZATION é", "authoriz\xffation", "Ω x-HONEYCOMB-team",
	"x-honeycomb-\u00e9team", "\u212a x-honeycomb-team", "İ authorization", "İ AUTHORIZATIO", "ΑUTHORIZATION",
	"\u0130\u212a", "é\u0130", "é\u212a", "1-\u00e92", "\u00c0uthorization",
}

// TestContainsFoldAsLowerContains: containsFold(text, word) is strings.Contains(strings.ToLower(
// text), word), what literalAuthorizationHeader and honeycombTeamHeader asked before it.
func TestContainsFoldAsLowerContains(t *testing.T) {
	for _, text := range containsFoldCases {
		for _, word := range []string{"authorization", "x-honeycomb-team", "i", "k", "1-2", "-"} {
			if got, want := containsFold(text, word), strings.Contains(strings.ToLower(text), word); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", text, word, got, want)
			}
		}
	}
}

// FuzzContainsFold: containsFold is strings.Contains of the lower-case text for any text.
func FuzzContainsFold(f *testing.F) {
	for _, text := range containsFoldCases {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, word := range []string{"authorization", "x-honeycomb-team", "ik", "1-2"} {
			if got, want := containsFold(text, word), strings.Contains(strings.ToLower(text), word); got != want {
				t.Fatalf("containsFold(%q, %q) = %v, want %v", text, word, got, want)
			}
		}
	})
}

// TestContainsFoldOnTheCorpus: containsFold is strings.Contains of the lower-case text for every
// text of prefilterTexts (every string of testdata, ../shared/corpus and this package's
// literals: the commands, scripts, ConfigMap values and dashboards the text readers read), each
// of its lines, and each with İ or the Kelvin sign put before it (the two characters beyond
// ASCII that lower to ASCII), for the words the text readers ask about and words with i and k.
func TestContainsFoldOnTheCorpus(t *testing.T) {
	texts, beyondASCII := 0, 0
	for _, text := range prefilterTexts(t) {
		variants := []string{text, "\u0130" + text, "\u212a" + text}
		if strings.Contains(text, "\n") {
			variants = append(variants, strings.Split(text, "\n")...)
		}
		for _, v := range variants {
			texts++
			if !asciiText(v) {
				beyondASCII++
			}
			for _, word := range []string{"authorization", "x-honeycomb-team", "ik", "kind", "image"} {
				if got, want := containsFold(v, word), strings.Contains(strings.ToLower(v), word); got != want {
					t.Errorf("containsFold(%.100q, %q) = %v, want %v", v, word, got, want)
				}
			}
		}
	}
	t.Logf("%d texts, %d beyond ASCII", texts, beyondASCII)
}

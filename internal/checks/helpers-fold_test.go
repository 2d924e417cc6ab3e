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

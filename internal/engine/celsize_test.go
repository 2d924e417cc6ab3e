package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestReplacedSizeIsTheSizeOfTheResult: the size sizeGuards checks before replace builds its
// result is the size CEL gives the result, for the empty string, multi-byte characters, a
// replacement that shrinks the string and a limit on the replacements.
func TestReplacedSizeIsTheSizeOfTheResult(t *testing.T) {
	for _, s := range []string{"", "abc", "aaaa", "héllo wörld", "a\xffb"} {
		for _, old := range []string{"", "a", "l", "ö", "aa", "zz"} {
			for _, repl := range []string{"", "x", "ÿÿÿ", "long replacement"} {
				for _, n := range []int64{-1, 0, 1, 2, 100} {
					want := utf8.RuneCountInString(strings.Replace(s, old, repl, int(n)))
					if got := replacedSize(s, old, repl, n); got != uint64(want) {
						t.Errorf("replacedSize(%q, %q, %q, %d) = %d, want %d", s, old, repl, n, got, want)
					}
				}
			}
		}
	}
}

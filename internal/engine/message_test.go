package engine

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for name, tc := range map[string]struct {
		in      string
		max     int // 0: Truncate
		wantLen int
		cut     bool
	}{
		"a message at the bound is kept":          {in: strings.Repeat("a", MaxMessageLength), wantLen: MaxMessageLength},
		"a longer message is cut to the bound":    {in: strings.Repeat("a", 3*MaxMessageLength), wantLen: MaxMessageLength, cut: true},
		"a cut never splits a multi-byte letter":  {in: strings.Repeat("é", MaxMessageLength), wantLen: MaxMessageLength - 1, cut: true},
		"an empty message stays empty":            {in: "", wantLen: 0},
		"a short message with letters is kept as": {in: "ключ", wantLen: len("ключ")},
		"a tighter bound cuts there":              {in: strings.Repeat("a", 100), max: 40, wantLen: 40, cut: true},
		"a tighter bound never splits a letter":   {in: strings.Repeat("é", 100), max: 40, wantLen: 39, cut: true},
	} {
		t.Run(name, func(t *testing.T) {
			got := Truncate(tc.in)
			if tc.max > 0 {
				got = TruncateTo(tc.in, tc.max)
			}
			if len(got) != tc.wantLen || strings.HasSuffix(got, "...") != tc.cut || !utf8.ValidString(got) {
				t.Errorf("Truncate gave %d bytes (valid UTF-8 %v, ends in ... %v); want %d, cut %v", len(got), utf8.ValidString(got), strings.HasSuffix(got, "..."), tc.wantLen, tc.cut)
			}
		})
	}
}

// A result's message is text people read in many places (scan's outputs, the report, kubectl
// printing the webhook's denial, PolicyReport viewers), so what a check writes unquoted from an
// object (a mount path, an image in a library's error) is shown, not obeyed: a mount path
// "/etc/app\x1b[1A\x1b[2K\rall checks passed" would otherwise erase a line of kubectl's output.
func TestAResultsMessageIsPrintable(t *testing.T) {
	c := &Context{check: &PlannedCheck{}}
	c.Fail("", "key %q mounted at %s", "password", "/etc/app\x1b[1A\x1b[2K\rall checks passed\u202e\u200b\n\x9b")
	want := `key "password" mounted at /etc/app\x1b[1A\x1b[2K\rall checks passed\u202e\u200b\n\x9b`
	if got := c.out[0].Message; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	for _, s := range []string{"no memory limit", "ключ «api» — 東京", ""} {
		if got := Printable(s); got != s {
			t.Errorf("Printable(%q) = %q: printable text must be kept as it is", s, got)
		}
	}
}

// printableByByte is Printable as it was, looking at one byte at a time.
func printableByByte(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return printableSlow(s)
		}
	}
	return s
}

// TestPrintableEightBytesAtATime: Printable, which looks at eight bytes at a time, writes what
// looking at one byte at a time writes, for every byte value at every place of texts of 1 to
// 24 bytes, beside every other (so that a borrow or carry from one byte reaches the next).
func TestPrintableEightBytesAtATime(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for at := range n {
			for c := range 256 {
				for _, fill := range []byte{' ', '~', 'a', 0x7f, 0x1f, 0x00, 0xff, 0x80} {
					b := bytes.Repeat([]byte{fill}, n)
					b[at] = byte(c)
					s := string(b)
					if got, want := Printable(s), printableByByte(s); got != want {
						t.Fatalf("Printable(%q) = %q, want %q", s, got, want)
					}
				}
			}
		}
	}
}

// FuzzPrintable: Printable writes what looking at one byte at a time writes.
func FuzzPrintable(f *testing.F) {
	for _, seed := range []string{"", "no memory limit", "ключ «api» — 東京", "/etc/app\x1b[1A\r", "12345678~\x7f", "        \x1f"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Printable(s), printableByByte(s); got != want {
			t.Errorf("Printable(%q) = %q, want %q", s, got, want)
		}
	})
}

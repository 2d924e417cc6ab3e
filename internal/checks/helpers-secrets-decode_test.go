package checks

import (
	"encoding/base64"
	"strings"
	"testing"
)

// decodeBase64SegmentAsBefore is decodeBase64Segment as it was, with base64's DecodeString.
func decodeBase64SegmentAsBefore(seg string) string {
	if !strings.ContainsAny(seg, "0123456789+/-_") {
		return ""
	}
	if len(seg)%4 == 0 && !strings.ContainsAny(seg, "-_") {
		if plain, err := base64.StdEncoding.DecodeString(seg); err == nil && isPrintableASCII(plain) {
			return string(plain)
		}
	}
	if len(seg)%4 != 1 && !strings.ContainsAny(seg, "+/=") {
		if plain, err := base64.RawURLEncoding.DecodeString(seg); err == nil && isPrintableASCII(plain) {
			return string(plain)
		}
	}
	return ""
}

// isBase64CharAsBefore is isBase64Char as it was, without a table.
func isBase64CharAsBefore(c byte) bool {
	return isASCIIAlnum(c) || c == '_' || c == '/' || c == '+' || c == '-'
}

// base64Runs are the runs of base64 characters of text, as decodeSegments finds them, and the
// segments it decodes (up to two '=' after a run of 16 or more).
func base64Runs(text string) []string {
	var runs []string
	for i := 0; i < len(text); {
		if !isBase64CharAsBefore(text[i]) {
			i++
			continue
		}
		start := i
		for i < len(text) && isBase64CharAsBefore(text[i]) {
			i++
		}
		end := i
		for pad := 0; pad < 2 && end < len(text) && text[end] == '='; pad++ {
			end++
		}
		runs = append(runs, text[start:i], text[start:end])
	}
	return runs
}

// TestBase64SegmentsDecodeAsBefore: decodeBase64Segment, which decodes into memory of its own
// stack when the segment fits, gives what decoding with DecodeString gave, for every run of
// base64 characters (with and without its padding) of every text of prefilterTexts and of
// segments made to be at and around the size of its buffer; and isBase64Char is the
// comparisons it was, for every byte.
func TestBase64SegmentsDecodeAsBefore(t *testing.T) {
	for c := range 256 {
		if got, want := isBase64Char(byte(c)), isBase64CharAsBefore(byte(c)); got != want {
			t.Errorf("isBase64Char(%q) = %v, want %v", byte(c), got, want)
		}
	}
	segments := []string{"", "a1", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQ=", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQK", "_-_-", "////"}
	for _, n := range []int{339, 340, 341, 342, 343, 344, 345, 346, 347, 348, 1000} {
		plain := strings.Repeat("password=Orders-2024;", n/15+1)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
			e := enc.EncodeToString([]byte(plain))
			segments = append(segments, e[:min(n, len(e))], e[:min(n, len(e))]+"==", e)
		}
	}
	for _, text := range prefilterTexts(t) {
		segments = append(segments, base64Runs(text)...)
	}
	decoded := 0
	for _, seg := range segments {
		got, want := decodeBase64Segment(seg), decodeBase64SegmentAsBefore(seg)
		if got != want {
			t.Errorf("decodeBase64Segment(%.100q) = %.100q, DecodeString gives %.100q", seg, got, want)
		}
		if want != "" {
			decoded++
		}
	}
	if decoded == 0 {
		t.Error("no segment decoded: the comparison says nothing")
	}
	t.Logf("%d segments, %d decoded", len(segments), decoded)
}

// FuzzBase64Segment: decodeBase64Segment gives what decoding with DecodeString gives.
func FuzzBase64Segment(f *testing.F) {
	for _, seed := range []string{"", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQ=", "kube_pod_container_resource_requests", "a-b_c+d/e0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		if got, want := decodeBase64Segment(seg), decodeBase64SegmentAsBefore(seg); got != want {
			t.Errorf("decodeBase64Segment(%q) = %q, DecodeString gives %q", seg, got, want)
		}
	})
}

// BenchmarkDecodeSegments is decodeSegments over every text of prefilterTexts (the corpus's
// ConfigMap values, environment values and commands among them), as gitleaks' decoding reads
// each before its rules run again.
func BenchmarkDecodeSegments(b *testing.B) {
	texts := prefilterTexts(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, text := range texts {
			decodeSegments(text)
		}
	}
}

// plainNames are the names TestPlainValuesDecodeNothing and FuzzPlainValue put before values:
// names with no base64 run, with runs shorter and longer than 16 (which may take the '=' and a
// first '=' of the value as padding), one that decodes, and names holding '%' (whose
// percent-encoded segment runs on into the value, and are never plain).
var plainNames = []string{"", "A", "PASSWORD", "DATABASE_URL_B64", "config.json", "kube_pod_container_resource_requests",
	"cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "cGFzc3dvcmQ9T3JkZXJzLTIwMj", "%00", "x%41", "%", "a%0", "100%", "%7e%00"}

// plainValues are values beside the corpus's: segments that decode only when read from their
// start, and percent-encoded ones.
var plainValues = []string{"", "=", "==", "=cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "==cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "%41", "%41%42",
	"a%20b", "cGFzc3dvcmQ9T3JkZXJzLTIwMjQ=", "x=cGFzc3dvcmQ9T3JkZXJzLTIwMjQ", "postgres%3A%2F%2Fapp%3As3cret%40db%2Fapp"}

// TestPlainValuesDecodeNothing: when leakedSecretsPlain says a value is plain, decodeSegments
// decodes nothing in it, and encodedCredential, which envCredential and keyCredential then
// skip, finds nothing: for every text of prefilterTexts (the corpus's ConfigMap values,
// environment values and commands among them) and plainValues under each of plainNames, the
// property decodeSegments(name=value) decoding nothing, name without '%', implies; and for
// leakedSecretsPlain itself under a few of them.
func TestPlainValuesDecodeNothing(t *testing.T) {
	values := append(prefilterTexts(t), plainValues...)
	plainByPair, notPlain := 0, 0
	for _, v := range values {
		_, alone := decodeSegments(v)
		for _, k := range plainNames {
			_, pair := decodeSegments(k + "=" + v)
			if !pair && !strings.Contains(k, "%") {
				plainByPair++
				if alone {
					t.Errorf("decodeSegments(%.40q=%.100q) decodes nothing, but the value alone decodes", k, v)
				}
			}
		}
	}
	for _, v := range values {
		_, alone := decodeSegments(v)
		for _, k := range []string{"PASSWORD", "kube_pod_container_resource_requests", "%00", "x%41"} {
			_, plain, err := leakedSecretsPlain(k, v)
			if err != nil {
				t.Fatal(err)
			}
			if !plain {
				notPlain++
				continue
			}
			if alone {
				t.Errorf("leakedSecretsPlain(%q, %.100q) says plain, but the value decodes", k, v)
			} else if got := encodedCredential(v); got != "" {
				t.Errorf("leakedSecretsPlain(%q, %.100q) says plain, but encodedCredential finds %q", k, v, got)
			}
		}
	}
	if plainByPair == 0 || notPlain == 0 {
		t.Errorf("%d plain pairs, %d not plain: the comparison says nothing", plainByPair, notPlain)
	}
	t.Logf("%d values, %d plain pairs; leakedSecretsPlain: %d not plain", len(values), plainByPair, notPlain)
}

// FuzzPlainValue: a value leakedSecretsPlain says is plain decodes nothing.
func FuzzPlainValue(f *testing.F) {
	for _, k := range plainNames {
		for _, v := range plainValues {
			f.Add(k, v)
		}
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		_, plain, err := leakedSecretsPlain(k, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, alone := decodeSegments(v); plain && alone {
			t.Errorf("leakedSecretsPlain(%q, %q) says plain, but the value decodes", k, v)
		}
	})
}

package secretrules

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRulesLoad: every default rule loads and compiles.
func TestRulesLoad(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// gitleaks v8.30.1 ships 222 rules; 5 of them need a file path and do not apply here.
	if len(r.rules) < 200 {
		t.Errorf("only %d rules loaded from gitleaks %s", len(r.rules), GitleaksVersion)
	}
	// Each regex is compiled when its rule first runs, and must compile.
	for i := range r.rules {
		func() {
			defer func() {
				if err := recover(); err != nil {
					t.Errorf("rule %s does not compile: %v", r.rules[i].id, err)
				}
			}()
			r.rules[i].compile()
		}()
	}
	// So is each allowlist's, when it is first consulted.
	lists := map[string][]allowlist{"global": r.global}
	for _, ru := range r.rules {
		lists["rule "+ru.id] = ru.allowlists
	}
	n := 0
	for name, ls := range lists {
		for i := range ls {
			func() {
				defer func() {
					if err := recover(); err != nil {
						t.Errorf("an allowlist of %s does not compile: %v", name, err)
					}
				}()
				ls[i].compile()
				if len(ls[i].regexes) != len(ls[i].exprs) {
					t.Errorf("an allowlist of %s compiled %d of its %d regexes", name, len(ls[i].regexes), len(ls[i].exprs))
				}
				n += len(ls[i].regexes)
			}()
		}
	}
	if n < 40 {
		t.Errorf("only %d allowlist regexes compiled", n)
	}
}

func TestFind(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		text string
		want string // a rule ID among the findings, or "" for none
	}{
		"an AWS access key id":                {"AWS_ACCESS_KEY_ID=AKIA4HK2VCQRT7YNXW3Q", "aws-access-token"},
		"AWS's documented example key":        {"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", ""},
		"a PEM private key":                   {"TLS_KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Yx7b1Bq9kLhVx8vW0aPjN4Pq3aD\n-----END RSA PRIVATE KEY-----", "private-key"},
		"a GitHub token":                      {"GH=ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI", "github-pat"},
		"an Azure Batch key by its name":      {"AZURE_BATCH_KEY=q8Vn3Rt7Lm2Xk9Pw4Sy6Bc1Df5Hj0Ae8Ui3Oz7Nv2=", "generic-api-key"},
		"an OCI CLI key content by its name":  {"OCI_CLI_KEY_CONTENT=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz", "generic-api-key"},
		"a plain setting":                     {"LOG_LEVEL=debug", ""},
		"a key name with a low-entropy value": {"API_KEY=aaaaaaaaaaaaaaaa", ""},
		"a key id is not a key":               {"KEY_ID=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var ids []string
			for _, f := range r.Find(tc.text) {
				ids = append(ids, f.RuleID)
			}
			switch {
			case tc.want == "" && len(ids) > 0:
				t.Errorf("Find(%q) = %v, want nothing", tc.text, ids)
			case tc.want != "" && !slices.Contains(ids, tc.want):
				t.Errorf("Find(%q) = %v, want %s among them", tc.text, ids, tc.want)
			}
		})
	}
}

func BenchmarkFindShortValue(b *testing.B) {
	r, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r.Find("LOG_LEVEL=info")
	}
}

func BenchmarkFindCredentialName(b *testing.B) {
	r, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r.Find("DB_PASSWORD=hunter2-not-a-real-one")
	}
}

// TestEntropyBoundFindsTheSame: skipping rules whose entropy threshold the text's distinct
// characters cannot exceed finds exactly what running every candidate rule finds.
func TestEntropyBoundFindsTheSame(t *testing.T) {
	fast, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	slow := *fast
	slow.exhaustive = true
	texts := []string{
		"LOG_LEVEL=debug", "API_KEY=aaaaaaaaaaaaaaaa", "API_KEY=abcabcabcabcabc", "TOKEN=0123456789ab",
		"AZURE_BATCH_KEY=q8Vn3Rt7Lm2Xk9Pw4Sy6Bc1Df5Hj0Ae8Ui3Oz7Nv2=", "GH=ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI",
		"SECRET=ééééèèèèêêêêëëëë", "auth_token=ÄÖÜäöüßÄÖÜäöüß", "password=hunter2hunter2",
		"jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"LINEAR_CLIENT_SECRET=0123456789abcdef0123456789abcdef",
	}
	// Every suffix and prefix of every text as well: the bound must hold for the part of the
	// text a rule matches, whatever it is.
	var all []string
	for _, tx := range texts {
		for i := range len(tx) {
			all = append(all, tx[i:], tx[:i+1])
		}
	}
	for _, tx := range all {
		if got, want := fast.Find(tx), slow.Find(tx); !slices.Equal(got, want) {
			t.Errorf("%q: %v with the entropy bound, %v without", tx, got, want)
		}
	}
}

func TestMaxEntropyBoundsShannonEntropy(t *testing.T) {
	for _, s := range []string{"a", "ab", "aab", "abc", "ééè", "éè", "é", "aé", "abcdefghijkl", "ÄÖÜäöüß", "\xff\xfe"} {
		if e, b := shannonEntropy(s), maxEntropy(s); e > b {
			t.Errorf("%q: entropy %.3f above the bound %.3f", s, e, b)
		}
	}
}

// spanTexts are texts where a match borders on what no match holds, on the text's ends and on
// non-ASCII characters, for TestSpansFindTheSame and FuzzSpans.
var spanTexts = []string{
	"{\"apiKey\": \"q8Vn3Rt7Lm2Xk9Pw4Sy6Bc1Df5Hj0Ae8Ui3Oz7Nv2=\"}", "(token=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz)",
	"[GH=ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI]", "ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI", "<ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI>",
	"ɢʜ=ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uIé", "\u212Aey=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz", "ſecret: Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz",
	"{{ .Values.password }}\npassword: {hunter2hunter2}", "AKIA4HK2VCQRT7YNXW3Q}", "{AKIA4HK2VCQRT7YNXW3Q",
	"TLS_KEY=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Yx7b1Bq9kLhVx8vW0aPjN4Pq3aD\n-----END RSA PRIVATE KEY-----",
	"jwt=(eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U)",
	"LINEAR_CLIENT_SECRET=0123456789abcdef0123456789abcdef", "linear(x) key{=}Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz",
	"\xff\xfeAPI_KEY=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz\xff", "x.api_token: Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz\napikey=Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lzz",
	"my-app.secret-key = \"Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz\" token=Er7Ty4Ui1Op6As3Df8Gh5Jk0LzQw2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaapikey=Zx9Qw2Er7Ty4Ui1Op6As3Df8Gh5Jk0Lz", "https://hooks.slack.com/services/T01234567/B01234567/abcdefghijklmnopqrstuvwx",
}

// TestSpansFindTheSame: running each rule only over the spans of text its matches can lie in,
// and matching rules like generic-api-key from their keywords, finds every match that running
// the rule over the whole text finds, at the same place and in the same order, and so the same
// findings: on every ConfigMap value and environment variable of the corpus (the texts scan
// gives Find) and on texts made to test the edges, however short.
func TestSpansFindTheSame(t *testing.T) {
	rules, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	whole := *rules
	whole.exhaustive = true
	texts := corpusTexts(t)
	for _, tx := range spanTexts {
		for i := range len(tx) {
			texts = append(texts, tx[i:], tx[:i+1])
		}
	}
	leads := 0
	for i := range rules.rules {
		rules.rules[i].compile()
		if rules.rules[i].lead != nil {
			leads++
		}
	}
	if leads < 50 {
		t.Errorf("only %d rules are matched from their keywords (generic-api-key and the like)", leads)
	}
	for _, noLead := range []bool{false, true} {
		fast := *rules
		fast.spansFrom, fast.noLead = 0, noLead
		found, matched := 0, 0
		for _, tx := range texts {
			lower := ""
			candidates := fast.candidates(tx, &lower, nil)
			for i := range fast.rules {
				if !candidates.has(i) {
					continue
				}
				ru := &fast.rules[i]
				ru.compile()
				got, want := slices.Collect(fast.locations(ru, tx, &lower, nil)), ru.re.FindAllStringSubmatchIndex(tx, -1)
				if !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("%s in %.200q: matches %v over spans (keywords: %v), %v over the whole text", ru.id, tx, got, !noLead, want)
				}
				matched += len(got)
			}
			got, want := fast.Find(tx), whole.Find(tx)
			if !slices.Equal(got, want) {
				t.Errorf("%.200q: %v over spans (keywords: %v), %v over the whole text", tx, got, !noLead, want)
			}
			found += len(got)
		}
		if found == 0 || matched == 0 {
			t.Error("no text had a match or a finding: the comparison says nothing")
		}
	}
}

// corpusTexts are the name=value texts scan checks in ../../../shared/corpus: ConfigMap data
// and container environment variables, read as the YAML says (a rough reader: values of
// `key: |` blocks and of one-line `key: value` pairs are enough to hold Find to its reference).
func corpusTexts(t testing.TB) []string {
	t.Helper()
	var texts []string
	err := filepath.WalkDir("../../../shared/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		for i := 0; i < len(lines); i++ {
			key, value, ok := strings.Cut(strings.TrimSpace(lines[i]), ": ")
			if !ok {
				continue
			}
			if value != "|" && value != "|-" && value != ">" {
				texts = append(texts, key+"="+value)
				continue
			}
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			var block []string
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent) {
				i++
				block = append(block, strings.TrimSpace(lines[i]))
			}
			texts = append(texts, key+"="+strings.Join(block, "\n"))
		}
		return nil
	})
	if err != nil || len(texts) == 0 {
		t.Skipf("corpus not available: %v", err)
	}
	return texts
}

// FuzzSpans: whatever the text, every rule matches over spans and from its keywords where it
// matches over the whole text, and Find finds the same.
func FuzzSpans(f *testing.F) {
	for _, tx := range spanTexts {
		f.Add(tx)
	}
	rules, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	fast, whole := *rules, *rules
	fast.spansFrom = 0
	whole.exhaustive = true
	f.Fuzz(func(t *testing.T, tx string) {
		lower := ""
		for i := range fast.rules {
			ru := &fast.rules[i]
			ru.compile()
			got, want := slices.Collect(fast.locations(ru, tx, &lower, nil)), ru.re.FindAllStringSubmatchIndex(tx, -1)
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%s in %q: matches %v over spans, %v over the whole text", ru.id, tx, got, want)
			}
		}
		if got, want := fast.Find(tx), whole.Find(tx); !slices.Equal(got, want) {
			t.Errorf("%q: %v over spans, %v over the whole text", tx, got, want)
		}
		if got, want := fast.Find(tx), fast.findByEveryIndex(tx); !slices.Equal(got, want) {
			t.Errorf("%q: %v, asking about every rule gives %v", tx, got, want)
		}
	})
}

// TestASCIILower: only ASCII letters are lowered, byte for byte, so that offsets in the lowered
// text are those of the text (multi-byte runes and invalid bytes stay as they are); the result
// is made once per text.
func TestASCIILower(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", ""},
		{"already lower-case 123", "already lower-case 123"},
		{"AWS_SECRET=AKIA", "aws_secret=akia"},
		{"Größe=ÄÖÜ Kelvin=\u212a", "größe=ÄÖÜ kelvin=\u212a"},
		{"bad\xffUTF-8\xc3", "bad\xffutf-8\xc3"},
		{"endsUPPER", "endsupper"},
	} {
		var lower string
		if got := asciiLower(tc.text, &lower); got != tc.want || len(got) != len(tc.text) {
			t.Errorf("asciiLower(%q) = %q, want %q", tc.text, got, tc.want)
		}
		if lower != tc.want {
			t.Errorf("asciiLower(%q) kept %q, want %q", tc.text, lower, tc.want)
		}
	}
	lower := "stale" // as long as the text: taken as made for it already
	if got := asciiLower("FRESH", &lower); got != "stale" {
		t.Errorf("asciiLower made the lowered text again (%q) though one was kept", got)
	}
}

// TestASCIILowerEveryByte: asciiLower and isASCII, which look at eight bytes at a time, agree
// with a byte at a time for every byte value at every place of texts of 1 to 19 bytes (around
// a word, across two, and in the tail after them), among lower- and upper-case letters.
func TestASCIILowerEveryByte(t *testing.T) {
	lowerByte := func(text string) string {
		b := []byte(text)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	asciiByte := func(text string) bool {
		for i := 0; i < len(text); i++ {
			if text[i] >= 0x80 {
				return false
			}
		}
		return true
	}
	for n := 1; n < 20; n++ {
		for _, fill := range []byte{'a', 'Z'} {
			for at := 0; at < n; at++ {
				for c := 0; c < 256; c++ {
					b := bytes.Repeat([]byte{fill}, n)
					b[at] = byte(c)
					text := string(b)
					var lower string
					if got, want := asciiLower(text, &lower), lowerByte(text); got != want {
						t.Fatalf("asciiLower(%q) = %q, want %q", text, got, want)
					}
					if got, want := isASCII(text), asciiByte(text); got != want {
						t.Fatalf("isASCII(%q) = %v, want %v", text, got, want)
					}
				}
			}
		}
	}
}

// TestCandidatesAsGitleaks holds the one pass that picks the rules to run to gitleaks' way of
// picking them: a rule runs when one of its keywords is in strings.ToLower(text) (or it has
// none). Texts all ASCII are lowered byte by byte without a copy of strings.ToLower's; the
// others, where the two differ (the Kelvin sign is a k to strings.ToLower, İ two
// characters), go through strings.ToLower.
func TestCandidatesAsGitleaks(t *testing.T) {
	rules, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var keywords []keyword
	keywords = append(keywords, rules.short...)
	for _, g := range rules.byPrefix {
		keywords = append(keywords, g...)
	}
	texts := append(corpusTexts(t),
		"", "A", "PASSWORD=hunter2hunter2", "Api_Token=abc", "\u212aEY=x", "\u212aubeconfig-token=1",
		"İ=PASSWORD", "ſecret=x", "naïve-secret=Ünïcode TOKEN", "\xff\xfeAWS_SECRET=x")
	for _, tx := range texts {
		want := map[int]bool{}
		for _, i := range rules.always {
			want[i] = true
		}
		low := strings.ToLower(tx)
		for _, kw := range keywords {
			if strings.Contains(low, kw.word) {
				for _, i := range kw.rules {
					want[i] = true
				}
			}
		}
		dirty := make([]uint64, 8) // memory a set was made in before: nothing of it may stay
		for i := range dirty {
			dirty[i] = ^uint64(0)
		}
		for _, buf := range [][]uint64{nil, dirty[:0]} {
			lower := ""
			got := rules.candidates(tx, &lower, buf)
			for i := range rules.rules {
				if got.has(i) != want[i] {
					t.Errorf("%.80q: rule %s a candidate %v, gitleaks %v", tx, rules.rules[i].id, got.has(i), want[i])
				}
			}
		}
	}
}

// findByEveryIndex is Find as it was, asking the candidates about every rule in turn.
func (r *Rules) findByEveryIndex(text string) []Finding {
	lower := ""
	candidates := r.candidates(text, &lower, nil)
	bound := -1.0
	var out []Finding
	for i := range r.rules {
		if !candidates.has(i) {
			continue
		}
		if e := r.rules[i].entropy; e != 0 && !r.exhaustive {
			if bound < 0 {
				bound = maxEntropy(text)
			}
			if bound <= e {
				continue
			}
		}
		ru := &r.rules[i]
		ru.compile()
		if r.matches(ru, text, &lower, nil) {
			out = append(out, Finding{RuleID: ru.id, Description: ru.description})
		}
	}
	return out
}

// TestFindTakesTheCandidatesInRuleOrder: Find, which takes the candidate rules one set bit at
// a time, finds what asking about every rule in turn finds, in the same order, on the corpus's
// texts and spanTexts (with several findings in one text among them), with and without the
// entropy bound.
func TestFindTakesTheCandidatesInRuleOrder(t *testing.T) {
	rules, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	texts := append(corpusTexts(t), spanTexts...)
	texts = append(texts, strings.Join(spanTexts, "\n"), "AKIA4HK2VCQRT7YNXW3Q ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx")
	for _, exhaustive := range []bool{false, true} {
		r := *rules
		r.exhaustive = exhaustive
		several := 0
		for _, tx := range texts {
			got, want := r.Find(tx), r.findByEveryIndex(tx)
			if !slices.Equal(got, want) {
				t.Errorf("Find(%.200q) = %v, asking about every rule gives %v", tx, got, want)
			}
			if len(want) > 1 {
				several++
			}
		}
		if several == 0 {
			t.Error("no text had more than one finding: the order was not compared")
		}
	}
}

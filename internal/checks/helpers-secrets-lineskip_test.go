package checks

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// The per-line readers as they were before they skipped lines without their word
// (lineMayHoldFold, strings.Contains) before splitting them into words: every line split. The
// tests below require the same findings of both on every text.

func redisPasswordDirectivesEveryLine(content string, scripts []map[string]string) []string {
	directives := strings.Contains(content, "requirepass") || strings.Contains(content, "masterauth") ||
		strings.Contains(content, "REQUIREPASS") || strings.Contains(content, "MASTERAUTH")
	sentinel := strings.Contains(content, "-pass")
	acl := strings.Contains(content, ">") && (strings.Contains(content, "user") || strings.Contains(content, "USER"))
	if !directives && !sentinel && !acl {
		return nil
	}
	var names []string
	// Each a set, not a list looked through (an ACL file names a user a line), and the scripts
	// read once for all lines (sedScripts): a tenant writes the lines.
	named := map[string]bool{}
	sed := &sedScripts{scripts: scripts}
	add := func(name, value string) {
		if !named[name] && !shellExpansion(value) && credentialValue(name, value) && !sed.replaced(value) {
			named[name] = true
			names = append(names, name)
		}
	}
	for line := range strings.SplitSeq(content, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch name := strings.ToLower(fields[0]); {
		case directives && (name == "requirepass" || name == "masterauth"):
			if value, ok := directiveArgument(line, fields, 1); ok {
				add(name, value)
			}
		case sentinel && name == "sentinel":
			// sentinel auth-pass <master> <password>; sentinel sentinel-pass <password>.
			switch sub := strings.ToLower(fields[1]); sub {
			case "auth-pass", "sentinel-pass":
				skip := 2
				if sub == "auth-pass" {
					skip = 3
				}
				if value, ok := directiveArgument(line, fields, skip); ok {
					add("sentinel "+sub, value)
				}
			}
		case acl:
			for _, p := range aclPasswords(fields) {
				add("user "+p[0]+"'s password", p[1])
			}
		}
	}
	return names
}

func haproxyStatsAuthEveryLine(text string) bool {
	if !strings.Contains(text, "stats") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "stats" && f[1] == "auth" {
			if p, ok := userPasswordValue(strings.ReplaceAll(f[2], `"`, "")); ok && !shellExpansion(p) && credentialValue("password", p) {
				return true
			}
		}
	}
	return false
}

func haproxyInsecurePasswordEveryLine(text string) bool {
	if !strings.Contains(text, "insecure-password") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		for i := 2; i+1 < len(f); i++ {
			if f[0] == "user" && f[i] == "insecure-password" && !shellExpansion(f[i+1]) && credentialValue("password", strings.Trim(f[i+1], `"'`)) {
				return true
			}
		}
	}
	return false
}

func cntlmPasswordEveryLine(k, text string) string {
	base := strings.ToLower(path.Base(k))
	named := base == "cntlm.conf" || base == "cntlm.ini"
	if !named && !containsFold(text, "passn") && !containsFold(text, "passlm") {
		return ""
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		d := strings.ToLower(f[0])
		name, ok := cntlmHashDirectives[d]
		if !ok && !(named && d == "password") {
			continue
		}
		if !ok {
			name = "Password"
		}
		if v := f[1]; literalPasswordField(v) {
			return name
		}
	}
	return ""
}

func snmpCreateUserPassphraseEveryLine(text string) bool {
	if !containsFold(text, "createuser") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.EqualFold(f[0], "createUser") {
			continue
		}
		i := 1
		if f[i] == "-e" {
			i += 2
		}
		// f[i] is the user; then the authentication protocol and passphrase, and the privacy
		// protocol and passphrase.
		for _, p := range []struct {
			at    int
			known map[string]bool
		}{{i + 1, snmpAuthProtocols}, {i + 3, snmpPrivProtocols}} {
			if p.at+1 >= len(f) || !p.known[strings.ToUpper(f[p.at])] {
				break
			}
			if literalPasswordField(strings.Trim(f[p.at+1], `"'`)) {
				return true
			}
		}
	}
	return false
}

// lineSkipTexts are texts whose words the per-line readers take in any case, besides
// prefilterTexts: a directive or word whose letters strings.ToLower or strings.EqualFold take
// for ASCII ones (İ for i, K, the Kelvin sign, for k, ſ for s), on a line of its own and beside
// lines of other case.
var lineSkipTexts = []string{
	"requirepass Orders-2024x\n", "requirepass \"\"\nREQUİREPASS Orders-2024x\n", "MASTERAUTH \"\"\n# x\nrequİrepass Orders-2024x\n",
	"masterauth \"\"\nMasterAuth Orders-2024x",
	"sentinel auth-pass mymaster Orders-2024x\n", "SENTİNEL auth-pass mymaster Orders-2024x\nsentinel sentinel-pass Orders-2024y",
	"user alice on >Orders-2024x ~* +@all\n", "USER alice on >Orders-2024x\n", "user x\nuſer alice on >Orders-2024x\n",
	"redis-cli ACL SETUSER alice on >Orders-2024x\n", "\"user\" x\nACL SETUſER alice on >Orders-2024x\n",
	"stats auth admin:Orders-2024x\n", "  stats  auth\tadmin:Orders-2024x\r\n", "\u00a0stats auth admin:Orders-2024x\n",
	"userlist L\n  user alice insecure-password Orders-2024x\n", "user\u2003alice insecure-password Orders-2024x\n",
	"PassNT 2A9C1F3E0B7D4C8A9E6F1B2D3C4A5B6C\n", "PASSLM 2A9C1F3E0B7D4C8A9E6F1B2D3C4A5B6C\n", "Password Orders-2024x\n",
	"PaſſNT 2A9C1F3E0B7D4C8A9E6F1B2D3C4A5B6C\npassnt ${PW}\n", "Passntlmv2 2A9C1F3E0B7D4C8A9E6F1B2D3C4A5B6C\n",
	"createUser alice SHA Orders-2024x AES Orders-2024y\n", "createUſer alice SHA Orders-2024x\ncreateuser bob MD5 ${PW}\n",
	"CREATEUSER -e 0x80001f88 alice SHA Orders-2024x\n", "\u0085createUser alice SHA Orders-2024x\n",
}

// TestPerLineReadersSkipOnlyLinesWithoutTheirWord: redisPasswordDirectives,
// haproxyStatsAuth, haproxyInsecurePassword, cntlmPassword (under a Cntlm key's name and
// another) and snmpCreateUserPassphrase, which skip a line without their word, find what they
// found splitting every line, on every text of prefilterTexts (the fixtures, ../shared/corpus
// and this package's tests' strings) and of lineSkipTexts; and the comparison compared findings.
func TestPerLineReadersSkipOnlyLinesWithoutTheirWord(t *testing.T) {
	texts := append(prefilterTexts(t), lineSkipTexts...)
	found := 0
	for _, text := range texts {
		found += comparePerLineReaders(t, text)
	}
	if found < len(lineSkipTexts) {
		t.Errorf("of %d texts, %d findings: the comparison compared too few", len(texts), found)
	}
	t.Logf("%d texts, %d findings", len(texts), found)
}

// comparePerLineReaders reports, as errors of t, each reader that skips lines and finds on text
// other than it found splitting every line, and counts the findings.
func comparePerLineReaders(t *testing.T, text string) int {
	t.Helper()
	found := 0
	scripts := []map[string]string{{"init.sh": "sed -i 's/replace-default-auth/x/' /data/redis.conf\n"}}
	if got, want := redisPasswordDirectives(text, scripts), redisPasswordDirectivesEveryLine(text, scripts); !slices.Equal(got, want) {
		t.Errorf("redisPasswordDirectives(%.200q) = %q, splitting every line %q", text, got, want)
	} else if len(want) > 0 {
		found++
	}
	for _, r := range []struct {
		name      string
		got, want func(string) bool
	}{
		{"haproxyStatsAuth", haproxyStatsAuth, haproxyStatsAuthEveryLine},
		{"haproxyInsecurePassword", haproxyInsecurePassword, haproxyInsecurePasswordEveryLine},
		{"snmpCreateUserPassphrase", snmpCreateUserPassphrase, snmpCreateUserPassphraseEveryLine},
	} {
		if got, want := r.got(text), r.want(text); got != want {
			t.Errorf("%s(%.200q) = %v, splitting every line %v", r.name, text, got, want)
		} else if want {
			found++
		}
	}
	for _, k := range []string{"cntlm.conf", "CNTLM.INI", "settings"} {
		if got, want := cntlmPassword(k, text), cntlmPasswordEveryLine(k, text); got != want {
			t.Errorf("cntlmPassword(%q, %.200q) = %q, splitting every line %q", k, text, got, want)
		} else if want != "" {
			found++
		}
	}
	return found
}

// FuzzPerLineReadersSkip: whatever the text (a tenant writes it), the readers that skip lines
// without their word find what they found splitting every line.
func FuzzPerLineReadersSkip(f *testing.F) {
	for _, seed := range lineSkipTexts {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		comparePerLineReaders(t, text)
		compareLinesHolding(t, text)
	})
}

// compareLinesHolding reports, as errors of t, each word for which linesHolding yields other
// lines of text than strings.SplitSeq's lines that hold it.
func compareLinesHolding(t *testing.T, text string) {
	t.Helper()
	for _, word := range []string{"stats", "insecure-password", "s", "\r", " "} {
		var got, want []string
		for line := range linesHolding(text, word) {
			got = append(got, line)
		}
		for line := range strings.SplitSeq(text, "\n") {
			if strings.Contains(line, word) {
				want = append(want, line)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("linesHolding(%.200q, %q) = %q, want %q", text, word, got, want)
		}
	}
}

// TestLinesHolding: linesHolding yields the lines strings.SplitSeq yields that hold the word,
// once each, on the texts of lineSkipTexts and at a text's edges.
func TestLinesHolding(t *testing.T) {
	for _, text := range append([]string{"", "s", "s\n", "\ns", "\n\n", "ss ss\nxx\n s\r\n", "stats\nstats"}, lineSkipTexts...) {
		compareLinesHolding(t, text)
	}
}

// TestLineMayHoldFold: a line is skipped only when it is ASCII and holds none of the words in
// any case; a line that is not ASCII is never skipped, since strings.ToLower and
// strings.EqualFold take some of its letters for ASCII ones.
func TestLineMayHoldFold(t *testing.T) {
	for name, tc := range map[string]struct {
		line  string
		words []string
		want  bool
	}{
		"a word in upper case is held":            {"REQUIREPASS x", []string{"requirepass"}, true},
		"a word in mixed case is held":            {"x MasterAuth", []string{"requirepass", "masterauth"}, true},
		"a line without the words is not":         {"stats auth admin:x", []string{"requirepass", "masterauth"}, false},
		"an empty line holds nothing":             {"", []string{"pass"}, false},
		"a Kelvin sign may be a k":                {"\u212aey", []string{"key"}, true},
		"a long s may be an s":                    {"createUſer", []string{"createuser"}, true},
		"a dotted capital I may be an i":          {"requİrepass", []string{"requirepass"}, true},
		"any other line that is not ASCII may be": {"pässwort", []string{"createuser"}, true},
	} {
		if got := lineMayHoldFold(tc.line, tc.words...); got != tc.want {
			t.Errorf("%s: lineMayHoldFold(%q, %q) = %v, want %v", name, tc.line, tc.words, got, tc.want)
		}
	}
	if strings.ToLower("requİrepass") != "requirepass" || !strings.EqualFold("createUſer", "createUser") {
		t.Log("strings.ToLower or strings.EqualFold no longer take İ or ſ for ASCII letters")
	}
}

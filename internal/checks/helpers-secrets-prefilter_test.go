package checks

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
)

// prefilterTexts are texts the credential detectors read, for the tests of their pre-filters:
// every string (keys and values) of every fixture of testdata and of ../shared/corpus (ConfigMap
// data, annotations, environment values, commands), and every string literal of this package's
// tests (the tables of credentials each detector finds and of texts it must not).
func prefilterTexts(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	var texts []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			texts = append(texts, s)
		}
	}
	var walk func(n *yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		if n.Kind == yamlv3.ScalarNode {
			add(n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	corpus := 0
	for _, dir := range []string{"testdata", "../../../shared/corpus"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") && !strings.HasSuffix(path, ".json") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			dec := yamlv3.NewDecoder(bytes.NewReader(data))
			for {
				var n yamlv3.Node
				if err := dec.Decode(&n); err != nil {
					if !errors.Is(err, io.EOF) {
						add(string(data)) // not YAML: the file as it is
					}
					break
				}
				walk(&n)
			}
			if dir != "testdata" {
				corpus++
			}
			return nil
		})
		if err != nil && dir == "testdata" {
			t.Fatal(err)
		}
	}
	if corpus == 0 {
		t.Log("../shared/corpus is not available: only the fixtures and the tests' strings are read")
	}
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					add(s)
				}
			}
			return true
		})
	}
	return texts
}

// TestCredentialSettingsSkipsOnlyWhatHasNoSetting: credentialSettings, which skips a text
// without any of settingWordParts, lists what readCredentialSettings, which reads every text,
// lists, at the limits its callers use, for every text of prefilterTexts; and the pre-filter
// does skip most of the corpus's long values (Grafana dashboards).
func TestCredentialSettingsSkipsOnlyWhatHasNoSetting(t *testing.T) {
	texts := prefilterTexts(t)
	found, skipped := 0, 0
	for _, text := range texts {
		for _, limit := range []int{1, maxSettingsNamed} {
			got, want := credentialSettings(text, limit), readCredentialSettings(text, limit)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("credentialSettings(%.200q, %d) = %q, reading every text gives %q", text, limit, got, want)
			}
			if len(want) > 0 {
				found++
			}
		}
		if !mayHoldSettingWord(text) {
			skipped++
		}
	}
	if found == 0 || skipped == 0 {
		t.Errorf("of %d texts, %d set a credential and %d were skipped: the comparison compared nothing", len(texts), found, skipped)
	}
	t.Logf("%d texts, %d findings, %d skipped", len(texts), found, skipped)
}

// TestSettingWordPartsCoverEveryEnding: every name mayEndInCredential passes holds one of
// settingWordParts (mayHoldSettingWord), for each ending it knows, in any case, after a prefix
// and with the plural S and punctuation it allows after them; and ODBC's Pwd.
func TestSettingWordPartsCoverEveryEnding(t *testing.T) {
	endings := append(slices.Clone(credentialWords), "KEY", "PASS", "MASTERAUTH", "REQUIREPASS", "REDISCLI_AUTH",
		"NEO4J_AUTH", "ERLANG_COOKIE", "PSK", "PWD", "PW", "API_KEY", "DBPASS", "SSHPASS", "AZURE_STORAGE_KEY", "ST_KEY",
		"SALT", "AUTH_SALT", "ENCRYPT", "CONSUL_ENCRYPT", "ETCDCTL_USER", "CONSUL_HTTP_AUTH", "CREDS", "CRED", "SMB_CREDS",
		"GITHUB_PAT", "GH_PAT", "GHPAT", "gh.pat", "GL_PAT", "AZURE_DEVOPS_EXT_PAT", "ADO_PAT", "AZDOPAT", "DOCKERHUB_PAT", "githubPat",
		"OTP_SEED", "TOTP_SEED", "mfaSeed", "hotp.seed")
	for _, e := range endings {
		for _, name := range []string{e, strings.ToLower(e), "db_" + e, "x." + e + "s", "a" + e + "_", "-" + e + "S.", "Pwd", "pwd"} {
			if (mayEndInCredential(name) || strings.EqualFold(name, "pwd")) && !mayHoldSettingWord(name) {
				t.Errorf("mayEndInCredential(%q) is true, but it holds none of settingWordParts", name)
			}
		}
	}
	for _, text := range []string{"", "p", "log_level", "PaSS", "x.Cookie", "ke", "CREDENTIA"} {
		want := slices.ContainsFunc(settingWordParts, func(p string) bool { return strings.Contains(strings.ToLower(text), p) })
		if got := mayHoldSettingWord(text); got != want {
			t.Errorf("mayHoldSettingWord(%q) = %v, want %v", text, got, want)
		}
	}
}

// FuzzSettingWords: mayHoldSettingWord is looking for each of settingWordParts in the text
// lowered (ASCII letters only), and every name mayEndInCredential passes holds one.
func FuzzSettingWords(f *testing.F) {
	for _, seed := range []string{"", "db.password", "PSWD", "x_PwOrD", "apiKey", "MASTERAUTH", "erlang_cookie", "kEy", "ke", "pa", "\u212aey", "ſecret"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		lower := []byte(text)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		want := slices.ContainsFunc(settingWordParts, func(p string) bool { return bytes.Contains(lower, []byte(p)) })
		if got := mayHoldSettingWord(text); got != want {
			t.Errorf("mayHoldSettingWord(%q) = %v, want %v", text, got, want)
		}
		if (mayEndInCredential(text) || strings.EqualFold(text, "pwd")) && !want {
			t.Errorf("mayEndInCredential(%q) is true, but it holds none of settingWordParts", text)
		}
	})
}

// FuzzCredentialSettingsSkip: whatever the text, credentialSettings lists what
// readCredentialSettings lists.
func FuzzCredentialSettingsSkip(f *testing.F) {
	for _, seed := range []string{"", "password=Orders-2024", `{"p\u0061ssword": "Orders-2024", "a": 1}`,
		"{\"a\": 1, \"p\\u0061ssword\": \"Orders-2024\"}", "db.PSWD: Orders-2024", "<add key=\"DbPwd\" value=\"x1\"/>",
		"Server=db;Uid=sa;Pwd=Orders-2024;", `{"datasource": "Prometheus", "expr": "sum(rate(x{a=\"b\"}[1m]))"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, limit := range []int{1, maxSettingsNamed} {
			got, want := credentialSettings(text, limit), readCredentialSettings(text, limit)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("credentialSettings(%q, %d) = %q, reading every text gives %q", text, limit, got, want)
			}
		}
	})
}

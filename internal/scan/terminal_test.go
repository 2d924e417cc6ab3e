package scan

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// The table is for a person at a terminal or reading a CI log, and the manifests scan reads
// are often a pull request's: its author controls names, container names and the text in
// messages. A control character in them (ESC starting an ANSI/OSC sequence, a carriage return,
// a backspace) must be shown, not obeyed, or it could erase or rewrite the line of a failing
// finding. kubectl prints them escaped for the same reason (k8s.io/cli-runtime
// pkg/printers/terminal.go, EscapeTerminal: ESC as ^[ and CR as \r).
func TestTheTableShowsControlCharactersInsteadOfObeyingThem(t *testing.T) {
	manifest := "apiVersion: apps/v1\nkind: Deployment\n" +
		"metadata: {name: \"api\\e[2K\\rall good\\b\\b\", namespace: shop}\n" +
		"spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n" +
		"    spec:\n      containers:\n      - name: \"app\\e]8;;https://evil.example\\e\\\\\"\n        image: nginx\n" +
		"        securityContext: {privileged: true}\n"
	for _, args := range [][]string{{"-f", "-", "-o", "table", "--details"}, {"-f", "-", "-o", "table"}} {
		stdout, stderr, _ := runScan(t, manifest, args...)
		if strings.ContainsAny(stdout, "\x1b\r\b") {
			t.Errorf("scan %v printed control characters:\n%q\nstderr: %s", args, stdout, stderr)
		}
		if !strings.Contains(stdout, `api^[[2K\rall good\b\b`) {
			t.Errorf("scan %v does not show the resource's name escaped:\n%s\nstderr: %s", args, stdout, stderr)
		}
	}
}

// The file names of a pull request are its author's too, and scan names a file it cannot read
// on standard error: "b\e[8m.yaml" must not turn on concealed text for everything printed after
// it (the findings table included).
func TestStandardErrorShowsControlCharactersInFileNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b\x1b[8m.yaml"), []byte("kind: ConfigMap\nfoo: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runScan(t, "", "-f", dir, "-o", "table")
	if strings.ContainsAny(stderr, "\x1b\r\b") || !strings.Contains(stderr, "b^[[8m.yaml") {
		t.Errorf("scan (exit %d) printed on standard error:\n%q\nwant the file name with its ESC shown as ^[", code, stderr)
	}
	if n := strings.Count(stderr, "\n"); n == 0 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("standard error lost its line breaks: %q", stderr)
	}
}

// Names in manifests need not be valid Kubernetes names, so a pull request can add a Deployment
// whose name differs from one beside it only by a character a terminal draws as nothing: the
// table must not show the two as the same resource.
func TestTheTableShowsInvisibleCharactersInNames(t *testing.T) {
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: \"payments\\u200b\", namespace: \"shop\\U000E0020\"}\n" +
		"spec:\n  containers:\n  - {name: app, image: nginx, securityContext: {privileged: true}}\n"
	for _, args := range [][]string{{"-f", "-", "-o", "table", "--details"}, {"-f", "-", "-o", "table"}} {
		stdout, stderr, _ := runScan(t, manifest, args...)
		if strings.Contains(stdout, "Pod/shop\U000E0020/payments\u200b") || !strings.Contains(stdout, `Pod/shop\U000e0020/payments\u200b`) {
			t.Errorf("scan %v does not show the Pod's name escaped:\n%s\nstderr: %s", args, stdout, stderr)
		}
	}
}

// The text under a row is the table's own paragraphs (where a finding is, its message; the
// resources that fail a check), and names are only part of one: a line break in a name must be
// shown, not start a line of its own. In the summary, a Pod named "zz\nall excepted, by
// shop/vendor-waiver" wrote under its Critical check a line in the words the summary uses for a
// check whose findings are all excepted.
func TestALineBreakInANameStartsNoLineUnderARow(t *testing.T) {
	var docs []string
	for i := range 12 { // more than summaryThreshold findings: the summary
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: web-%d, namespace: shop}\nspec:\n  containers:\n  - {name: app, image: \"nginx:1.27\"}\n", i))
	}
	docs = append(docs, "apiVersion: v1\nkind: Pod\nmetadata: {name: \"zz\\nall excepted, by shop/vendor-waiver\", namespace: shop}\n"+
		"spec:\n  containers:\n  - {name: \"app\\nat prod.yaml:1\", image: \"nginx:1.27\", securityContext: {privileged: true}}\n")
	manifest := strings.Join(docs, "---\n")
	for _, args := range [][]string{{"-f", "-", "-o", "table"}, {"-f", "-", "-o", "table", "--details"}} {
		stdout, stderr, _ := runScan(t, manifest, args...)
		for _, l := range strings.Split(stdout, "\n") {
			if l := strings.TrimSpace(l); strings.HasPrefix(l, "all excepted, by shop/vendor-waiver") || strings.HasPrefix(l, "at prod.yaml:1") {
				t.Errorf("scan %v: a name's line break started the line %q:\n%s\nstderr: %s", args, l, stdout, stderr)
			}
		}
		if !strings.Contains(stdout, `Pod/shop/zz\nall`) {
			t.Errorf("scan %v does not show the Pod's name escaped:\n%s\nstderr: %s", args, stdout, stderr)
		}
	}
}

// JUnit's XML 1.0 cannot hold most control characters, and encoding/xml writes each as U+FFFD,
// so Pods named "api\x01" and "api\x02" became two test cases named alike, neither findable by
// its name; a bidirectional override in a test case's name reorders it in the CI's web page. The
// test case's name is the finding's identity: it is shown escaped, as the table shows it.
func TestJUnitNamesTheResourceAsItIs(t *testing.T) {
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: \"api\\x01\", namespace: shop}\n" +
		"spec:\n  containers:\n  - {name: app, image: \"nginx:1.27\", securityContext: {privileged: true}}\n---\n" +
		"apiVersion: v1\nkind: Pod\nmetadata: {name: \"api\\x02\", namespace: shop}\n" +
		"spec:\n  containers:\n  - {name: \"app\\u202e\", image: \"nginx:1.27\", securityContext: {privileged: true}}\n"
	stdout, stderr, _ := runScan(t, manifest, "-f", "-", "-o", "junit")
	var doc junitSuites
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	names := map[string]bool{}
	for _, s := range doc.Suites {
		if !strings.HasPrefix(s.Name, "wl-privileged:") {
			continue
		}
		for _, c := range s.Cases {
			names[c.Name] = true
		}
	}
	for _, want := range []string{`Pod/shop/api\x01 container app`, `Pod/shop/api\x02 container app\u202e`} {
		if !names[want] {
			t.Errorf("no wl-privileged test case named %q; the names are %q", want, slices.Collect(maps.Keys(names)))
		}
	}
}

// The case of a file that could not be read is named as the table names it too: a file name is
// the author's, and XML 1.0 cannot hold its control characters.
func TestJUnitNamesAnUnreadableFileAsItIs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad\x01.yaml"), []byte("kind: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, _ := runScan(t, "", "-f", dir, "-o", "junit")
	var doc junitSuites
	if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var names []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Classname == "inputs" {
				names = append(names, c.Name)
			}
		}
	}
	if len(names) != 1 || !strings.HasSuffix(names[0], `bad\x01.yaml document 1`) {
		t.Errorf("the unreadable inputs' cases are named %q; want one ending in %q", names, `bad\x01.yaml document 1`)
	}
}

// SARIF and JUnit are read by people too, on a code-scanning service's or a CI server's web
// page, and the names in them are a pull request author's: a Deployment named
// "web\u202e\e[2K\r" in a file of the same name. JUnit showed the test case's name escaped, but
// wrote the file name raw into the text of a failure or an input error (its ESC became U+FFFD
// and its carriage return and bidirectional override were kept), and SARIF wrote the resource,
// container and file names raw into every result's message, logical location and notification:
// the override reorders the rest of the alert's text on the page, and the carriage return starts
// it again. Every text of both is now shown escaped as the table shows it (termtable.Escape),
// line by line; what the checks wrote was escaped already, and stays as it was.
func TestSARIFAndJUnitShowControlCharactersInNamesEscaped(t *testing.T) {
	const evil = "\u202e\x1b[2K\r"
	dir := t.TempDir()
	manifest := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: \"web\\u202e\\e[2K\\r\", namespace: shop}\n" +
		"spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n" +
		"    spec:\n      containers:\n      - name: \"app\\u202e\\e[2K\\r\"\n        image: nginx\n" +
		"        securityContext: {privileged: true}\n---\nkind: [unclosed\n"
	if err := os.WriteFile(filepath.Join(dir, "deploy"+evil+".yaml"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	shown := func(what, s string) {
		t.Helper()
		for _, line := range strings.Split(s, "\n") {
			if termtable.Escape(line) != line || strings.ContainsRune(line, utf8.RuneError) {
				t.Errorf("%s holds control characters, or lost them: %q", what, line)
				return
			}
		}
	}

	stdout, stderr, _ := runScan(t, "", "-f", dir, "-o", "sarif")
	var doc any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		case string:
			shown("sarif "+path, v)
		}
	}
	walk("", doc)
	if !strings.Contains(stdout, `Deployment/shop/web\\u202e^[[2K\\r container app\\u202e^[[2K\\r: `) {
		t.Errorf("sarif does not name the resource and container as the table does:\n%s", stdout)
	}

	stdout, stderr, _ = runScan(t, "", "-f", dir, "-o", "junit")
	dec := xml.NewDecoder(strings.NewReader(stdout))
	texts := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				shown("junit "+tok.Name.Local+"@"+a.Name.Local, a.Value)
			}
		case xml.CharData:
			shown("junit text", string(tok))
			texts++
		}
	}
	if texts == 0 || !strings.Contains(stdout, `location: `) {
		t.Errorf("junit has no failure text with a location:\n%s\n%s", stdout, stderr)
	}
}

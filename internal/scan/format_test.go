package scan

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// TestPolicyReportsWrittenAsSigsYAMLWould: -o policyreport makes each report as it writes it, on
// every core (policyreport.Plan, inOrder, marshalYAML), and writes the bytes of Build's reports
// marshalled by sigs.k8s.io/yaml one after another: on the golden input and on the corpus.
func TestPolicyReportsWrittenAsSigsYAMLWould(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	at := time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)
	for name, dir := range goldenAndCorpus() {
		t.Run(name, func(t *testing.T) {
			rep, ev := reportOf(plan, dir, at, false)
			rep.Profile, rep.evaluatedAt = "audit", at

			var want bytes.Buffer
			reports := policyreport.Build(ev, policyreport.Options{Profile: rep.Profile, Now: at})
			for _, r := range reports {
				out, err := yaml.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				want.WriteString("---\n")
				want.Write(out)
			}
			if name == "the corpus" && len(reports) <= 2*inOrderChunk {
				t.Fatalf("%d reports: the corpus did not fill a chunk of inOrder on each core", len(reports))
			}

			var got bytes.Buffer
			if err := write(&got, "policyreport", rep); err != nil {
				t.Fatal(err)
			}
			if g, w := got.String(), want.String(); g != w {
				at := 0
				for at < min(len(g), len(w)) && g[at] == w[at] {
					at++
				}
				t.Fatalf("-o policyreport differs from sigs.k8s.io/yaml at byte %d of %d:\nwant %q\ngot  %q", at, len(w),
					w[max(0, at-80):min(len(w), at+80)], g[max(0, at-80):min(len(g), at+80)])
			}
		})
	}
}

// inOrder writes every item in the order of the items whatever goroutine made it, and after an
// error writes nothing more: the chunks before the failing one, and the error.
func TestInOrderKeepsTheOrderAndStopsAtAnError(t *testing.T) {
	n := 10*inOrderChunk + 7
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "%d\n", i)
	}
	var got bytes.Buffer
	if err := inOrder(&got, n, inOrderChunk, func(i int, dst []byte) ([]byte, error) { return fmt.Appendf(dst, "%d\n", i), nil }); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("items out of order or missing: %d bytes, want %d", got.Len(), want.Len())
	}

	failing := 3*inOrderChunk + 5
	boom := errors.New("boom")
	got.Reset()
	err := inOrder(&got, n, inOrderChunk, func(i int, dst []byte) ([]byte, error) {
		if i == failing {
			return dst, boom
		}
		return fmt.Appendf(dst, "%d\n", i), nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	var before strings.Builder
	for i := range 3 * inOrderChunk {
		fmt.Fprintf(&before, "%d\n", i)
	}
	if got.String() != before.String() {
		t.Errorf("after the error: %d bytes written, want the %d of the chunks before it", got.Len(), before.Len())
	}
}

// TestJUnitWrittenAsEncoderWould: -o junit makes each suite's test cases as it writes the suite,
// on every core, and the bytes are still those xml.Encoder (indented by two spaces) writes for
// the whole document: on the shop with exceptions, on input that cannot be read (a suite of
// errors alone, and beside the others), on input with nothing but cluster checks to judge, on
// the corpus, and on a report with no suite at all.
func TestJUnitWrittenAsEncoderWould(t *testing.T) {
	const broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"
	inputs := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"the shop, excepted", "", []string{"-f", "testdata/manifests/shop.yaml", "--exceptions", "testdata/exceptions.yaml"}},
		{"unreadable alone", broken, []string{"-"}},
		{"unreadable beside the shop", broken, []string{"-f", "testdata/manifests/shop.yaml", "-f", "-"}},
		{"cluster checks only", "apiVersion: v1\nkind: List\nitems: []\n", []string{"-"}},
	}
	if _, err := os.Stat(corpusDir); err == nil {
		inputs = append(inputs, struct {
			name  string
			stdin string
			args  []string
		}{"the corpus", "", []string{"-f", corpusDir}})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			got, stderr, _ := runScan(t, in.stdin, append(in.args, "-o", "junit", "--fail-on", "none")...)
			var doc junitSuites
			if err := xml.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			want := bytes.NewBufferString(xml.Header)
			enc := xml.NewEncoder(want)
			enc.Indent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			want.WriteString("\n")
			if w := want.String(); got != w {
				at := 0
				for at < min(len(got), len(w)) && got[at] == w[at] {
					at++
				}
				t.Fatalf("-o junit differs from encoding/xml at byte %d of %d:\nwant %q\ngot  %q", at, len(w),
					w[max(0, at-80):min(len(w), at+80)], got[max(0, at-80):min(len(got), at+80)])
			}
			if strings.HasPrefix(in.name, "unreadable") && doc.Errors == 0 {
				t.Error("no errors: the test did not exercise the suite of inputs that could not be read")
			}
			if in.name != "cluster checks only" && in.name != "unreadable alone" && len(doc.Suites) < 2 {
				t.Errorf("%d suites: the test did not exercise the suites written one at a time", len(doc.Suites))
			}
			// The counts are made before the test cases: each suite holds the cases it counts,
			// of its own check, and the document the sum of its suites.
			var tests, failures, errs int
			for _, s := range doc.Suites {
				var f, sk, e int
				for _, c := range s.Cases {
					if c.Failure != nil {
						f++
					}
					if c.Skipped != nil {
						sk++
					}
					if c.Error != nil {
						e++
					}
					if check, _, _ := strings.Cut(s.Name, ": "); c.Classname != check && c.Classname != "inputs" {
						t.Errorf("suite %q holds a test case of %s", s.Name, c.Classname)
					}
				}
				if len(s.Cases) != s.Tests || f != s.Failures || sk != s.Skipped || e != s.Errors {
					t.Errorf("suite %q: %d cases (%d failures, %d skipped, %d errors), counted %d (%d, %d, %d)",
						s.Name, len(s.Cases), f, sk, e, s.Tests, s.Failures, s.Skipped, s.Errors)
				}
				tests, failures, errs = tests+s.Tests, failures+s.Failures, errs+s.Errors
			}
			if tests != doc.Tests || failures != doc.Failures || errs != doc.Errors {
				t.Errorf("suites hold %d tests, %d failures, %d errors; testsuites says %d, %d, %d", tests, failures, errs, doc.Tests, doc.Failures, doc.Errors)
			}
		})
	}

	// A profile whose checks judge nothing in the input: no suite (cluster checks give one
	// otherwise).
	var got bytes.Buffer
	if err := write(&got, "junit", &Report{assessed: []found{}}); err != nil {
		t.Fatal(err)
	}
	if want := xml.Header + `<testsuites name="soc2-operator scan" tests="0" failures="0" errors="0"></testsuites>` + "\n"; got.String() != want {
		t.Errorf("no suites:\nwant %q\ngot  %q", want, got.String())
	}
}

// writeCounter counts the writes made to it.
type writeCounter struct {
	writes, bytes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	w.bytes += len(p)
	return len(p), nil
}

// Every output reaches stdout in writes of many lines, not a write per line: -o wide at 20,000
// objects wrote 90,000 lines one system call each (1.5 s against 0.9 s buffered).
func TestOutputsAreWrittenInLargeWrites(t *testing.T) {
	for _, format := range []string{"wide", "table", "json", "yaml", "junit", "sarif", "policyreport"} {
		t.Run(format, func(t *testing.T) {
			w := &writeCounter{}
			Run([]string{"-f", "testdata/manifests", "--show", "all", "-o", format, "--fail-on", "none"}, strings.NewReader(""), w, io.Discard, scanNow)
			if w.bytes == 0 {
				t.Fatal("nothing written")
			}
			// At most a write per 4 KiB, and a few more (the last of each buffer, a header).
			if limit := w.bytes/4096 + 4; w.writes > limit {
				t.Errorf("%d writes for %d bytes; want at most %d", w.writes, w.bytes, limit)
			}
		})
	}
}

// indentCases are compact JSON documents for appendIndented: strings holding what is structure
// outside them, escaped quotes after backslashes, empty and nested objects and arrays.
var indentCases = []string{
	`{}`, `[]`, `"a"`, `12`, `null`,
	`{"a":1,"b":[1,2,{}],"c":{"d":[]},"e":[[]],"f":[{}]}`,
	`{"message":"holds {a}, [b]: c","x":"quote \" comma , colon :","y":"ends in a backslash \\","z":"\\\" \\\\\""}`,
	`[{"k":"\u003chtml\u003e \u0026 é"},-1.5e+10,true,false,null,""]`,
	`{"a":{"b":{"c":{"d":["e",{"f":[]}]}}}}`,
}

// TestIndentedAsEncodingJSONIndents: appendIndented writes what json.Indent writes for a compact
// document, with and without a prefix.
func TestIndentedAsEncodingJSONIndents(t *testing.T) {
	for _, doc := range indentCases {
		for _, prefix := range []string{"", "    "} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(doc), prefix, "  "); err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			if got := appendIndented([]byte("x"), []byte(doc), prefix, "  "); string(got) != "x"+want.String() {
				t.Errorf("%s with prefix %q:\nwant %q\ngot  %q", doc, prefix, want.String(), got[1:])
			}
		}
	}
}

// FuzzIndented: appendIndented writes what json.Indent writes for any document json.Compact
// makes compact.
func FuzzIndented(f *testing.F) {
	for _, doc := range indentCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var compact, want bytes.Buffer
		if json.Compact(&compact, data) != nil {
			return
		}
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndented(nil, compact.Bytes(), "  ", "  "); string(got) != want.String() {
			t.Errorf("%s:\nwant %q\ngot  %q", compact.Bytes(), want.String(), got)
		}
	})
}

// TestResourceNamesTellGroupsApart: scan's text, table, JUnit and SARIF outputs name Istio's
// Gateway shop/edge and the Gateway API's Gateway shop/edge apart; Kubernetes' own groups keep
// the bare kind.
func TestResourceNamesTellGroupsApart(t *testing.T) {
	for apiVersion, want := range map[string]string{
		"networking.istio.io/v1":       "Gateway.networking.istio.io/shop/edge",
		"gateway.networking.k8s.io/v1": "Gateway/shop/edge",
		"":                             "Gateway/shop/edge",
	} {
		if got := resourceName(&v1alpha1.ResourceRef{APIVersion: apiVersion, Kind: "Gateway", Namespace: "shop", Name: "edge"}); got != want {
			t.Errorf("%q: %q, want %q", apiVersion, got, want)
		}
	}
}

package scan

import (
	"bytes"
	"encoding"
	"encoding/xml"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// assertJUnitSuite fails unless appendJUnitSuite writes s as writeJUnit's xml.Encoder did: a
// line break, then the suite as an Encoder with a prefix and an indent of two spaces writes it.
func assertJUnitSuite(t *testing.T, s *junitSuite) {
	t.Helper()
	want := bytes.NewBufferString("x\n")
	enc := xml.NewEncoder(want)
	enc.Indent("  ", "  ")
	if err := enc.EncodeElement(s, xml.StartElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
		t.Fatal(err)
	}
	if got := appendJUnitSuite([]byte("x"), s); string(got) != want.String() {
		w := want.String()
		at := 0
		for at < min(len(got), len(w)) && got[at] == w[at] {
			at++
		}
		t.Fatalf("suite %q differs from encoding/xml at byte %d of %d:\nwant %q\ngot  %q", s.Name, at, len(w),
			w[max(0, at-80):min(len(w), at+80)], got[max(0, at-80):min(len(got), at+80)])
	}
}

// TestJUnitSuiteAsEncoder: every test case of every result of the golden input and of the
// corpus (as junitCaseOf makes it, before any XML), every suite of their -o junit output as
// encoding/xml reads it back (the suites of inputs that could not be read and of problems with
// the configuration included), and suites with what those may lack (no test case, every child
// at once, empty texts, every kind of escape) are written as encoding/xml writes them.
func TestJUnitSuiteAsEncoder(t *testing.T) {
	type input struct {
		dir  string
		args []string
	}
	inputs := map[string]input{"golden input": {"testdata/manifests", []string{"--profile", "testdata/profile.yaml", "--exceptions", "testdata/exceptions.yaml"}}}
	if _, err := os.Stat(corpusDir); err == nil {
		inputs["the corpus"] = input{corpusDir, nil}
	}
	plan := engine.Compile(checks.Catalogue(), nil)
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			rep, _ := reportOf(plan, in.dir, time.Unix(1780000000, 0), true)
			kinds := map[string]int{}
			for _, fd := range rep.assessed {
				tc := junitCaseOf(rep.finding(fd), fd.r.FailedOnObject())
				switch {
				case tc.Failure != nil:
					kinds["failure"]++
				case tc.Skipped != nil:
					kinds["skipped"]++
				default:
					kinds["pass"]++
				}
				assertJUnitSuite(t, &junitSuite{Name: fd.r.Check.ID, Tests: 1, Cases: []junitCase{tc}})
			}
			if kinds["failure"] == 0 || kinds["pass"] == 0 {
				t.Errorf("test cases %v: the test did not write both failures and passes", kinds)
			}

			out, stderr, _ := runScan(t, "", append([]string{"-f", in.dir, "-o", "junit", "--fail-on", "none"}, in.args...)...)
			var doc junitSuites
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			cases := 0
			for i := range doc.Suites {
				assertJUnitSuite(t, &doc.Suites[i])
				cases += len(doc.Suites[i].Cases)
			}
			if len(doc.Suites) < 10 || cases < 100 {
				t.Errorf("%d suites of %d test cases: the test wrote too little", len(doc.Suites), cases)
			}
		})
	}

	odd := "<a href=\"x\">&amp;</a> 'q' \\ \b\f\n\r\t\x00\x1f\x7f é \u2028 \uFFFD \uFFFE\uFFFF \xff\xc3 \xed\xa0\x80 \xf4\x90\x80\x80 😀"
	oddFailure := &junitFailure{Message: odd, Type: odd, Text: odd}
	cases := map[string]junitSuite{
		"nothing set":     {},
		"no test case":    {Name: "s", Tests: -1, Failures: 1 << 40, Errors: 3, Skipped: 4, Cases: []junitCase{}},
		"a passing case":  {Cases: []junitCase{{Name: "n", Classname: "c"}}},
		"empty children":  {Cases: []junitCase{{Failure: &junitFailure{}}, {Error: &junitFailure{}}, {Skipped: &junitSkipped{}}}},
		"every child":     {Cases: []junitCase{{Name: "n", Failure: &junitFailure{Text: "t"}, Error: &junitFailure{Message: "m"}, Skipped: &junitSkipped{Message: "s"}}}},
		"text, no attrs":  {Cases: []junitCase{{Error: &junitFailure{Text: "line 1\nline 2\n"}}}},
		"escapes":         {Name: odd, Cases: []junitCase{{Name: odd, Classname: odd, Failure: oddFailure, Error: oddFailure, Skipped: &junitSkipped{Message: odd}}, {Name: odd}}},
		"escapes at ends": {Name: "\x01", Cases: []junitCase{{Name: "&", Classname: "\xff", Failure: &junitFailure{Message: "\n", Type: "\uFFFF", Text: "\r"}}}},
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			assertJUnitSuite(t, &s)
		})
	}
}

// FuzzJUnitSuite: appendJUnitSuite writes any suite as encoding/xml's Encoder does.
func FuzzJUnitSuite(f *testing.F) {
	f.Add("sec-privileged: Containers do not run privileged", "Deployment/ns/web container app", "sec-privileged",
		"a \"quoted\" <message> & more", "High", "line 1\nseverity: High\r\n\tlocation: f.yaml:3", "excepted by x: y", 3, 1, uint8(0xff))
	f.Add("", "\xff\x01\uFFFE", "", "", "", "\xed\xa0\x80", "", -1, 0, uint8(0))
	f.Fuzz(func(t *testing.T, suite, name, classname, message, typ, text, skipped string, tests, failures int, shape uint8) {
		s := junitSuite{Name: suite, Tests: tests, Failures: failures, Errors: failures - tests, Skipped: tests / 2}
		for i := range int(shape % 4) {
			c := junitCase{Name: name, Classname: classname}
			if shape&(16<<i) != 0 {
				c.Failure = &junitFailure{Message: message, Type: typ, Text: text}
			}
			if shape&(32<<i) != 0 {
				c.Error = &junitFailure{Message: text, Type: classname, Text: message}
			}
			if shape&(4<<i) != 0 {
				c.Skipped = &junitSkipped{Message: skipped}
			}
			s.Cases = append(s.Cases, c)
		}
		assertJUnitSuite(t, &s)
	})
}

// TestXMLEscapedAsEscapeText: appendXMLEscaped escapes as xml.EscapeText does a byte or
// character that needs a look (a reference, a control character, one XML 1.0 cannot hold, one
// that is not UTF-8, U+FFFD itself) at every place in strings of up to 24 bytes, so at every
// offset in and past the eight it reads at a time, alone and after another, and every byte and
// every character of the Basic Multilingual Plane alone.
func TestXMLEscapedAsEscapeText(t *testing.T) {
	escape := func(s string) string {
		var b bytes.Buffer
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	looks := []string{"\x00", "\x1f", "\"", "'", "&", "<", ">", "\t", "\n", "\r", " ", "\x7f", "é", "\u2028", "\uD7FF", "\uE000",
		"\uFFFD", "\uFFFE", "\uFFFF", "😀", "\U0010FFFF", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80"}
	for _, look := range looks {
		for n := range 25 {
			for at := range n + 1 {
				for _, s := range []string{
					strings.Repeat("a", at) + look + strings.Repeat("b", n-at),
					strings.Repeat("a", at) + look + strings.Repeat("~", n-at) + look,
				} {
					if got, want := appendXMLEscaped([]byte("x"), s), "x"+escape(s); string(got) != want {
						t.Fatalf("%q: want %q, got %q", s, want[1:], got[1:])
					}
				}
			}
		}
	}
	for c := range 256 {
		s := string([]byte{byte(c)})
		if got, want := appendXMLEscaped(nil, s), escape(s); string(got) != want {
			t.Fatalf("byte %#x: want %q, got %q", c, want, got)
		}
	}
	for r := range rune(0x10000) {
		s := string(r)
		if got, want := appendXMLEscaped(nil, s), escape(s); string(got) != want {
			t.Fatalf("%U: want %q, got %q", r, want, got)
		}
	}
}

// FuzzXMLEscaped: appendXMLEscaped escapes any string as xml.EscapeText does.
func FuzzXMLEscaped(f *testing.F) {
	f.Add("plain ASCII text of a finding's message")
	f.Add("<a href=\"x\">&amp;</a> 'q' \b\n\r\t\x00\x7f é \uFFFD\uFFFE \xff\xc3 \xed\xa0\x80 😀")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		if err := xml.EscapeText(&want, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := appendXMLEscaped(nil, s); string(got) != want.String() {
			t.Fatalf("%q: want %q, got %q", s, want.String(), got)
		}
	})
}

// TestJUnitSuiteKnowsEveryField: appendJUnitSuite writes these fields of junitSuite, junitCase,
// junitFailure and junitSkipped, in this order, of these kinds, and no others; a field added
// to one of them must be added to it.
func TestJUnitSuiteKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v      any
		fields []string
	}{
		{junitSuite{}, []string{"Name string name,attr", "Tests int tests,attr", "Failures int failures,attr", "Errors int errors,attr",
			"Skipped int skipped,attr", "Cases []scan.junitCase testcase"}},
		{junitCase{}, []string{"Name string name,attr", "Classname string classname,attr", "Failure *scan.junitFailure failure,omitempty",
			"Error *scan.junitFailure error,omitempty", "Skipped *scan.junitSkipped skipped,omitempty"}},
		{junitFailure{}, []string{"Message string message,attr", "Type string type,attr", "Text string ,chardata"}},
		{junitSkipped{}, []string{"Message string message,attr"}},
	} {
		typ := reflect.TypeOf(c.v)
		var fields []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			fields = append(fields, f.Name+" "+f.Type.String()+" "+f.Tag.Get("xml"))
		}
		if !slices.Equal(fields, c.fields) {
			t.Errorf("%s has the fields %q; appendJUnitSuite writes %q", typ, fields, c.fields)
		}
		for _, m := range []reflect.Type{reflect.TypeFor[xml.Marshaler](), reflect.TypeFor[xml.MarshalerAttr](), reflect.TypeFor[encoding.TextMarshaler]()} {
			if typ.Implements(m) || reflect.PointerTo(typ).Implements(m) {
				t.Errorf("%s implements %s: appendJUnitSuite does not call it", typ, m)
			}
		}
	}
}

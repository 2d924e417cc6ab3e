package scan

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// assertFindingJSON fails unless appendFindingJSON writes f as json.MarshalIndent does.
func assertFindingJSON(t *testing.T, f *Finding, prefix string) {
	t.Helper()
	want, err := json.MarshalIndent(f, prefix, "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := appendFindingJSON([]byte("x"), f, prefix); string(got) != "x"+string(want) {
		t.Fatalf("finding %+v with prefix %q:\nwant %s\ngot  %s", *f, prefix, want, got[1:])
	}
}

// TestFindingJSONAsMarshalIndent: every finding and result of the golden input and of the
// corpus (--show all), and findings with what those may lack (no criteria, an empty list of
// them, no resource or source, no apiVersion or namespace, every kind of escape), are written
// as encoding/json writes them.
func TestFindingJSONAsMarshalIndent(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	for name, dir := range goldenAndCorpus() {
		t.Run(name, func(t *testing.T) {
			rep, _ := reportOf(plan, dir, time.Unix(1780000000, 0), true)
			n := 0
			for _, items := range [][]found{rep.found, rep.assessed} {
				for _, it := range items {
					f := rep.finding(it)
					assertFindingJSON(t, &f, "  ")
					n++
				}
			}
			if n < 100 {
				t.Fatalf("%d findings and results: the test judged too little", n)
			}
		})
	}
	odd := "<a href=\"x\">&amp;</a> \\ \b\f\n\r\t\x00\x1f\x7f é \u2028\u2029 \xff\xc3 😀"
	cases := map[string]Finding{
		"nothing set":                  {},
		"an empty list of criteria":    {Criteria: []v1alpha1.Criterion{}},
		"one criterion":                {Criteria: []v1alpha1.Criterion{"CC6.1"}},
		"a resource with no namespace": {Resource: &v1alpha1.ResourceRef{Kind: "ClusterRole", Name: "x"}, Source: &Source{}},
		"no apiVersion":                {Resource: &v1alpha1.ResourceRef{Kind: "Pod", Namespace: "n", Name: "x"}},
		"escapes everywhere": {Check: odd, Title: odd, Severity: v1alpha1.Severity(odd), Criteria: []v1alpha1.Criterion{v1alpha1.Criterion(odd), ""},
			Result: v1alpha1.CheckResult(odd), Resource: &v1alpha1.ResourceRef{APIVersion: odd, Kind: odd, Namespace: odd, Name: odd},
			Container: odd, Message: odd, Exception: odd, Source: &Source{File: odd, Document: -1, Line: 1 << 40}},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			for _, prefix := range []string{"", "  ", "        "} {
				assertFindingJSON(t, &f, prefix)
			}
		})
	}
}

// FuzzFindingJSON: appendFindingJSON writes any finding as json.MarshalIndent does.
func FuzzFindingJSON(f *testing.F) {
	f.Add("sec-privileged", "<b>&", "High", "CC6.1", "Fail", "apps/v1", "Deployment", "ns", "web", "app", "a \"quoted\"\n message", "", "f.yaml", 1, 2, uint8(0xff))
	f.Add("", "", "", "", "", "", "", "", "", "", "\xff\u2028\x01", "exc", "", -1, 0, uint8(0))
	f.Fuzz(func(t *testing.T, check, title, severity, criterion, result, apiVersion, kind, namespace, name, container, message, exception, file string, document, line int, shape uint8) {
		fi := Finding{Check: check, Title: title, Severity: v1alpha1.Severity(severity), Result: v1alpha1.CheckResult(result),
			Container: container, Message: message, Exception: exception}
		switch shape % 4 {
		case 1:
			fi.Criteria = []v1alpha1.Criterion{}
		case 2:
			fi.Criteria = []v1alpha1.Criterion{v1alpha1.Criterion(criterion)}
		case 3:
			fi.Criteria = []v1alpha1.Criterion{v1alpha1.Criterion(criterion), v1alpha1.Criterion(title)}
		}
		if shape&4 != 0 {
			fi.Resource = &v1alpha1.ResourceRef{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name}
		}
		if shape&8 != 0 {
			fi.Source = &Source{File: file, Document: document, Line: line}
		}
		assertFindingJSON(t, &fi, []string{"", "  ", "      "}[int(shape>>4)%3])
	})
}

// TestFindingJSONKnowsEveryField: appendFindingJSON writes these fields of Finding, ResourceRef
// and Source, in this order, and no others; a field added to one of them must be added to it.
func TestFindingJSONKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		tags []string
	}{
		{Finding{}, []string{"check", "title", "severity", "criteria", "result", "resource,omitempty", "container,omitempty", "message,omitempty", "exception,omitempty", "source,omitempty", ""}},
		{v1alpha1.ResourceRef{}, []string{"apiVersion,omitempty", "kind", "namespace,omitempty", "name"}},
		{Source{}, []string{"file", "document", "line"}},
	} {
		typ := reflect.TypeOf(c.v)
		var tags []string
		for i := range typ.NumField() {
			tags = append(tags, typ.Field(i).Tag.Get("json"))
		}
		if !slices.Equal(tags, c.tags) {
			t.Errorf("%s has the JSON fields %q; appendFindingJSON writes %q", typ, tags, c.tags)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Finding](), reflect.TypeFor[v1alpha1.ResourceRef](), reflect.TypeFor[Source](),
		reflect.TypeFor[v1alpha1.Severity](), reflect.TypeFor[v1alpha1.Criterion](), reflect.TypeFor[v1alpha1.CheckResult]()} {
		for _, m := range []reflect.Type{reflect.TypeFor[json.Marshaler](), reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()} {
			if typ.Implements(m) || reflect.PointerTo(typ).Implements(m) {
				t.Errorf("%s implements %s: appendFindingJSON does not call it", typ, m)
			}
		}
	}
}

// TestJSONStringAsMarshal: appendJSONString quotes as encoding/json's Marshal does a byte that
// needs a look (an escape, the first byte of a UTF-8 character, one that is not UTF-8) at every
// place in strings of up to 24 bytes, so at every offset in and past the eight it reads at a
// time, alone and after another.
func TestJSONStringAsMarshal(t *testing.T) {
	looks := []string{"\x00", "\x1f", "\"", "\\", "<", ">", "&", "\n", "\x7f", "é", "\u2028", "\u2029", "😀", "\xff", "\xc3", "\xe2\x80"}
	for _, look := range looks {
		for n := range 25 {
			for at := range n + 1 {
				for _, s := range []string{
					strings.Repeat("a", at) + look + strings.Repeat("b", n-at),
					strings.Repeat("a", at) + look + strings.Repeat("~", n-at) + look,
				} {
					want, err := json.Marshal(s)
					if err != nil {
						t.Fatal(err)
					}
					if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
						t.Fatalf("%q: want %s, got %s", s, want, got[1:])
					}
				}
			}
		}
	}
}

// FuzzJSONString: appendJSONString quotes any string as encoding/json's Marshal does.
func FuzzJSONString(f *testing.F) {
	f.Add("plain ASCII text of a finding's message")
	f.Add("<a href=\"x\">&amp;</a> \\ \b\f\n\r\t\x00\x1f\x7f é \u2028\u2029 \xff\xc3 😀")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: want %s, got %s", s, want, got)
		}
	})
}

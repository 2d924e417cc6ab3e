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
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// assertSARIFResult fails unless appendSARIFResult writes res as json.MarshalIndent does.
func assertSARIFResult(t *testing.T, res *sarifResult, prefix string) {
	t.Helper()
	want, err := json.MarshalIndent(res, prefix, "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := appendSARIFResult([]byte("x"), res, prefix); string(got) != "x"+string(want) {
		t.Fatalf("result %+v with prefix %q:\nwant %s\ngot  %s", *res, prefix, want, got[1:])
	}
}

// TestSARIFResultAsMarshalIndent: the result of every finding and result of the golden input
// and of the corpus (--show all; as excepted, and as NotAssessed with and without an
// exception, too), and results with what those may lack or hold more of (no location, no
// physical or no logical location, no region, several of each, a suppression without status,
// every kind of escape), are written as encoding/json writes them.
func TestSARIFResultAsMarshalIndent(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	ruleIndex := map[string]int{}
	for i, c := range checks.Catalogue() {
		ruleIndex[c.ID] = i * 1001 // numbers of several digits
	}
	for name, dir := range goldenAndCorpus() {
		t.Run(name, func(t *testing.T) {
			rep, _ := reportOf(plan, dir, time.Unix(1780000000, 0), true)
			uris := fileURIs{}
			n := 0
			for _, items := range [][]found{rep.found, rep.assessed} {
				for _, it := range items {
					f := rep.finding(it)
					assertSARIFResult(t, sarifResultOf(f, ruleIndex, uris), "        ")
					for _, waived := range []struct {
						result    v1alpha1.CheckResult
						exception string
					}{{v1alpha1.ResultExcepted, "team/waiver"}, {v1alpha1.ResultNotAssessed, ""}, {v1alpha1.ResultNotAssessed, "team/waiver"}} {
						f.Result, f.Exception = waived.result, waived.exception
						assertSARIFResult(t, sarifResultOf(f, ruleIndex, uris), "        ")
					}
					n++
				}
			}
			if n < 100 {
				t.Fatalf("%d findings and results: the test judged too little", n)
			}
		})
	}
	odd := "<a href=\"x\">&amp;</a> \\ \b\f\n\r\t\x00\x1f\x7f é \u2028\u2029 \xff\xc3 😀"
	physical := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: odd}}
	logical := []sarifLogicalLocation{{FullyQualifiedName: odd, Kind: odd}, {}}
	cases := map[string]sarifResult{
		"nothing set":                    {},
		"an empty list of locations":     {Locations: []sarifLocation{}, Suppressions: []sarifSuppression{}},
		"a location with nothing in it":  {Locations: []sarifLocation{{}}},
		"a physical location only":       {Locations: []sarifLocation{{PhysicalLocation: physical}}},
		"a region":                       {Locations: []sarifLocation{{PhysicalLocation: &sarifPhysicalLocation{Region: &sarifRegion{StartLine: -1 << 40}}}}},
		"logical locations only":         {Locations: []sarifLocation{{LogicalLocations: logical}}},
		"an empty list of logical ones":  {Locations: []sarifLocation{{PhysicalLocation: physical, LogicalLocations: []sarifLogicalLocation{}}}},
		"a suppression without a status": {Suppressions: []sarifSuppression{{Kind: "external", Justification: odd}}},
		"escapes everywhere": {RuleID: odd, RuleIndex: -7, Level: odd, Message: sarifText{odd},
			Locations:    []sarifLocation{{PhysicalLocation: physical, LogicalLocations: logical}, {}, {LogicalLocations: logical}},
			Suppressions: []sarifSuppression{{Kind: odd, Status: odd, Justification: odd}, {}}},
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			for _, prefix := range []string{"", "  ", "        ", "                            ", "\t"} {
				assertSARIFResult(t, &res, prefix)
			}
		})
	}
}

// FuzzSARIFResult: appendSARIFResult writes any result as json.MarshalIndent does.
func FuzzSARIFResult(f *testing.F) {
	f.Add("wl-run-as-root", 3, "error", "Deployment web: a \"quoted\"\n <message>", "deploy/web.yaml", 12, "apps/v1/Deployment/ns/web", "resource", "external", "accepted", "ControlException x", uint16(0xffff))
	f.Add("", -1, "", "\xff\u2028\x01", "", 0, "", "", "", "", "", uint16(0))
	f.Fuzz(func(t *testing.T, rule string, index int, level, message, uri string, line int, name, kind, suppression, status, justification string, shape uint16) {
		res := sarifResult{RuleID: rule, RuleIndex: index, Level: level, Message: sarifText{message}}
		if shape&1 != 0 {
			loc := sarifLocation{}
			if shape&2 != 0 {
				loc.PhysicalLocation = &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri}}
				if shape&4 != 0 {
					loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
				}
			}
			switch shape >> 3 % 4 {
			case 1:
				loc.LogicalLocations = []sarifLogicalLocation{}
			case 2:
				loc.LogicalLocations = []sarifLogicalLocation{{FullyQualifiedName: name, Kind: kind}}
			case 3:
				loc.LogicalLocations = []sarifLogicalLocation{{FullyQualifiedName: name, Kind: kind}, {FullyQualifiedName: kind}}
			}
			res.Locations = []sarifLocation{loc}
			if shape&32 != 0 {
				res.Locations = append(res.Locations, sarifLocation{LogicalLocations: []sarifLogicalLocation{{Kind: name}}})
			}
		}
		switch shape >> 6 % 4 {
		case 1:
			res.Suppressions = []sarifSuppression{}
		case 2:
			res.Suppressions = []sarifSuppression{{Kind: suppression, Status: status, Justification: justification}}
		case 3:
			res.Suppressions = []sarifSuppression{{Kind: suppression, Status: status, Justification: justification}, {Justification: message}}
		}
		assertSARIFResult(t, &res, []string{"", "  ", "        ", "                              "}[int(shape>>8)%4])
	})
}

// TestSARIFResultKnowsEveryField: appendSARIFResult writes these fields of sarifResult and the
// types inside it, in this order, and no others; a field added to one of them must be added to
// it.
func TestSARIFResultKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		tags []string
	}{
		{sarifResult{}, []string{"ruleId", "ruleIndex", "level", "message", "locations,omitempty", "suppressions,omitempty"}},
		{sarifText{}, []string{"text"}},
		{sarifLocation{}, []string{"physicalLocation,omitempty", "logicalLocations,omitempty"}},
		{sarifPhysicalLocation{}, []string{"artifactLocation", "region,omitempty"}},
		{sarifArtifactLocation{}, []string{"uri"}},
		{sarifRegion{}, []string{"startLine"}},
		{sarifLogicalLocation{}, []string{"fullyQualifiedName", "kind"}},
		{sarifSuppression{}, []string{"kind", "status,omitempty", "justification"}},
	} {
		typ := reflect.TypeOf(c.v)
		var tags []string
		for i := range typ.NumField() {
			tags = append(tags, typ.Field(i).Tag.Get("json"))
		}
		if !slices.Equal(tags, c.tags) {
			t.Errorf("%s has the JSON fields %q; appendSARIFResult writes %q", typ, tags, c.tags)
		}
		for _, m := range []reflect.Type{reflect.TypeFor[json.Marshaler](), reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()} {
			if typ.Implements(m) || reflect.PointerTo(typ).Implements(m) {
				t.Errorf("%s implements %s: appendSARIFResult does not call it", typ, m)
			}
		}
	}
}

// TestFileURIsAsFileURI: a file's URI from fileURIs is fileURI's, the first time and again, for
// paths that clean to the same one or need escaping.
func TestFileURIsAsFileURI(t *testing.T) {
	uris := fileURIs{}
	for range 2 {
		for _, p := range []string{"a/b.yaml", "./a/b.yaml", "a//b.yaml", "<stdin>", "a b/c%d#e?.yaml", "../x/y.yaml", "/abs/z.yaml", "é/ü.yaml", ""} {
			if got, want := uris.of(p), fileURI(p); got != want {
				t.Errorf("%q: %q, fileURI %q", p, got, want)
			}
		}
	}
}

// TestShownOneLineAsSplit: shown of text without a line break, which it escapes whole, and of
// text with line breaks none of which changes, which it returns as it is, is what escaping each
// line and joining them gives, as for text with line breaks.
func TestShownOneLineAsSplit(t *testing.T) {
	for _, s := range []string{"", "plain", "pay\u202ements\x1b[2J\r\x7f\xff\u200b", "two\nlines\x1b", "\n", "end\n",
		"plain\nlines", "\n\n", "a\nb\n", "\x1b\nb", "a\n\x1b", "a\nb\nc\xff", "\u202e\nb\nc", "é\n😀\n"} {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = termtable.Escape(l)
		}
		if got, want := shown(s), strings.Join(lines, "\n"); got != want {
			t.Errorf("shown(%q) = %q, line by line %q", s, got, want)
		}
	}
}

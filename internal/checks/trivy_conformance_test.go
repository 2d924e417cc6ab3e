package checks

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// trivy-checks is the rule set trivy and trivy-operator judge Kubernetes objects by (KSV and
// KCV ids). Its Rego checks come with their own tests: a YAML file of good and bad examples
// beside a check, and a _test.rego file whose tests each give the check one object and count
// what it denies. TestTrivyChecksConformance reads both, at this pinned version, and holds the
// catalogue's mapped checks to the same verdicts, or to a listed disagreement with its reason.
const (
	trivyChecksModule  = "github.com/aquasecurity/trivy-checks"
	trivyChecksVersion = "v1.10.0"
)

// trivyCase is one object trivy-checks' own tests judge.
type trivyCase struct {
	ID     string // the check's id: KSV017, KCV0001
	Title  string // the check's title
	Key    string // where the case is: file and test name, or file, good/bad and index
	Doc    []byte // the object, JSON or YAML
	Denied bool   // the trivy check denies it
}

var (
	regoMetadataID    = regexp.MustCompile(`(?m)^#\s+id:\s*(\S+)\s*$`)
	regoMetadataTitle = regexp.MustCompile(`(?m)^#\s+title:\s*"?(.*?)"?\s*$`)
	regoTest          = regexp.MustCompile(`(?m)^test_([A-Za-z0-9_]+)\s+(?:if\s+)?\{`)
	regoDenyInput     = regexp.MustCompile(`(\w+)\s*:=\s*deny\s+with\s+input\s+as\s+`)
	regoTrailingComma = regexp.MustCompile(`,(\s*[}\]])`)
	regoWithMock      = regexp.MustCompile(`\bwith\s+((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s+as\b`)
)

// trivyCases reads every Kubernetes check's examples and Rego tests in the module directory. A
// test it cannot read (an input that is not an object literal, a verdict that is not a count) is
// named in unread.
func trivyCases(t *testing.T, dir string) (cases []trivyCase, unread []string) {
	t.Helper()
	root := filepath.Join(dir, "checks", "kubernetes")
	checkFiles, err := filepath.Glob(filepath.Join(root, "*", "*.rego"))
	if err != nil || len(checkFiles) == 0 {
		t.Fatalf("no Kubernetes checks in %s: %v", root, err)
	}
	for _, f := range checkFiles {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := regoMetadataID.FindSubmatch(src)
		if m == nil {
			unread = append(unread, rel(root, f)+": no id in its METADATA")
			continue
		}
		id := string(m[1])
		title := ""
		if tm := regoMetadataTitle.FindSubmatch(src); tm != nil {
			title = string(tm[1])
		}
		base := strings.TrimSuffix(f, ".rego")
		if data, err := os.ReadFile(base + ".yaml"); err == nil {
			var examples struct {
				Kubernetes struct{ Good, Bad []string }
			}
			if err := yaml.UnmarshalStrict(data, &examples); err != nil {
				unread = append(unread, rel(root, base+".yaml")+": "+err.Error())
			}
			for i, doc := range examples.Kubernetes.Good {
				cases = append(cases, trivyCase{ID: id, Title: title, Key: fmt.Sprintf("%s good[%d]", rel(root, base+".yaml"), i), Doc: []byte(doc)})
			}
			for i, doc := range examples.Kubernetes.Bad {
				cases = append(cases, trivyCase{ID: id, Title: title, Key: fmt.Sprintf("%s bad[%d]", rel(root, base+".yaml"), i), Doc: []byte(doc), Denied: true})
			}
		}
		src, err = os.ReadFile(base + "_test.rego")
		if err != nil {
			continue
		}
		tests := regoTest.FindAllSubmatchIndex(src, -1)
		// A file may define a test twice (Rego makes the two bodies one test that passes when
		// either holds); each body is a case of its own, the second keyed "test_x (2)".
		bodies := map[string]int{}
		for i, tm := range tests {
			end := len(src)
			if i+1 < len(tests) {
				end = tests[i+1][0]
			}
			body := src[tm[1]:end]
			key := rel(root, base+"_test.rego") + " test_" + string(src[tm[2]:tm[3]])
			if bodies[key]++; bodies[key] > 1 {
				key += fmt.Sprintf(" (%d)", bodies[key])
			}
			doc, denied, err := readRegoTest(body)
			if err != nil {
				unread = append(unread, key+": "+err.Error())
				continue
			}
			cases = append(cases, trivyCase{ID: id, Title: title, Key: key, Doc: doc, Denied: denied})
		}
	}
	return cases, unread
}

func rel(root, f string) string {
	r, err := filepath.Rel(root, f)
	if err != nil {
		return f
	}
	return filepath.ToSlash(r)
}

// readRegoTest reads a test of the form trivy-checks writes them in:
//
//	r := deny with input as {...}
//	count(r) == 0     (or == N, > 0, != 0)
//
// and returns the input as JSON and whether the check denies it.
func readRegoTest(body []byte) (doc []byte, denied bool, err error) {
	m := regoDenyInput.FindSubmatchIndex(body)
	if m == nil {
		return nil, false, fmt.Errorf("no deny with input as")
	}
	if bytes.Count(body, []byte("with input as")) > 1 {
		return nil, false, fmt.Errorf("more than one input")
	}
	if bytes.Contains(body, []byte("with data.")) {
		return nil, false, fmt.Errorf("the test gives the check data beside its input")
	}
	for _, m := range regoWithMock.FindAllSubmatch(body, -1) {
		if string(m[1]) != "input" {
			return nil, false, fmt.Errorf("the test replaces the check's %s with its own (its verdict holds for that mock only)", m[1])
		}
	}
	variable := string(body[m[2]:m[3]])
	literal, err := regoObject(body[m[1]:])
	if err != nil {
		return nil, false, err
	}
	rest := body[m[1]+len(literal):]
	count := regexp.MustCompile(`count\(` + regexp.QuoteMeta(variable) + `\)\s*(==|=|>|!=|>=)\s*([0-9]+)`).FindSubmatch(rest)
	member := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(variable) + `\[_\]`).Match(rest)
	var op, n string
	switch {
	case count != nil:
		op, n = string(count[1]), string(count[2])
	case member:
		// r[_].msg == "...": the test holds that the check denies with that message.
		op, n = ">", "0"
	default:
		return nil, false, fmt.Errorf("no count(%s) or %s[_] verdict", variable, variable)
	}
	switch {
	case (op == "==" || op == "=") && n == "0":
		denied = false
	case op == "==" || op == "=" || op == ">=":
		denied = n != "0"
	case (op == ">" || op == "!=") && n == "0":
		denied = true
	default:
		return nil, false, fmt.Errorf("verdict count(%s) %s %s", variable, op, n)
	}
	// A Rego object literal of strings, numbers, booleans, null, arrays and objects is JSON but
	// for the comments and trailing commas Rego allows.
	doc = regoTrailingComma.ReplaceAll(literal, []byte("$1"))
	var v map[string]any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return nil, false, fmt.Errorf("the input is not an object literal: %v", err)
	}
	return doc, denied, nil
}

// regoObject returns the object literal that src begins with, up to its closing brace, skipping
// braces inside strings, with its comments blanked out.
func regoObject(src []byte) ([]byte, error) {
	if len(src) == 0 || src[0] != '{' {
		return nil, fmt.Errorf("the input is not an object literal")
	}
	depth := 0
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return blankComments(src[:i+1]), nil
			}
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		}
	}
	return nil, fmt.Errorf("the input's object literal does not end")
}

// trivyMapping names the catalogue checks that judge what each trivy-checks check judges: a
// denied object must fail at least one of them, an allowed one must fail none. The checks of
// trivy-checks' security directory are mapped in trivy_security_test.go, the others (access,
// network, resources, workloads) in trivy_other_test.go.
func trivyMapping() map[string][]string {
	return mergedTrivyMaps(trivySecurityMapping, trivyOtherMapping)
}

// trivyUnmapped are trivy-checks checks the catalogue has no counterpart for, each with why.
func trivyUnmapped() map[string]string {
	return mergedTrivyMaps(trivySecurityUnmapped, trivyOtherUnmapped)
}

// trivyDisagreements are the cases where the catalogue judges otherwise than trivy-checks by
// design, keyed by the case's id and key, each with the reason. A listed case that agrees fails
// the test, so the list holds only live disagreements.
func trivyDisagreements() map[string]string {
	return mergedTrivyMaps(trivySecurityDisagreements, trivyOtherDisagreements)
}

// mergedTrivyMaps merges the two files' maps; a key in both is an error the ids subtest reports
// (trivyKeysInBoth), not one silently overriding the other.
func mergedTrivyMaps[V any](ms ...map[string]V) map[string]V {
	all := map[string]V{}
	for _, m := range ms {
		maps.Copy(all, m)
	}
	return all
}

// trivyKeysInBoth lists the keys that both files' maps hold.
func trivyKeysInBoth[V any](a, b map[string]V) []string {
	var both []string
	for k := range a {
		if _, ok := b[k]; ok {
			both = append(both, k)
		}
	}
	slices.Sort(both)
	return both
}

// trivyUnreadMax is how many of trivy-checks' tests at trivyChecksVersion trivyCases cannot
// read; more means a new form of test that the suite would silently skip. At v1.10.0 they are
// the five of KSV01011 (system:authenticated bindings) that give the check GKE data beside its
// input, the eight of KSV026 (unsafe sysctls) that build their pod with a function or give it
// a Kubernetes version, the two of KSV-0124 (ambiguous registry prefixes) that judge a list
// of inputs built by a comprehension, and the two of KSV107 (deprecated API versions) that
// replace its table of versions with a mock in which batch/v1 Job is deprecated.
const trivyUnreadMax = 17

// blankComments replaces each comment of a Rego literal (from # outside a string to the end of
// its line) with spaces, keeping the literal's length.
func blankComments(literal []byte) []byte {
	out := bytes.Clone(literal)
	inString := false
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == '#':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		}
	}
	return out
}

func TestTrivyChecksConformance(t *testing.T) {
	dir := downloadedModule(t, trivyChecksModule, trivyChecksVersion)
	cases, unread := trivyCases(t, dir)
	if len(unread) > trivyUnreadMax {
		t.Errorf("%d of trivy-checks' tests cannot be read, %d expected:\n%s", len(unread), trivyUnreadMax, strings.Join(unread, "\n"))
	}
	mapping, unmapped, disagreements := trivyMapping(), trivyUnmapped(), trivyDisagreements()
	plan := engine.Compile(Catalogue(), nil)
	seen := map[string]bool{}
	byArea := map[string][]trivyCase{}
	for _, c := range cases {
		seen[c.ID] = true
		area, _, _ := strings.Cut(c.Key, "/")
		byArea[area] = append(byArea[area], c)
	}
	t.Run("ids", func(t *testing.T) {
		for _, k := range slices.Concat(trivyKeysInBoth(trivySecurityMapping, trivyOtherMapping),
			trivyKeysInBoth(trivySecurityUnmapped, trivyOtherUnmapped), trivyKeysInBoth(trivySecurityDisagreements, trivyOtherDisagreements)) {
			t.Errorf("%s is in both trivy_security_test.go and trivy_other_test.go", k)
		}
		for id := range mapping {
			if !seen[id] {
				t.Errorf("%s is mapped, but trivy-checks %s has no such check with tests", id, trivyChecksVersion)
			}
			if _, ok := unmapped[id]; ok {
				t.Errorf("%s is both mapped and listed as unmapped", id)
			}
		}
		for id := range unmapped {
			if !seen[id] {
				t.Errorf("%s is listed as unmapped, but trivy-checks %s has no such check with tests", id, trivyChecksVersion)
			}
		}
		known := map[string]bool{}
		for _, c := range cases {
			known[c.ID+" "+c.Key] = true
		}
		for key := range disagreements {
			if !known[key] {
				t.Errorf("%q is listed as a disagreement, but trivy-checks %s has no such case", key, trivyChecksVersion)
			}
		}
	})
	// One subtest per directory of trivy-checks' Kubernetes checks (access, network, resources,
	// security, workloads).
	for _, area := range slices.Sorted(maps.Keys(byArea)) {
		t.Run(area, func(t *testing.T) {
			var failures []string
			agree, disagree, unmappedCases := 0, 0, 0
			for _, c := range byArea[area] {
				checks, ok := mapping[c.ID]
				if !ok {
					if _, ok := unmapped[c.ID]; !ok {
						failures = append(failures, fmt.Sprintf("%s (%s) is neither mapped nor listed as unmapped", c.ID, c.Title))
					}
					unmappedCases++
					continue
				}
				key := c.ID + " " + c.Key
				got, err := trivyVerdicts(plan, c)
				var problem string
				switch {
				case err != nil:
					problem = err.Error()
				case c.Denied && !slices.ContainsFunc(checks, func(id string) bool { return got[id] == engine.StatusFail }):
					problem = fmt.Sprintf("trivy denies it; want %s to fail, got %s", strings.Join(checks, " or "), describeVerdicts(checks, got))
				case !c.Denied && slices.ContainsFunc(checks, func(id string) bool { return got[id] == engine.StatusFail }):
					problem = fmt.Sprintf("trivy allows it; want none of %s to fail, got %s", strings.Join(checks, ", "), describeVerdicts(checks, got))
				}
				why, listed := disagreements[key]
				switch {
				case problem == "" && listed:
					failures = append(failures, fmt.Sprintf("%s: listed as a disagreement (%s) but agrees: take it off the list", key, why))
				case problem == "":
					agree++
				case listed:
					disagree++
				default:
					failures = append(failures, fmt.Sprintf("%s (%s): %s", key, c.Title, problem))
				}
			}
			t.Logf("%s %s, %s: %d cases; %d agree, %d listed disagreements, %d of unmapped checks", trivyChecksModule, trivyChecksVersion, area, len(byArea[area]), agree, disagree, unmappedCases)
			slices.Sort(failures)
			for _, f := range failures {
				t.Error(f)
			}
		})
	}
	t.Logf("%d cases of %d checks, %d tests unread", len(cases), len(seen), len(unread))
}

// trivyVerdicts judges one case's object with the whole catalogue as scan judges one file: a
// namespaced object that names no namespace is in default, and the view is not the whole
// cluster. It returns each check's worst status on the object.
func trivyVerdicts(plan *engine.Plan, c trivyCase) (map[string]engine.Status, error) {
	objs, errs := manifest.Decode(c.Key, c.Doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("does not decode: %v", errs[0])
	}
	manifest.DefaultNamespace(objs, "default")
	ev := plan.Evaluate(engine.NewInventory(objs, false), nil, engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
	rank := map[engine.Status]int{engine.StatusNotApplicable: 1, engine.StatusPass: 2, engine.StatusNotAssessed: 3, engine.StatusFail: 4}
	got := map[string]engine.Status{}
	for _, r := range ev.Results {
		if strings.HasPrefix(r.Message, "internal error") {
			return nil, fmt.Errorf("%s: %s", r.Check.ID, r.Message)
		}
		if rank[r.Status] > rank[got[r.Check.ID]] {
			got[r.Check.ID] = r.Status
		}
	}
	return got, nil
}

func describeVerdicts(checks []string, got map[string]engine.Status) string {
	var parts []string
	for _, id := range checks {
		s, ok := got[id]
		if !ok {
			parts = append(parts, id+" not judged")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", id, s.API()))
	}
	return strings.Join(parts, ", ")
}

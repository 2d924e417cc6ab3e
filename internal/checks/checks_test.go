package checks

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// fixtureNow is the evaluation time of every fixture (exception expiry is judged against it).
var fixtureNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fixtureExpectations are the outcomes a fixture file can be named for.
var fixtureExpectations = []string{"pass", "fail", "notassessed", "notapplicable"}

// fixtureHeader holds the directives a fixture may start with:
//
//	# mode: complete       evaluate as the operator does (a complete view of the cluster)
//	# message: some text   a failing (or undecided) result's message must contain this text
type fixtureHeader struct {
	complete bool
	message  string
}

func readHeader(data []byte) fixtureHeader {
	var h fixtureHeader
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case line == "mode: complete":
			h.complete = true
		case strings.HasPrefix(line, "message:"):
			h.message = strings.TrimSpace(strings.TrimPrefix(line, "message:"))
		}
	}
	return h
}

// TestFixturesExerciseEveryCheck walks testdata/<check-id>/{pass,fail,...}*.yaml for every
// check and fails when a fixture does not produce the outcome it is named for: a fixture that
// did not actually run its check fails too.
func TestFixturesExerciseEveryCheck(t *testing.T) {
	for _, c := range Catalogue() {
		t.Run(c.ID, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join("testdata", c.ID, "*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, f := range files {
				expect := fixtureExpectation(filepath.Base(f))
				if expect == "" {
					t.Errorf("%s: name it pass*, fail*, notassessed* or notapplicable*", f)
					continue
				}
				seen[expect]++
				runFixture(t, c, f, expect)
			}
			if c.Unassessable != (seen["pass"]+seen["fail"] == 0) {
				t.Errorf("%s: Unassessable is %v, but its fixtures show %v: a check that can pass or fail is not Unassessable, and one that never can must say so (people read that in docs and controls.csv)",
					c.ID, c.Unassessable, seen)
			}
			if c.Unassessable {
				// The check needs data no object carries (c.Requires): it can only say
				// NotAssessed, and its fixtures show that instead of pass and fail.
				if c.Requires == "" || seen["notassessed"] == 0 {
					t.Errorf("%s is Unassessable: it needs Requires and a notassessed fixture", c.ID)
				}
				return
			}
			if seen["pass"] == 0 || seen["fail"] == 0 {
				t.Errorf("%s needs at least one pass and one fail fixture in testdata/%s (have %v)", c.ID, c.ID, seen)
			}
		})
	}
}

func fixtureExpectation(name string) string {
	for _, e := range fixtureExpectations {
		if strings.HasPrefix(name, e) {
			rest := strings.TrimPrefix(name, e)
			if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, ".") || (rest != "" && rest[0] >= '0' && rest[0] <= '9') {
				return e
			}
		}
	}
	return ""
}

// judgeInCluster decodes the YAML documents and judges them with check c alone as the operator
// does (a complete view of the cluster), at fixtureNow, passes kept.
func judgeInCluster(t *testing.T, c *engine.Check, docs string) *engine.Evaluation {
	t.Helper()
	return judgeDocs(t, c, docs, true)
}

// judgeInScan is judgeInCluster as scan judges manifests (an incomplete view of the cluster).
func judgeInScan(t *testing.T, c *engine.Check, docs string) *engine.Evaluation {
	t.Helper()
	return judgeDocs(t, c, docs, false)
}

// judgeDocs judges the YAML documents with check c alone, in a complete view of the cluster or
// not, at fixtureNow, passes kept.
func judgeDocs(t *testing.T, c *engine.Check, docs string, complete bool) *engine.Evaluation {
	t.Helper()
	objs, errs := manifest.Decode("objects.yaml", []byte(docs))
	for _, e := range errs {
		t.Fatal(e)
	}
	MarkUnserved(objs) // as scan does
	plan := engine.Compile([]*engine.Check{c}, nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	return plan.Evaluate(engine.NewInventory(objs, complete), nil, opts)
}

func runFixture(t *testing.T, c *engine.Check, file, expect string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	header := readHeader(data)
	objs, errs := manifest.Decode(file, data)
	for _, e := range errs {
		t.Fatalf("fixture does not decode: %v", e)
	}
	// As scan does: objects that name no namespace land in "default", and those of an API
	// version Kubernetes does not serve are marked.
	manifest.DefaultNamespace(objs, "default")
	MarkUnserved(objs)
	var profile *v1alpha1.ComplianceProfile
	var exceptions []*v1alpha1.ControlException
	var cluster []*engine.Object
	for _, o := range objs {
		switch obj := o.Obj.(type) {
		case *v1alpha1.ComplianceProfile:
			profile = obj
		case *v1alpha1.ControlException:
			exceptions = append(exceptions, obj)
		default:
			cluster = append(cluster, o)
		}
	}
	plan := engine.Compile([]*engine.Check{c}, profile)
	for _, p := range plan.Problems {
		t.Fatalf("%s: the fixture's profile has a problem: %s", file, p.Message)
	}
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	ev := plan.Evaluate(engine.NewInventory(cluster, header.complete), exceptions, opts)
	if !header.complete {
		sameAsStreamed(t, file, plan, cluster, exceptions, opts, ev)
	}
	count := map[engine.Status]int{}
	var messages []string
	for _, r := range ev.Results {
		if r.Check.ID != c.ID {
			continue
		}
		count[r.Status]++
		if r.Message != "" {
			messages = append(messages, r.Message)
		}
		if strings.HasPrefix(r.Message, "internal error") {
			t.Errorf("%s: %s", file, r.Message)
		}
	}
	describe := func() string {
		return "got " + formatCounts(count) + "; messages: " + strings.Join(messages, " | ")
	}
	switch expect {
	case "pass":
		if count[engine.StatusPass] == 0 || count[engine.StatusFail] > 0 || count[engine.StatusNotAssessed] > 0 {
			t.Errorf("%s: want only passes (and NotApplicable), %s", file, describe())
		}
	case "fail":
		if count[engine.StatusFail] == 0 {
			t.Errorf("%s: want at least one failure, %s", file, describe())
		}
	case "notassessed":
		if count[engine.StatusNotAssessed] == 0 || count[engine.StatusPass]+count[engine.StatusFail] > 0 {
			t.Errorf("%s: want NotAssessed and no pass or fail, %s", file, describe())
		}
	case "notapplicable":
		if count[engine.StatusNotApplicable] == 0 || count[engine.StatusPass]+count[engine.StatusFail] > 0 {
			t.Errorf("%s: want NotApplicable and no pass or fail, %s", file, describe())
		}
	}
	if header.message != "" && !containsAny(messages, header.message) {
		t.Errorf("%s: no message contains %q, %s", file, header.message, describe())
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func formatCounts(count map[engine.Status]int) string {
	var parts []string
	for s := engine.StatusPass; s <= engine.StatusNotAssessed; s++ {
		if count[s] > 0 {
			parts = append(parts, s.String()+"="+strconv.Itoa(count[s]))
		}
	}
	if len(parts) == 0 {
		return "no result at all (the fixture did not exercise the check)"
	}
	return strings.Join(parts, " ")
}

var idPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// TestCatalogueMetadata holds every check to the metadata a report and `checks` show.
func TestCatalogueMetadata(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range Catalogue() {
		switch {
		case !idPattern.MatchString(c.ID) || len(c.ID) > 63:
			t.Errorf("check %d: ID %q is not a valid check ID", i, c.ID)
		case seen[c.ID]:
			t.Errorf("check %q is listed twice", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.Description == "" || c.Remediation == "" {
			t.Errorf("%s: title, description and remediation are all required", c.ID)
		}
		switch c.Severity {
		case v1alpha1.SeverityCritical, v1alpha1.SeverityHigh, v1alpha1.SeverityMedium, v1alpha1.SeverityLow:
		default:
			t.Errorf("%s: severity %q is not Critical, High, Medium or Low", c.ID, c.Severity)
		}
		if len(c.Criteria) == 0 {
			t.Errorf("%s: no SOC 2 criteria", c.ID)
		}
		for _, cr := range c.Criteria {
			if !engine.KnownCriterion(cr) {
				t.Errorf("%s: unknown criterion %q", c.ID, cr)
			}
		}
		if len(c.Targets) == 0 || c.Evaluate == nil {
			t.Errorf("%s: needs targets and an Evaluate function", c.ID)
		}
		if _, err := os.Stat(filepath.Join("testdata", c.ID)); err != nil {
			t.Errorf("%s: no fixtures in testdata/%s", c.ID, c.ID)
		}
		if _, err := os.Stat(c.ID + ".go"); err != nil {
			t.Errorf("%s: the check should live in its own file %s.go", c.ID, c.ID)
		}
	}
	dirs, _ := os.ReadDir("testdata")
	for _, d := range dirs {
		if d.IsDir() && !seen[d.Name()] {
			t.Errorf("testdata/%s holds fixtures for a check that is not in the catalogue", d.Name())
		}
	}
}

// sameAsStreamed fails unless scan's streamed evaluation (engine.Stream: objects whose checks
// are all local judged by themselves as they are read) gives exactly the results of Evaluate.
// A check that declares no Reads but looks up other objects fails here: judged alone, its
// look-up is refused and it says NotAssessed with an internal error.
func sameAsStreamed(t *testing.T, file string, plan *engine.Plan, objs []*engine.Object, exceptions []*v1alpha1.ControlException, opts engine.Options, want *engine.Evaluation) {
	t.Helper()
	stream := func(compact bool) (*engine.Evaluation, bool) {
		s := plan.NewStream(exceptions, opts, nil)
		if compact {
			s.Compact()
		}
		for _, o := range objs {
			s.Add(o)
		}
		return s.Finish(), s.FullNeeded()
	}
	got, _ := stream(false)
	sameResults(t, file, "streamed", want, got)
	// Workloads kept in compact form until the end, as scan keeps them: the checks judge them
	// alike, unless a controller was compacted before an object that names it was read (scan
	// then evaluates again without compacting).
	compacted, fullNeeded := stream(true)
	switch {
	case !fullNeeded:
		sameResults(t, file, "streamed with compact workloads", want, compacted)
	case !slices.ContainsFunc(objs, func(o *engine.Object) bool { return engine.ControllerRef(o.Obj) != nil }):
		// The comparison is skipped only where it must be: a fixture where an object names its
		// controller.
		t.Errorf("%s: the stream needs whole workloads, but no object names a controller", file)
	}
}

// sameResults fails unless got has the results of want, in the same order.
func sameResults(t *testing.T, file, what string, want, got *engine.Evaluation) {
	t.Helper()
	line := func(r engine.Result) string {
		ref := ""
		if r.Object != nil {
			ref = r.Object.Ref().String()
		}
		return fmt.Sprintf("%s %s %s %s %q", r.Check.ID, ref, r.Container, r.Status, r.Message)
	}
	var a, b []string
	for _, r := range want.Results {
		a = append(a, line(r))
	}
	for _, r := range got.Results {
		b = append(b, line(r))
	}
	if !slices.Equal(a, b) {
		t.Errorf("%s: %s evaluation differs from Evaluate (a check without Reads that reads other objects, or a field CompactWorkload leaves out?):\nEvaluate:\n  %s\n%s:\n  %s",
			file, what, strings.Join(a, "\n  "), what, strings.Join(b, "\n  "))
	}
}

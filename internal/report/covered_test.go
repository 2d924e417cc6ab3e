package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// coveredUsage evaluates objs with one exception that needs no approval, covers every check
// and selects the workloads labelled with one of names, and returns its usage in team-000's
// report.
func coveredUsage(t *testing.T, objs []*engine.Object, names ...string) v1alpha1.ExceptionUsage {
	t.Helper()
	var ids []string
	for _, c := range checks.Catalogue() {
		ids = append(ids, c.ID)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "by-label", Namespace: "team-000"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: ids, Reason: "r", Owner: "o", Expires: metav1.NewTime(now.Add(time.Hour)),
			Match: v1alpha1.ResourceMatch{LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "app.kubernetes.io/name", Operator: metav1.LabelSelectorOpIn, Values: names}}}}},
	}
	no := false
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{RequireApproval: &no, MaxSeverity: v1alpha1.SeverityCritical}}}
	ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex}, engine.Options{Now: now})
	st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	for _, u := range st.Exceptions {
		if u.Name == "team-000/by-label" {
			return u
		}
	}
	t.Fatalf("the exception is not listed: %+v", st.Exceptions)
	return v1alpha1.ExceptionUsage{}
}

// TestCoveredShowsWhatAnExceptionCovers: a report's usage of an exception lists the first
// findings it covers, in an order that does not depend on the order objects were read (or the
// report would be rewritten on every evaluation), and a digest of them all that changes when
// the exception covers other findings.
func TestCoveredShowsWhatAnExceptionCovers(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 6, FailingEvery: 1}))
	u := coveredUsage(t, objs, "app-00001", "app-00002")
	if u.Findings <= MaxCovered || len(u.Covered) != MaxCovered || !strings.HasPrefix(u.CoveredDigest, "sha256:") || len(u.CoveredDigest) != len("sha256:")+coveredDigestHex {
		t.Fatalf("covering %d findings, the usage lists %d (want %d) with digest %q", u.Findings, len(u.Covered), MaxCovered, u.CoveredDigest)
	}
	key := func(c v1alpha1.CoveredFinding) string {
		return fmt.Sprintf("%s/%s/%s/%s", c.Resource.Kind, c.Resource.Name, c.Container, c.Check)
	}
	for i, c := range u.Covered {
		if c.Resource.Name != "app-00001" && c.Resource.Name != "app-00002" || c.Resource.Namespace != "team-000" || c.Check == "" {
			t.Errorf("covered[%d] = %+v: not a finding the exception selects", i, c)
		}
		if i > 0 && key(u.Covered[i-1]) > key(c) {
			t.Errorf("covered is not in order: %s before %s", key(u.Covered[i-1]), key(c))
		}
	}

	reversed := slices.Clone(objs)
	slices.Reverse(reversed)
	if again := coveredUsage(t, reversed, "app-00001", "app-00002"); again.CoveredDigest != u.CoveredDigest || !slices.Equal(again.Covered, u.Covered) {
		t.Errorf("the same findings read in another order show as %s %+v, were %s %+v", again.CoveredDigest, again.Covered, u.CoveredDigest, u.Covered)
	}
	if moved := coveredUsage(t, objs, "app-00001", "app-00003"); moved.CoveredDigest == u.CoveredDigest {
		t.Errorf("the exception moved from app-00002 to app-00003 and its digest stayed %s", u.CoveredDigest)
	}
	if none := coveredUsage(t, objs, "nothing"); none.Findings != 0 || none.CoveredDigest != "" || none.Covered != nil {
		t.Errorf("an unused exception shows %+v", none)
	}
}

// TestCoveredNeverCrowdsAnExceptionOut: what exceptions cover is dropped from a report's
// exceptions before any exception is, when they would not all fit ExceptionsBudget; the digests
// stay.
func TestCoveredNeverCrowdsAnExceptionOut(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: MaxExceptions, FailingEvery: 1}))
	var ids []string
	for _, c := range checks.Catalogue() {
		ids = append(ids, c.ID)
	}
	var exceptions []*v1alpha1.ControlException
	for i := range MaxExceptions {
		exceptions = append(exceptions, &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("long-%03d", i), Namespace: "team-000"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: ids, Match: v1alpha1.ResourceMatch{Names: []string{fmt.Sprintf("app-%05d", i)}},
				Reason: strings.Repeat("<", 2048), Owner: strings.Repeat(">", 64), Expires: metav1.NewTime(now.Add(time.Hour))},
		})
	}
	no := false
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{RequireApproval: &no, MaxSeverity: v1alpha1.SeverityCritical}}}
	ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), exceptions, engine.Options{Now: now})
	got, total := ExceptionsFor(ev, "team-000", nil)
	bare := make([]v1alpha1.ExceptionUsage, total)
	for i, u := range got {
		bare[i] = u
		bare[i].Covered = nil
		if u.Findings == 0 || u.CoveredDigest == "" {
			t.Errorf("%s covers %d findings with digest %q", u.Name, u.Findings, u.CoveredDigest)
		}
		if u.Covered != nil {
			t.Errorf("%s lists what it covers while the exceptions do not all fit", u.Name)
		}
	}
	if int(total) != MaxExceptions || len(got) == MaxExceptions {
		t.Fatalf("%d of %d exceptions listed: the test wants them not to fit", len(got), total)
	}
	for i := len(got); i < int(total); i++ {
		bare[i] = bare[0]
	}
	if want := fitting(bare); len(got) != want {
		t.Errorf("%d exceptions listed, %d fit without what they cover", len(got), want)
	}
}

// TestCombinedDigestDependsOnWhatNotOnOrder: an exception's status digests the digests of every
// profile and namespace where it covers findings, which the operator holds in maps: the order
// they are read in must not change it (or the status would be rewritten for nothing), and any
// one of them changing must.
func TestCombinedDigestDependsOnWhatNotOnOrder(t *testing.T) {
	places := [][3]string{{"p", "a", "sha256:1"}, {"p", "b", "sha256:2"}, {"q", "a", "sha256:3"}}
	d := CombinedDigest(places)
	if reversed := CombinedDigest([][3]string{places[2], places[1], places[0]}); reversed != d || !strings.HasPrefix(d, "sha256:") {
		t.Errorf("digest %q, %q read in another order", d, reversed)
	}
	if moved := CombinedDigest([][3]string{places[0], places[1], {"q", "a", "sha256:4"}}); moved == d {
		t.Errorf("a namespace's digest changed and the combined one stayed %s", d)
	}
	if none := CombinedDigest(nil); none != "" {
		t.Errorf("no findings covered digest to %q", none)
	}
}

// TestCoveredDigestIsOfTheSortedFindingKeys pins what coveredDigest digests, so that auditors
// can recompute it from the journal's finding.excepted records: every finding's FindingKey
// (check, kind with its group, namespace, name and container, NUL-separated) and a newline, in
// the order of kind, name, container and check.
func TestCoveredDigestIsOfTheSortedFindingKeys(t *testing.T) {
	items := []coveredItem{
		{kind: "Deployment.apps", name: "b", container: "c", check: "x", namespace: "ns", ref: &engine.Result{}},
		{kind: "Deployment.apps", name: "a", container: "c", check: "y", namespace: "ns", ref: &engine.Result{}},
		{kind: "Deployment.apps", name: "a", container: "c", check: "x", namespace: "ns", ref: &engine.Result{}},
	}
	var u v1alpha1.ExceptionUsage
	setCovered(&u, coveredOf(items))
	sum := sha256.Sum256([]byte("x\x00Deployment.apps\x00ns\x00a\x00c\n" + "y\x00Deployment.apps\x00ns\x00a\x00c\n" + "x\x00Deployment.apps\x00ns\x00b\x00c\n"))
	if want := "sha256:" + hex.EncodeToString(sum[:])[:coveredDigestHex]; u.CoveredDigest != want {
		t.Errorf("coveredDigest %s, want %s", u.CoveredDigest, want)
	}
	if len(u.Covered) != 3 || u.Covered[0].Check != "x" || u.Covered[1].Check != "y" || u.Covered[2].Check != "x" {
		t.Errorf("covered %+v, not in the order of kind, name, container and check", u.Covered)
	}
}

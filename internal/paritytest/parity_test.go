//go:build e2e

package paritytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/scan"
	"github.com/soc2-operator/soc2-operator/internal/selection"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// profileFile is the profile both sides evaluate.
const profileFile = "testdata/profile.yaml"

// inputPaths are the manifests both sides read: the demo's (read where they are), scan's own
// test manifests and a slice of the shared corpus (testdata/README.md says where each came from).
func inputPaths() []string {
	return []string{filepath.Join(testenv.RepoRoot(), "config", "demo"), "testdata/scan-shop", "testdata/annotated", "testdata/kong", "testdata/traefik", "testdata/corpus"}
}

// TestScanAgreesWithTheOperator applies the inputs to the API server with kubectl, lets the
// operator evaluate them under testdata/profile.yaml, runs `scan` on the same files with the
// same profile and exceptions, and compares what both say about every resource of the inputs:
// the findings (failing and excepted) of the ComplianceReports and of the profile's cluster
// findings, and every result (passes and NotAssessed too) of the operator's PolicyReports.
// Each difference must be one of knownDifferences, which say why scan cannot know better.
func TestScanAgreesWithTheOperator(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	exceptionsFile := writeExceptions(t, dir)
	paths := append(inputPaths(), exceptionsFile)

	inputs := loadInputs(t, paths)
	createNamespaces(t, inputs)
	out, err := kubectl(ctx, "apply", "-R", "-f", strings.Join(paths, ","))
	if err != nil {
		// Some objects are refused (an API version no longer served, ...): applied() finds them.
		t.Logf("kubectl apply -R: %v", err)
	}
	refused := inputs.applied(t, out)
	inputs.waitOperatorCache(t)

	if _, err := kubectl(ctx, "apply", "-f", profileFile); err != nil {
		t.Fatal(err)
	}
	scanReport := runScan(t, exceptionsFile)
	scanFindings, scanResults := scanSides(scanReport)
	for k := range refused {
		scanFindings.drop(k)
		scanResults.drop(k)
	}

	// The operator's reports, PolicyReports and profile status are written one after another,
	// and a change (an exception judged, the operator's own status writes) may bring another
	// evaluation: its view is read again until it is complete and agrees with scan, and a
	// difference that lasts is reported as it was last seen.
	d := newDiffer(inputs)
	var logs []string
	testenv.Eventually(t, 90*time.Second, "the operator's reports, complete, agree with scan", func() error {
		operatorSide, err := readOperator()
		if err != nil {
			return err
		}
		findingLogs, findingsErr := d.compare("findings: scan's findings vs the ComplianceReports' findings and the profile's clusterFindings",
			scanFindings, operatorSide.findings, scanResults, operatorSide.results)
		resultLogs, resultsErr := d.compare("every result: scan --show all vs the operator's PolicyReports and ClusterPolicyReports",
			scanResults, operatorSide.results, scanResults, operatorSide.results)
		logs = append(findingLogs, resultLogs...)
		return errors.Join(findingsErr, resultsErr)
	})
	for _, l := range logs {
		t.Log(l)
	}
	d.checkKnownDifferencesOccur(t)
}

// input is one object of the inputs, as scan read it.
type input struct {
	obj *engine.Object
	// rv is its resourceVersion in the cluster once applied.
	rv string
}

// inputSet is every object of the inputs, by resource.
type inputSet map[resource]*input

// resource identifies an object for the comparison. The API group and version are left out:
// an autoscaling/v1 HorizontalPodAutoscaler is the same object as the operator's autoscaling/v2.
type resource struct {
	Kind, Namespace, Name string
}

func (r resource) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// loadInputs reads the inputs as scan does (internal/manifest, namespace default as
// scan --namespace and kubectl apply), and fails on two objects with the same name, which
// kubectl would apply over each other.
func loadInputs(t *testing.T, paths []string) inputSet {
	t.Helper()
	objs, errs := manifest.Load(paths, nil)
	for _, err := range errs {
		t.Logf("scan cannot read: %v", err)
	}
	manifest.DefaultNamespace(objs, "default")
	set := inputSet{}
	for _, o := range objs {
		r := resource{o.Kind, o.Namespace, o.Name}
		if prev, ok := set[r]; ok {
			t.Fatalf("%s is in the inputs twice (%s and %s): kubectl would apply one over the other", r, prev.obj.Source, o.Source)
		}
		set[r] = &input{obj: o}
	}
	t.Logf("%d objects in the inputs", len(set))
	return set
}

// createNamespaces creates every namespace the inputs use before the rest is applied, as a
// careful user does: the inputs' Namespace objects, with their labels (so that Pod Security
// admission already judges the Pods applied into them, as it would in a cluster where they
// exist), then `kubectl create namespace` for those the inputs use without declaring.
func createNamespaces(t *testing.T, inputs inputSet) {
	t.Helper()
	ctx := context.Background()
	used := map[string]bool{}
	var declared []byte
	for _, r := range sortedResources(inputs) {
		if r.Namespace != "" {
			used[r.Namespace] = true
		}
		if r.Kind != "Namespace" {
			continue
		}
		ns := inputs[r].obj.Obj.(*corev1.Namespace).DeepCopy()
		ns.APIVersion, ns.Kind = "v1", "Namespace"
		doc, err := sigsyaml.Marshal(ns)
		if err != nil {
			t.Fatal(err)
		}
		declared = append(append(declared, "---\n"...), doc...)
		delete(used, r.Name)
	}
	file := filepath.Join(t.TempDir(), "namespaces.yaml")
	if err := os.WriteFile(file, declared, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kubectl(ctx, "apply", "-f", file); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if _, isDeclared := inputs[resource{"Namespace", "", name}]; isDeclared {
			continue
		}
		err := k8s.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if _, err := kubectl(ctx, "create", "namespace", name); err != nil {
			t.Fatal(err)
		}
	}
}

// kubectl runs kubectl as the cluster admin and returns what it printed on both streams.
func kubectl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// applied finds which inputs the API server holds, records their resourceVersions, and returns
// (and logs, with kubectl's words) those it refused: they are not compared.
func (s inputSet) applied(t *testing.T, kubectlOutput string) map[resource]string {
	t.Helper()
	ctx := context.Background()
	refused := map[resource]string{}
	for r, in := range s {
		gv, err := schema.ParseGroupVersion(in.obj.APIVersion)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gv.WithKind(r.Kind))
		err = k8s.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, u)
		switch {
		case err == nil:
			in.rv = u.GetResourceVersion()
			continue
		case meta.IsNoMatchError(err):
			refused[r] = "the API server does not serve " + in.obj.APIVersion + " " + r.Kind
		case apierrors.IsNotFound(err):
			refused[r] = "not in the cluster after kubectl apply"
		default:
			t.Fatal(err)
		}
		for _, line := range strings.Split(kubectlOutput, "\n") {
			if strings.Contains(line, in.obj.Source.File) || strings.Contains(line, `"`+r.Name+`"`) {
				refused[r] += "; kubectl: " + strings.TrimSpace(line)
				break
			}
		}
	}
	// scan reads the exceptions file whatever the API server says of it, so an exception the
	// API server refused changes scan's side only: every finding it covers would differ.
	exceptionRefused := false
	for _, r := range sortedResources(refused) {
		if r.Kind == "ControlException" {
			t.Errorf("the API server refused %s (%s), which scan applies: %s", r, s[r].obj.Source.File, refused[r])
			exceptionRefused = true
			continue
		}
		t.Logf("not compared: the API server refused %s (%s): %s", r, s[r].obj.Source.File, refused[r])
		delete(s, r)
	}
	if exceptionRefused {
		t.FailNow()
	}
	return refused
}

// waitOperatorCache waits until the operator's cache holds every applied object of the kinds it
// reads, as applied: the profile is created after that, so that its first evaluation sees them
// all and the test can wait for it to finish without guessing.
func (s inputSet) waitOperatorCache(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "the operator's cache holds every applied object", func() error {
		for _, r := range sortedResources(s) {
			var obj client.Object
			if k, ok := inventory.ByKind(r.Kind); ok {
				if k.Optional && !strings.HasPrefix(s[r].obj.APIVersion, k.GVK.Group+"/") {
					continue // another group's kind of that name (Istio's Gateway)
				}
				// Unstructured for the add-ons' kinds, which the scheme does not know.
				obj = k.New()
			} else if r.Kind == "ControlException" {
				obj = &v1alpha1.ControlException{}
			} else {
				continue // a kind the operator does not read
			}
			if err := operatorCache.Get(context.Background(), client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, obj); err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
			if obj.GetResourceVersion() != s[r].rv {
				return fmt.Errorf("%s: resourceVersion %s in the cache, %s applied", r, obj.GetResourceVersion(), s[r].rv)
			}
		}
		return nil
	})
}

// writeExceptions writes the test's ControlExceptions to a file (kubectl applies it, scan reads
// it with --exceptions): the demo's sample exception and one over several objects, expiring in
// 30 days so that they are active whenever the test runs.
func writeExceptions(t *testing.T, dir string) string {
	t.Helper()
	sample, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "compliance_v1alpha1_controlexception.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	expiry := regexp.MustCompile(`(?m)^  expires: .*$`)
	if !expiry.Match(sample) {
		t.Fatal("config/samples/compliance_v1alpha1_controlexception.yaml: no spec.expires to replace")
	}
	sample = expiry.ReplaceAll(sample, []byte(`  expires: "`+expires+`"`))
	monitoring := `apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata:
  name: node-agents-host-access
  namespace: monitoring
spec:
  checks: [wl-host-network, wl-host-namespaces, wl-hostpath]
  match:
    kinds: [DaemonSet]
  reason: Node exporters read the node's network and file systems by design.
  owner: platform-team@example.com
  expires: "` + expires + `"
`
	file := filepath.Join(dir, "exceptions.yaml")
	if err := os.WriteFile(file, append(append(sample, "---\n"...), monitoring...), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// runScan runs `soc2-operator scan -o json --show all` in process on the inputs, with the
// profile and exceptions.
func runScan(t *testing.T, exceptionsFile string) *scan.Report {
	t.Helper()
	args := []string{"-o", "json", "--show", "all", "--profile", profileFile, "--exceptions", exceptionsFile}
	for _, p := range inputPaths() {
		args = append(args, "-f", p)
	}
	var stdout, stderr bytes.Buffer
	code := scan.Run(args, nil, &stdout, &stderr, time.Now)
	t.Logf("scan %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	if code != scan.ExitOK && code != scan.ExitFindings && code != scan.ExitInput {
		t.Fatalf("scan exited %d", code)
	}
	rep := &scan.Report{}
	if err := json.Unmarshal(stdout.Bytes(), rep); err != nil {
		t.Fatalf("scan's JSON: %v", err)
	}
	return rep
}

// outcome is what one side says about one result key.
type outcome struct {
	Result  v1alpha1.CheckResult
	Message string
}

// resultKey is a check on a resource (and container).
type resultKey struct {
	Check string
	resource
	Container string
}

func (k resultKey) String() string {
	s := k.Check + " on " + k.resource.String()
	if k.Container != "" {
		s += " container " + k.Container
	}
	return s
}

// side is what one side says: the outcomes for each key (a check may judge the same key more
// than once).
type side map[resultKey][]outcome

func (s side) add(k resultKey, o outcome) { s[k] = append(s[k], o) }

func (s side) drop(r resource) {
	for k := range s {
		if k.resource == r {
			delete(s, k)
		}
	}
}

// scanSides are scan's findings and its results (NotApplicable left out, as PolicyReports leave
// it out; results of cluster checks, which judge no object, are in no PolicyReport).
func scanSides(rep *scan.Report) (findings, results side) {
	findings, results = side{}, side{}
	key := func(f scan.Finding) resultKey {
		k := resultKey{Check: f.Check, Container: f.Container}
		if f.Resource != nil {
			k.resource = resource{f.Resource.Kind, f.Resource.Namespace, f.Resource.Name}
		}
		return k
	}
	for _, f := range rep.Findings {
		findings.add(key(f), outcome{f.Result, f.Message})
	}
	for _, f := range rep.Results {
		if f.Result == v1alpha1.ResultNotApplicable || f.Resource == nil {
			continue
		}
		results.add(key(f), outcome{f.Result, f.Message})
	}
	return findings, results
}

// operatorView is what the operator says: the findings of its reports and every result of its
// PolicyReports.
type operatorView struct {
	findings, results side
}

// waitOperator waits until the profile is Ready and every namespace it selects has a Ready
// report of the profile's generation whose counts the PolicyReports add up to (they are written
// after the report), then reads the operator's findings and results.
func readOperator() (operatorView, error) {
	ctx := context.Background()
	view := operatorView{findings: side{}, results: side{}}
	profile := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "parity"}, profile); err != nil {
		return view, err
	}
	ready := meta.FindStatusCondition(profile.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != profile.Generation {
		return view, fmt.Errorf("profile not Ready for generation %d: %+v", profile.Generation, ready)
	}
	sel, problem := selection.NamespaceSelector(profile)
	if problem != nil {
		return view, errors.New(problem.Message)
	}
	var namespaces corev1.NamespaceList
	if err := k8s.List(ctx, &namespaces); err != nil {
		return view, err
	}
	byProfile := client.MatchingLabels{v1alpha1.LabelProfile: profile.Name}
	var reports v1alpha1.ComplianceReportList
	if err := k8s.List(ctx, &reports, byProfile); err != nil {
		return view, err
	}
	var prs policyreport.PolicyReportList
	if err := k8s.List(ctx, &prs, byProfile); err != nil {
		return view, err
	}
	var cprs policyreport.ClusterPolicyReportList
	if err := k8s.List(ctx, &cprs, byProfile); err != nil {
		return view, err
	}

	// What the PolicyReports say, counted per namespace ("" for cluster-scoped objects; a
	// Namespace object counts in its own namespace, as the operator evaluates it there).
	counts := map[string]*v1alpha1.ReportSummary{}
	count := func(ns string) *v1alpha1.ReportSummary {
		if counts[ns] == nil {
			counts[ns] = &v1alpha1.ReportSummary{}
		}
		return counts[ns]
	}
	addResults := func(scope *corev1.ObjectReference, results []policyreport.Result) {
		r := resource{scope.Kind, scope.Namespace, scope.Name}
		ns := r.Namespace
		if r.Kind == "Namespace" {
			ns = r.Name
		}
		for _, res := range results {
			k := resultKey{Check: res.Policy, resource: r, Container: res.Properties[policyreport.PropertyContainer]}
			o := outcome{Message: res.Message}
			if res.Message == res.Properties[policyreport.PropertyTitle] {
				o.Message = "" // a result with no message says the check's title (policyreport.Build)
			}
			c := count(ns)
			switch {
			case res.Result == policyreport.StatusPass:
				o.Result = v1alpha1.ResultPass
				c.Passed++
			case res.Result == policyreport.StatusFail:
				o.Result = v1alpha1.ResultFail
				c.Failing++
			case res.Result == policyreport.StatusSkip && res.Properties[policyreport.PropertyReason] == policyreport.ReasonExcepted:
				o.Result = v1alpha1.ResultExcepted
				c.Excepted++
			case res.Result == policyreport.StatusSkip && res.Properties[policyreport.PropertyReason] == policyreport.ReasonNotAssessed:
				o.Result = v1alpha1.ResultNotAssessed
				c.NotAssessed++
			default:
				o.Result = v1alpha1.CheckResult(string(res.Result) + "/" + res.Properties[policyreport.PropertyReason])
			}
			view.results.add(k, o)
		}
	}
	for i := range prs.Items {
		addResults(prs.Items[i].Scope, prs.Items[i].Results)
	}
	for i := range cprs.Items {
		addResults(cprs.Items[i].Scope, cprs.Items[i].Results)
	}

	reportOf := map[string]*v1alpha1.ComplianceReport{}
	for i := range reports.Items {
		reportOf[reports.Items[i].Namespace] = &reports.Items[i]
	}
	for i := range namespaces.Items {
		ns := &namespaces.Items[i]
		if !selection.Selects(profile, sel, ns) {
			continue
		}
		rep := reportOf[ns.Name]
		if rep == nil {
			return view, fmt.Errorf("namespace %s: no report yet", ns.Name)
		}
		ready := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || rep.Status.ProfileGeneration != profile.Generation {
			return view, fmt.Errorf("report %s/%s not Ready for the profile's generation %d: %+v", rep.Namespace, rep.Name, profile.Generation, ready)
		}
		if rep.Status.FindingsTruncated {
			// Not a wait: the profile's maxFindings is too low for the inputs.
			return view, fmt.Errorf("report %s/%s lists %d of its %d findings: raise maxFindings in %s or apply less", rep.Namespace, rep.Name, len(rep.Status.Findings), rep.Status.TotalFindings, profileFile)
		}
		s, c := rep.Status.Summary, count(ns.Name)
		if s.Passed != c.Passed || s.Failing != c.Failing || s.Excepted != c.Excepted || s.NotAssessed != c.NotAssessed {
			return view, fmt.Errorf("namespace %s: the report counts %d passed, %d failing, %d excepted, %d not assessed; its PolicyReports %d, %d, %d, %d",
				ns.Name, s.Passed, s.Failing, s.Excepted, s.NotAssessed, c.Passed, c.Failing, c.Excepted, c.NotAssessed)
		}
		for _, f := range rep.Status.Findings {
			view.findings.add(findingKey(f), outcome{f.Result, f.Message})
		}
	}
	// The cluster-scoped findings as an auditor reads them: the profile's clusterFindings.
	if profile.Status.ClusterFindingsTruncated {
		return view, fmt.Errorf("the profile lists %d of its %d cluster findings", len(profile.Status.ClusterFindings), profile.Status.ClusterFindingsTotal)
	}
	for _, f := range profile.Status.ClusterFindings {
		view.findings.add(findingKey(f), outcome{f.Result, f.Message})
	}
	return view, nil
}

func findingKey(f v1alpha1.Finding) resultKey {
	return resultKey{Check: f.Check, resource: resource{f.Resource.Kind, f.Resource.Namespace, f.Resource.Name}, Container: f.Container}
}

func sortedResources[V any](m map[resource]V) []resource {
	out := make([]resource, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

//go:build e2e

package paritytest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// difference is a result key on which scan and the operator disagree.
type difference struct {
	resultKey
	scan, operator []outcome
	// scanAll and operatorAll are every result of each side for the key, passes and
	// NotAssessed included, for classifying a difference between findings by its cause.
	scanAll, operatorAll []outcome
	// inInputs is whether the resource is one of the applied inputs (false: only the cluster
	// has it).
	inInputs bool
}

// results are the results of one side, sorted, for messages and comparison.
func results(os []outcome) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		out = append(out, string(o.Result))
	}
	sort.Strings(out)
	return out
}

// messages are the messages of one side, sorted.
func messages(os []outcome) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		out = append(out, o.Message)
	}
	sort.Strings(out)
	return out
}

// knownDifference is a class of differences the test allows, with the reason scan cannot say
// what the operator says. Every one must still occur (checkKnownDifferencesOccur), so that the
// list never outlives what it excuses.
type knownDifference struct {
	name string
	// why says why scan cannot know better.
	why     string
	matches func(d *difference) bool
	// seen counts the differences it allowed, per comparison.
	seen map[string]int
}

// differ compares the two sides and classifies the differences.
type differ struct {
	inputs inputSet
	known  []*knownDifference
}

func newDiffer(inputs inputSet) *differ {
	d := &differ{inputs: inputs}
	for _, k := range knownDifferences(inputs) {
		k.seen = map[string]int{}
		d.known = append(d.known, k)
	}
	return d
}

// compare returns every difference between the sides that no known difference allows, with
// what each side says, as an error; and what to log of what they agree on.
// scanAll and operatorAll are every result of each side (difference.scanAll).
func (d *differ) compare(what string, scanSide, operatorSide, scanAll, operatorAll side) (logs []string, err error) {
	for _, kd := range d.known {
		delete(kd.seen, what)
	}
	keys := map[resultKey]bool{}
	for k := range scanSide {
		keys[k] = true
	}
	for k := range operatorSide {
		keys[k] = true
	}
	agreed := map[string]int{}
	// reworded holds, by check, an example of a result both sides agree on with other words
	// (the operator reads the defaulted object, scan says what the default will be).
	reworded := map[string]string{}
	var unexplained []*difference
	for k := range keys {
		s, o := scanSide[k], operatorSide[k]
		if slices.Equal(results(s), results(o)) {
			for _, r := range results(s) {
				agreed[r]++
			}
			if !slices.Equal(messages(s), messages(o)) {
				if reworded[k.Check] == "" {
					reworded[k.Check] = fmt.Sprintf("%s: scan %q, operator %q", k, strings.Join(messages(s), "; "), strings.Join(messages(o), "; "))
				}
			}
			continue
		}
		diff := &difference{resultKey: k, scan: s, operator: o, scanAll: scanAll[k], operatorAll: operatorAll[k]}
		_, diff.inInputs = d.inputs[k.resource]
		allowed := false
		for _, kd := range d.known {
			if kd.matches(diff) {
				kd.seen[what]++
				allowed = true
				break
			}
		}
		if !allowed {
			unexplained = append(unexplained, diff)
		}
	}
	logs = append(logs, fmt.Sprintf("%s: both sides say %v", what, agreed))
	for _, kd := range d.known {
		if n := kd.seen[what]; n > 0 {
			logs = append(logs, fmt.Sprintf("%s: %d differences allowed as %q", what, n, kd.name))
		}
	}
	for _, check := range slices.Sorted(maps.Keys(reworded)) {
		logs = append(logs, fmt.Sprintf("%s: same result, other words: %s", what, reworded[check]))
	}
	if len(unexplained) == 0 {
		return logs, nil
	}
	sort.Slice(unexplained, func(i, j int) bool { return unexplained[i].String() < unexplained[j].String() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s: scan and the operator disagree on %d results that no known difference explains:\n", what, len(unexplained))
	for _, diff := range unexplained {
		fmt.Fprintf(&b, "  %s", diff.resultKey)
		if !diff.inInputs {
			b.WriteString(" (not in the inputs: only the cluster has it)")
		}
		b.WriteString("\n")
		writeSide(&b, "scan:    ", diff.scan)
		writeSide(&b, "operator:", diff.operator)
	}
	return logs, errors.New(b.String())
}

func writeSide(b *strings.Builder, label string, os []outcome) {
	if len(os) == 0 {
		fmt.Fprintf(b, "      %s (no result)\n", label)
		return
	}
	for _, o := range os {
		fmt.Fprintf(b, "      %s %-12s %s\n", label, o.Result, o.Message)
	}
}

// checkKnownDifferencesOccur fails for a known difference that allowed nothing: it no longer
// describes the code, and would hide a future difference of the same shape.
func (d *differ) checkKnownDifferencesOccur(t *testing.T) {
	t.Helper()
	for _, kd := range d.known {
		if len(kd.seen) == 0 {
			t.Errorf("the known difference %q allowed no difference: remove it from knownDifferences (%s)", kd.name, kd.why)
		}
	}
}

// scanSays and operatorSays are whether every result of a side is one of r (false for no
// result at all), among all its results for the key (not only its findings).
func scanSays(d *difference, r ...v1alpha1.CheckResult) bool     { return allIn(d.scanAll, r) }
func operatorSays(d *difference, r ...v1alpha1.CheckResult) bool { return allIn(d.operatorAll, r) }

func allIn(os []outcome, r []v1alpha1.CheckResult) bool {
	for _, o := range os {
		if !slices.Contains(r, o.Result) {
			return false
		}
	}
	return len(os) > 0
}

// apiServerOwn are the objects the API server makes itself in every cluster: no manifest holds
// them. (envtest runs no controller-manager, so there are no default ServiceAccounts, no Pods of
// Deployments and no ReplicaSets: those objects are in neither side.)
var apiServerOwn = map[resource]bool{
	{"Namespace", "", "default"}:         true,
	{"Service", "default", "kubernetes"}: true,
}

// knownDifferences are the differences between scan and the operator that the test allows,
// each with the reason. A difference that none of them describes fails the test.
func knownDifferences(inputs inputSet) []*knownDifference {
	return []*knownDifference{
		{
			name: "objects only the cluster has",
			why: "(inherent) scan sees only the files it is given; the API server makes the default " +
				"namespace and the kubernetes Service itself, and the operator judges them",
			matches: func(d *difference) bool {
				return !d.inInputs && apiServerOwn[d.resource] && len(d.scanAll) == 0
			},
		},
		{
			name: "a manifest without a namespace",
			why: "(inherent) a manifest that names no namespace lands wherever kubectl apply -n puts it, " +
				"so scan leaves the checks about the namespace itself NotAssessed (engine.Object." +
				"NamespaceDefaulted); in the cluster the object is in a namespace, and the operator judges it",
			matches: func(d *difference) bool {
				in := inputs[d.resource]
				return in != nil && in.obj.NamespaceDefaulted && scanSays(d, v1alpha1.ResultNotAssessed)
			},
		},
		{
			name: "a ServiceAccount that is not in the files",
			why: "(inherent) sa-missing fails a workload whose ServiceAccount does not exist; scan cannot " +
				"tell a ServiceAccount made elsewhere from a missing one, so it says NotAssessed",
			matches: func(d *difference) bool {
				return d.Check == "sa-missing" && scanSays(d, v1alpha1.ResultNotAssessed)
			},
		},
		{
			name: "API versions are a manifest's",
			why: "(inherent, by design) chg-deprecated-apis judges the apiVersion written in a manifest " +
				"(ManifestOnly); the API server converts stored objects to whatever version a client asks " +
				"for, so in the cluster the check is NotApplicable, which PolicyReports leave out",
			matches: func(d *difference) bool {
				return d.Check == "chg-deprecated-apis" && len(d.operatorAll) == 0
			},
		},
		{
			name: "a PriorityClass in the files",
			why: "(inherent, by design) only cluster administrators create PriorityClasses, so a class " +
				"in the scanned files need not be the cluster's, and avl-priority-class passes no " +
				"workload on it in a scan (NotAssessed); the operator reads the cluster's class",
			matches: func(d *difference) bool {
				return d.Check == "avl-priority-class" && scanSays(d, v1alpha1.ResultNotAssessed) &&
					operatorSays(d, v1alpha1.ResultPass) && slices.ContainsFunc(d.scanAll, func(o outcome) bool {
					return strings.Contains(o.Message, "in the scanned input need not be the cluster's")
				})
			},
		},
		{
			name: "a Pod stored without the ServiceAccount admission plugin",
			why: "(of the test's API server) envtest runs kube-apiserver without the ServiceAccount " +
				"admission plugin (controller-runtime's --disable-admission-plugins=ServiceAccount: no " +
				"controller-manager makes the ServiceAccounts it requires), so a Pod is stored without the " +
				"token volume the plugin mounts, and sa-token-automount passes a stored Pod with nothing at " +
				"the token path (it holds no token); scan judges the manifest, which a real API server " +
				"would give the token",
			matches: func(d *difference) bool {
				return d.Check == "sa-token-automount" && d.resource.Kind == "Pod" &&
					scanSays(d, v1alpha1.ResultFail) && operatorSays(d, v1alpha1.ResultPass)
			},
		},
	}
}

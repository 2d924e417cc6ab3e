package scan

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// skippedNamespaces counts what a profile's namespace selection left out of a scan.
type skippedNamespaces struct {
	objects    int
	namespaces map[string]int
}

// names are up to n of the namespaces left out, with how many objects each held, then how
// many more there are.
func (s skippedNamespaces) names(n int) []string {
	names := make([]string, 0, len(s.namespaces))
	for ns := range s.namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	var out []string
	for i, ns := range names {
		if i == n {
			out = append(out, fmt.Sprintf("and %d more", len(names)-n))
			break
		}
		out = append(out, fmt.Sprintf("%s: %d", ns, s.namespaces[ns]))
	}
	return out
}

// selectNamespaces keeps what the operator would assess under the profile: namespaced objects
// (and Namespace objects) only in namespaces that the profile's namespaceSelector selects and
// that are neither in excludedNamespaces nor, unless includeSystemNamespaces, a system
// namespace; cluster-scoped objects always. The decision is selection.Selects, the operator's
// own.
//
// A scan sees only the files it is given, so a namespace's labels are those of its Namespace
// object in the input. A namespace with no Namespace object in the input is taken to carry only
// kubernetes.io/metadata.name=<name>, the label the API server sets on every namespace: a
// selector on other labels then leaves it out, as it would leave out a namespace created
// without labels. Add the Namespace manifests to the input to scan as the cluster would.
func selectNamespaces(objs []*engine.Object, profile *v1alpha1.ComplianceProfile) ([]*engine.Object, skippedNamespaces) {
	skipped := skippedNamespaces{namespaces: map[string]int{}}
	if profile == nil {
		return objs, skipped
	}
	sel, problem := selection.NamespaceSelector(profile)
	if problem != nil {
		// engine.Compile reports the invalid selector as a profile problem (exit 2); evaluate
		// everything rather than nothing so that the output still shows what was read.
		return objs, skipped
	}
	declared := map[string]*corev1.Namespace{}
	for _, o := range objs {
		if ns, ok := o.Obj.(*corev1.Namespace); ok && o.Namespace == "" {
			declared[ns.Name] = ns
		}
	}
	decided := map[string]bool{}
	selected := func(name string) bool {
		if v, ok := decided[name]; ok {
			return v
		}
		ns := declared[name]
		if ns == nil {
			ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
		}
		v := selection.Selects(profile, sel, ns)
		decided[name] = v
		return v
	}
	kept := objs[:0:0]
	for _, o := range objs {
		ns := o.Namespace
		if _, isNS := o.Obj.(*corev1.Namespace); isNS && ns == "" {
			ns = o.Name // a Namespace object belongs to its namespace's evaluation
		}
		if ns != "" && !selected(ns) {
			skipped.objects++
			skipped.namespaces[ns]++
			continue
		}
		kept = append(kept, o)
	}
	return kept, skipped
}

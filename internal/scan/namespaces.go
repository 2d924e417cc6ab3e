package scan

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// skippedNamespaces counts what a profile's namespace selection left out of a scan, and how
// many namespaced objects it kept (assessed).
type skippedNamespaces struct {
	objects    int
	namespaces map[string]int
	assessed   int
}

// names are up to n of the namespaces left out, with how many objects each held, then how
// many more there are.
func (s skippedNamespaces) names(n int) []string {
	return s.upTo(n, func(ns string) string { return fmt.Sprintf("%s: %d", ns, s.namespaces[ns]) })
}

// none says whether the selection left out every namespaced object of the input, and there
// were some: the operator's NoNamespacesSelected.
func (s skippedNamespaces) none() bool { return s.objects > 0 && s.assessed == 0 }

// list is up to n of the namespaces left out, by name, then how many more there are.
func (s skippedNamespaces) list(n int) string {
	return strings.Join(s.upTo(n, func(ns string) string { return ns }), ", ")
}

// upTo is up to n of the namespaces left out in order, each as show writes it, then how many
// more there are.
func (s skippedNamespaces) upTo(n int, show func(ns string) string) []string {
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
		out = append(out, show(ns))
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
// object in the input (the last, if there are several). Of a namespace with no Namespace object
// in the input only kubernetes.io/metadata.name=<name> is known, the label the API server sets
// on every namespace: its workloads can be applied only into a namespace that exists, with
// whatever labels its administrators gave it, so it is assessed unless its name leaves it out
// (excludedNamespaces, a system namespace, or a requirement of the selector on that label;
// undeclared). Until December 2026 it was taken to carry that label alone, so a selector on
// other labels left it out, and a repository that left its Namespace manifest out had its
// workloads there unjudged. Add the Namespace manifests to the input to scan as the cluster
// would.
func selectNamespaces(objs []*engine.Object, profile *v1alpha1.ComplianceProfile) ([]*engine.Object, skippedNamespaces) {
	if profile == nil {
		return objs, skippedNamespaces{}
	}
	f := newNamespaceFilter(profile)
	for _, o := range objs {
		if ns, ok := namespaceObject(o); ok {
			f.declare(ns)
		}
	}
	kept := objs[:0:0]
	for _, o := range objs {
		if f.keep(o) {
			kept = append(kept, o)
		}
	}
	return kept, f.skipped
}

// namespaceFilter is selectNamespaces object by object, for a scan that judges objects as it
// reads them: a namespace is decided by the first of its objects read, as having only the
// metadata.name label when its Namespace object has not been read yet. Contradicted is set
// when a Namespace object read later decides its namespace otherwise (or a second Namespace
// object of the same name does): the input must then be selected whole (selectNamespaces).
type namespaceFilter struct {
	profile *v1alpha1.ComplianceProfile
	// sel is the profile's namespace selector; nil when it is invalid, which the plan reports
	// as a profile problem: every object is then kept, so that the output still shows them.
	sel          labels.Selector
	decided      map[string]bool
	skipped      skippedNamespaces
	contradicted bool
}

func newNamespaceFilter(profile *v1alpha1.ComplianceProfile) *namespaceFilter {
	f := &namespaceFilter{profile: profile, decided: map[string]bool{}, skipped: skippedNamespaces{namespaces: map[string]int{}}}
	if sel, problem := selection.NamespaceSelector(profile); problem == nil {
		f.sel = sel
	}
	return f
}

// namespaceObject returns o as a Namespace object, if it is one.
func namespaceObject(o *engine.Object) (*corev1.Namespace, bool) {
	ns, ok := o.Obj.(*corev1.Namespace)
	return ns, ok && o.Namespace == ""
}

// declare decides a namespace by its Namespace object: its labels, with
// kubernetes.io/metadata.name set to its name, as the API server sets it on every namespace
// over whatever value the manifest gives it (k8s.io/kubernetes v1.37.2
// pkg/registry/core/namespace/strategy.go, PrepareForCreate and PrepareForUpdate).
func (f *namespaceFilter) declare(ns *corev1.Namespace) {
	if f.sel == nil {
		return
	}
	named := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Labels: make(map[string]string, len(ns.Labels)+1)}}
	for k, v := range ns.Labels {
		named.Labels[k] = v
	}
	named.Labels[corev1.LabelMetadataName] = ns.Name
	v := selection.Selects(f.profile, f.sel, named)
	if old, ok := f.decided[ns.Name]; ok && old != v {
		f.contradicted = true
	}
	f.decided[ns.Name] = v
}

// assesses reports whether the profile assesses namespace ns, by the Namespace objects declared,
// without deciding it or counting anything.
func (f *namespaceFilter) assesses(ns string) bool {
	if f.sel == nil {
		return true
	}
	if v, ok := f.decided[ns]; ok {
		return v
	}
	return f.undeclared(ns)
}

// undeclared reports whether the profile may assess namespace ns, of which no Namespace object
// has been declared: by what is known of it, its name, whatever labels it has (the cluster's,
// unknown). Of the selector's requirements only those on kubernetes.io/metadata.name, which the
// API server sets to the name, can leave it out; every other label may be there or not.
func (f *namespaceFilter) undeclared(ns string) bool {
	byName := labels.NewSelector()
	if reqs, selectable := f.sel.Requirements(); selectable {
		for _, r := range reqs {
			if r.Key() == corev1.LabelMetadataName {
				byName = byName.Add(r)
			}
		}
	} else {
		byName = labels.Nothing()
	}
	return selection.Selects(f.profile, byName, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{corev1.LabelMetadataName: ns}}})
}

// keep reports whether the profile assesses o's namespace (a Namespace object belongs to its
// own), deciding a namespace no Namespace object has decided, and counts o if not.
func (f *namespaceFilter) keep(o *engine.Object) bool {
	if f.sel == nil {
		return true
	}
	ns := o.Namespace
	if _, isNS := namespaceObject(o); isNS {
		ns = o.Name // a Namespace object belongs to its namespace's evaluation
	}
	if ns == "" {
		return true
	}
	v, ok := f.decided[ns]
	if !ok {
		v = f.undeclared(ns)
		f.decided[ns] = v
	}
	if !v {
		f.skipped.objects++
		f.skipped.namespaces[ns]++
	} else {
		f.skipped.assessed++
	}
	return v
}

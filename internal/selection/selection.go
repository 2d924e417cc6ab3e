// Package selection decides which namespaces a ComplianceProfile assesses: its namespace
// selector, its exclusions and the system namespaces. The operator (controllers, webhook) and
// scan decide it with the same code; it imports no Kubernetes client, so that scan does not.
package selection

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// SystemNamespaces are assessed only when a profile sets includeSystemNamespaces.
var SystemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// NamespaceSelector parses a profile's namespace selector; absent or empty selects every
// namespace. A selector that does not parse is a problem of the profile.
func NamespaceSelector(profile *v1alpha1.ComplianceProfile) (labels.Selector, *engine.Problem) {
	if profile.Spec.NamespaceSelector == nil {
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(profile.Spec.NamespaceSelector)
	if err != nil {
		return nil, &engine.Problem{Reason: v1alpha1.ReasonInvalidSelector, Field: "spec.namespaceSelector",
			Message: "spec.namespaceSelector: " + err.Error()}
	}
	return sel, nil
}

// Selects reports whether the profile assesses the namespace: not excluded, not a system
// namespace (unless included), and matching the selector. A namespace being deleted
// (Terminating) is assessed while it exists: what is in it keeps running and granting until each
// object is gone, and a finalizer on any of them (its writers may add one) holds the namespace
// Terminating for as long as it stays. Its pods run out their own grace period, its RoleBindings
// still grant, and its objects may still be updated: the NamespaceLifecycle admission plugin
// refuses only creates in it, and Pod Security admission keeps enforcing there
// (k8s.io/apiserver v0.37.2 pkg/admission/plugin/namespace/lifecycle).
func Selects(profile *v1alpha1.ComplianceProfile, sel labels.Selector, ns *corev1.Namespace) bool {
	return Decide(profile, sel, ns) == Selected
}

// Decision is whether a profile assesses a namespace, and if not, which part of its spec leaves
// the namespace out, in the order Decide applies them.
type Decision int

const (
	Selected   Decision = iota
	Excluded            // spec.excludedNamespaces lists it
	System              // a system namespace, without spec.includeSystemNamespaces
	Unselected          // spec.namespaceSelector does not match its labels
)

// Decide is Selects, saying which part of the profile's spec leaves the namespace out.
func Decide(profile *v1alpha1.ComplianceProfile, sel labels.Selector, ns *corev1.Namespace) Decision {
	for _, ex := range profile.Spec.ExcludedNamespaces {
		if ex == ns.Name {
			return Excluded
		}
	}
	if SystemNamespaces[ns.Name] && !profile.Spec.IncludeSystemNamespaces {
		return System
	}
	if !sel.Matches(labels.Set(ns.Labels)) {
		return Unselected
	}
	return Selected
}

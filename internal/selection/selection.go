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

// Selects reports whether the profile assesses the namespace: not being deleted, not excluded,
// not a system namespace (unless included), and matching the selector.
func Selects(profile *v1alpha1.ComplianceProfile, sel labels.Selector, ns *corev1.Namespace) bool {
	if !ns.DeletionTimestamp.IsZero() {
		return false
	}
	for _, ex := range profile.Spec.ExcludedNamespaces {
		if ex == ns.Name {
			return false
		}
	}
	if SystemNamespaces[ns.Name] && !profile.Spec.IncludeSystemNamespaces {
		return false
	}
	return sel.Matches(labels.Set(ns.Labels))
}

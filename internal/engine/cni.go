package engine

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
)

// The pod selectors of Cilium's CiliumNetworkPolicy (cilium.io/v2) and Calico's NetworkPolicy
// (projectcalico.org/v3, crd.projectcalico.org/v1), which net-pod-policy-coverage and
// net-namespace-default-deny read beside Kubernetes' NetworkPolicies (checks/helpers-cni.go):
// provenance compares a pod's labels by what they select (compareSelection), and the checks read
// the pods the policies select, with the same reading of their selectors.

// CiliumGroup is the API group of Cilium's CiliumNetworkPolicy.
const CiliumGroup = "cilium.io"

// CalicoGroups are the API groups of Calico's NetworkPolicy: projectcalico.org (served by
// Calico's API server) and crd.projectcalico.org (the CRDs it is stored in, which calicoctl
// writes to where the API server is not installed).
var CalicoGroups = []string{"projectcalico.org", "crd.projectcalico.org"}

// CNISpecialKey reports whether a key is one of the label keys of a CNI policy's pod selector that stand for something
// other than the pod's labels (its namespace, its namespace's labels, its ServiceAccount), as
// Cilium and Calico add them to every endpoint (Calico copies the namespace's labels with the
// prefix pcns. and the ServiceAccount's with pcsa.): the checks do not resolve them, and a
// requirement on one may or may not select a pod.
func CNISpecialKey(key string) bool {
	return strings.HasPrefix(key, "io.kubernetes.pod.") || strings.HasPrefix(key, "io.cilium.") ||
		strings.HasPrefix(key, "projectcalico.org/") || strings.HasPrefix(key, "reserved:") ||
		strings.HasPrefix(key, CalicoNamespaceLabelPrefix) || strings.HasPrefix(key, "pcsa.")
}

// CalicoNamespaceLabelPrefix prefixes the labels of a pod's namespace that Calico copies onto
// the pod's endpoint, which its selectors may name.
const CalicoNamespaceLabelPrefix = "pcns."

// CalicoGlobalNetworkPolicyKind is Calico's cluster-scoped network policy, in CalicoGroups.
const CalicoGlobalNetworkPolicyKind = "GlobalNetworkPolicy"

// CiliumLabels is a Cilium endpoint selector with the k8s: and any: source prefixes of its
// keys dropped (they match the pod's Kubernetes labels).
func CiliumLabels(sel *metav1.LabelSelector) *metav1.LabelSelector {
	strip := func(k string) string {
		for _, prefix := range []string{"k8s:", "any:"} {
			if after, ok := strings.CutPrefix(k, prefix); ok {
				return after
			}
		}
		return k
	}
	out := &metav1.LabelSelector{}
	if sel.MatchLabels != nil {
		out.MatchLabels = map[string]string{}
		for k, v := range sel.MatchLabels {
			out.MatchLabels[strip(k)] = v
		}
	}
	for _, e := range sel.MatchExpressions {
		e.Key = strip(e.Key)
		out.MatchExpressions = append(out.MatchExpressions, e)
	}
	return out
}

// CalicoSelector parses the part of Calico's selector language that selects pods by their
// labels alone: all() or nothing (every pod), and terms joined by &&: k == 'v', k != 'v',
// has(k), !has(k), k in {'a', 'b'}, k not in {...}. It returns nil for anything else (||,
// parentheses, string matches, the labels Calico adds), which may select any pod.
func CalicoSelector(s string) labels.Selector {
	sel := CalicoExpression(s)
	if sel == nil {
		return nil
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if CNISpecialKey(r.Key()) {
			return nil
		}
	}
	return sel
}

// CalicoExpression is CalicoSelector with the labels Calico adds to every endpoint kept as
// requirements (a GlobalNetworkPolicy selects pods by their namespace that way): nil for the rest
// of the language.
func CalicoExpression(s string) labels.Selector {
	s = strings.TrimSpace(s)
	if s == "" || s == "all()" {
		return labels.Everything()
	}
	if strings.Contains(s, "||") || strings.ContainsAny(s, "()") && !strings.Contains(s, "has(") {
		return nil
	}
	sel := labels.NewSelector()
	for _, term := range strings.Split(s, "&&") {
		r, ok := calicoTerm(strings.TrimSpace(term))
		if !ok {
			return nil
		}
		sel = sel.Add(r)
	}
	return sel
}

func calicoTerm(t string) (labels.Requirement, bool) {
	unquote := func(v string) (string, bool) {
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			return v[1 : len(v)-1], true
		}
		return "", false
	}
	req := func(key string, op selection.Operator, vals []string) (labels.Requirement, bool) {
		r, err := labels.NewRequirement(strings.TrimSpace(key), op, vals)
		if err != nil {
			return labels.Requirement{}, false
		}
		return *r, true
	}
	if inner, ok := strings.CutPrefix(t, "!has("); ok && strings.HasSuffix(inner, ")") {
		return req(strings.TrimSuffix(inner, ")"), selection.DoesNotExist, nil)
	}
	if inner, ok := strings.CutPrefix(t, "has("); ok && strings.HasSuffix(inner, ")") {
		return req(strings.TrimSuffix(inner, ")"), selection.Exists, nil)
	}
	if strings.ContainsAny(t, "()") {
		return labels.Requirement{}, false
	}
	for _, op := range []struct {
		sep string
		op  selection.Operator
	}{{"==", selection.Equals}, {"!=", selection.NotEquals}} {
		if k, v, ok := strings.Cut(t, op.sep); ok {
			val, ok := unquote(v)
			if !ok {
				return labels.Requirement{}, false
			}
			return req(k, op.op, []string{val})
		}
	}
	for _, op := range []struct {
		sep string
		op  selection.Operator
	}{{" not in ", selection.NotIn}, {" in ", selection.In}} {
		if k, set, ok := strings.Cut(t, op.sep); ok {
			set = strings.TrimSpace(set)
			if !strings.HasPrefix(set, "{") || !strings.HasSuffix(set, "}") {
				return labels.Requirement{}, false
			}
			var vals []string
			for _, v := range strings.Split(set[1:len(set)-1], ",") {
				val, ok := unquote(v)
				if !ok {
					return labels.Requirement{}, false
				}
				vals = append(vals, val)
			}
			return req(k, op.op, vals)
		}
	}
	return labels.Requirement{}, false
}

// cniPodSelectors adds, through add, the pod selectors of the namespace's Cilium and Calico
// policies that govern ingress, as the checks read them: each CiliumNetworkPolicy rule's
// endpointSelector (spec and specs) that has ingress or ingressDeny rules, and each Calico
// NetworkPolicy's selector where its types include Ingress (or are absent). Requirements on the
// keys that stand for something other than the pod's labels (CNISpecialKey) are left out: a
// label the pod carries cannot change them. A selector the checks cannot read (a Calico
// selector beyond CalicoSelector's part of the language, or one with a serviceAccountSelector)
// is left out too: the checks count it as one that may select any pod, whatever its labels.
//
// The cluster-wide policies (Cilium's CiliumClusterwideNetworkPolicy, Calico's
// GlobalNetworkPolicy) are read the same way, their requirements on the pod's namespace left out
// as the other special keys: one that selects only other namespaces' pods may then count, which
// judges a Pod itself where its controller would have done.
func cniPodSelectors(inv *Inventory, namespace string, add func(o *Object, kind string, sel labels.Selector)) {
	cilium := append(slices.Clone(inv.List(namespace, "CiliumNetworkPolicy")), inv.List("", "CiliumClusterwideNetworkPolicy")...)
	for _, o := range cilium {
		u, ok := o.Obj.(*unstructured.Unstructured)
		if !ok || apiGroupOf(o.APIVersion) != CiliumGroup {
			continue
		}
		rules := []any{u.Object["spec"]}
		if specs, ok := u.Object["specs"].([]any); ok {
			rules = append(rules, specs...)
		}
		for _, raw := range rules {
			rule, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			var r struct {
				EndpointSelector *metav1.LabelSelector `json:"endpointSelector"`
				Ingress          []any                 `json:"ingress"`
				IngressDeny      []any                 `json:"ingressDeny"`
			}
			if runtime.DefaultUnstructuredConverter.FromUnstructured(rule, &r) != nil ||
				r.EndpointSelector == nil || len(r.Ingress) == 0 && len(r.IngressDeny) == 0 {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(CiliumLabels(r.EndpointSelector))
			if err != nil {
				continue
			}
			add(o, o.Kind, podLabelRequirements(sel))
		}
	}
	for _, o := range inv.List(namespace, "NetworkPolicy") {
		if strings.HasPrefix(o.Name, "knp.default.") {
			continue
		}
		if s, ok := calicoIngressSelector(o); ok {
			if sel := CalicoSelector(s); sel != nil {
				add(o, "Calico NetworkPolicy", sel)
			}
		}
	}
	for _, o := range inv.List("", CalicoGlobalNetworkPolicyKind) {
		if s, ok := calicoIngressSelector(o); ok {
			if sel := CalicoExpression(s); sel != nil {
				add(o, "Calico GlobalNetworkPolicy", podLabelRequirements(sel))
			}
		}
	}
}

// calicoIngressSelector is the selector of o, a Calico NetworkPolicy or GlobalNetworkPolicy, when
// the policy may govern its pods' ingress: ok is false for another group's object, for one
// without a readable spec, for one whose types leave out Ingress, for one that selects by service
// account, and for one that applies to host endpoints only (doNotTrack, preDNAT: a
// GlobalNetworkPolicy's).
func calicoIngressSelector(o *Object) (string, bool) {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok || !slices.Contains(CalicoGroups, apiGroupOf(o.APIVersion)) {
		return "", false
	}
	spec, ok := u.Object["spec"].(map[string]any)
	if !ok {
		return "", false
	}
	var s struct {
		Selector               string   `json:"selector"`
		ServiceAccountSelector string   `json:"serviceAccountSelector"`
		Types                  []string `json:"types"`
		DoNotTrack             bool     `json:"doNotTrack"`
		PreDNAT                bool     `json:"preDNAT"`
	}
	if runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &s) != nil || s.DoNotTrack || s.PreDNAT ||
		len(s.Types) > 0 && !slices.Contains(s.Types, "Ingress") || strings.TrimSpace(s.ServiceAccountSelector) != "" {
		return "", false
	}
	return s.Selector, true
}

// podLabelRequirements is sel without its requirements on keys that stand for something other
// than a pod's labels (CNISpecialKey).
func podLabelRequirements(sel labels.Selector) labels.Selector {
	reqs, _ := sel.Requirements()
	if !slices.ContainsFunc(reqs, func(r labels.Requirement) bool { return CNISpecialKey(r.Key()) }) {
		return sel
	}
	out := labels.NewSelector()
	for _, r := range reqs {
		if !CNISpecialKey(r.Key()) {
			out = out.Add(r)
		}
	}
	return out
}

// apiGroupOf is the API group of an apiVersion ("" for the core group or one that does not parse).
func apiGroupOf(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

// adminPodSelectors adds, through add, the pod selectors of the Network Policy API's
// AdminNetworkPolicies and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and
// ClusterNetworkPolicies (v1alpha2 and v1beta1, which replace both), all cluster-scoped, whose
// subject is pods of namespace, where they govern ingress, as net-pod-policy-coverage and
// net-namespace-default-deny read them (checks/helpers-anp.go): a label on a running Pod can
// bring it under an admin's Allow, or out of the baseline's Deny, which its template does not
// show. A subject of namespaces selects every pod of them, whatever their labels, and is left
// out; so is a subject whose namespaceSelector does not select namespace, when its Namespace is
// in view (out of view, it may).
func adminPodSelectors(inv *Inventory, namespace string, add func(o *Object, kind string, sel labels.Selector)) {
	var nsLabels labels.Set
	if ns := inv.Get("Namespace", "", namespace); ns != nil {
		nsLabels = labels.Set{}
		for k, v := range ns.Labels() {
			nsLabels[k] = v
		}
		nsLabels[corev1.LabelMetadataName] = namespace
	}
	for _, kind := range []string{AdminNetworkPolicyKind, BaselineAdminNetworkPolicyKind, ClusterNetworkPolicyKind} {
		for _, o := range inv.List("", kind) {
			u, ok := o.Obj.(*unstructured.Unstructured)
			if !ok || !IsAdminNetworkPolicy(o) && !IsClusterNetworkPolicy(o) {
				continue
			}
			var s struct {
				Subject struct {
					Pods map[string]any `json:"pods"`
				} `json:"subject"`
				Ingress []any `json:"ingress"`
			}
			spec, ok := u.Object["spec"].(map[string]any)
			if !ok || runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &s) != nil || len(s.Ingress) == 0 || s.Subject.Pods == nil {
				continue
			}
			nsSel, podSel, ok := AdminNamespacedPods(s.Subject.Pods, kind == ClusterNetworkPolicyKind)
			if !ok {
				continue
			}
			if nsLabels != nil {
				if sel, err := metav1.LabelSelectorAsSelector(nsSel); err != nil || !sel.Matches(nsLabels) {
					continue
				}
			}
			if sel, err := metav1.LabelSelectorAsSelector(podSel); err == nil {
				add(o, kind, sel)
			}
		}
	}
}

// The Network Policy API's group and its cluster-wide kinds.
const (
	AdminNetworkPolicyGroup        = "policy.networking.k8s.io"
	AdminNetworkPolicyKind         = "AdminNetworkPolicy"
	BaselineAdminNetworkPolicyKind = "BaselineAdminNetworkPolicy"
	// ClusterNetworkPolicyKind replaces both from the Network Policy API's v0.2.0
	// (v1alpha2; v1beta1 from v0.3.0, the same schema), its tier Admin or Baseline.
	ClusterNetworkPolicyKind = "ClusterNetworkPolicy"
)

// IsAdminNetworkPolicy reports whether o is an AdminNetworkPolicy of the Network Policy API's
// group, or its BaselineAdminNetworkPolicy, which the API server admits only named default:
// not another group's kind of the same name.
func IsAdminNetworkPolicy(o *Object) bool {
	if apiGroupOf(o.APIVersion) != AdminNetworkPolicyGroup {
		return false
	}
	return o.Kind == AdminNetworkPolicyKind || o.Kind == BaselineAdminNetworkPolicyKind && o.Name == "default"
}

// IsClusterNetworkPolicy reports whether o is a ClusterNetworkPolicy of the Network Policy API's
// group, not another group's kind of the same name.
func IsClusterNetworkPolicy(o *Object) bool {
	return apiGroupOf(o.APIVersion) == AdminNetworkPolicyGroup && o.Kind == ClusterNetworkPolicyKind
}

// AdminNamespacedPods reads the pods form of an admin network policy's subject or peer
// ({namespaceSelector, podSelector}): ok is false when either is missing, but a
// ClusterNetworkPolicy's (nsOptional) may leave the namespaceSelector out, which selects every
// namespace as an empty one does (v1alpha2.NamespacedPod: only podSelector is required; an
// AdminNetworkPolicy's CRD requires both).
func AdminNamespacedPods(raw map[string]any, nsOptional bool) (ns, pod *metav1.LabelSelector, ok bool) {
	var np struct {
		NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector"`
		PodSelector       *metav1.LabelSelector `json:"podSelector"`
	}
	if runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &np) != nil || np.PodSelector == nil {
		return nil, nil, false
	}
	if np.NamespaceSelector == nil {
		if !nsOptional {
			return nil, nil, false
		}
		np.NamespaceSelector = &metav1.LabelSelector{}
	}
	return np.NamespaceSelector, np.PodSelector, true
}

package checks

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Network policies of a CNI's own API, beside Kubernetes' NetworkPolicies: Cilium's
// CiliumNetworkPolicy (cilium.io/v2, namespaced) and Calico's NetworkPolicy (projectcalico.org/v3,
// or crd.projectcalico.org/v1 where Calico's API server is not installed; namespaced). Both add to
// what Kubernetes' NetworkPolicies allow: Cilium admits what any allow policy selecting the pod
// admits (only its deny policies take precedence), and Calico acts on the first Allow or Deny
// rule, in order (a Kubernetes NetworkPolicy is an order 1000 policy of Calico's default tier,
// whose rules come after those of every policy ordered before it, and a policy without an order
// comes last), so that an Allow from everything, wherever it stands in the order, admits what no
// earlier Deny or Pass stops. The checks do not reduce these languages to NetworkPolicy
// semantics: a policy that selects a pod and allows ingress leaves the judgement NotAssessed,
// unless it plainly admits every source on every port (cniPolicy.open).

const (
	ciliumPolicyKind = "CiliumNetworkPolicy"
	ciliumGroup      = engine.CiliumGroup
)

// calicoGroups are the API groups of Calico's NetworkPolicy (engine.CalicoGroups);
// calicoAPIServerGroup is the one Calico's own API server serves (the other is its CRDs').
var calicoGroups = engine.CalicoGroups

const calicoAPIServerGroup = "projectcalico.org"

// The readings of the policies' pod selectors, which provenance shares (engine/cni.go):
// cniSpecialKey says whether a key stands for something other than the pod's labels,
// ciliumLabels drops the k8s: and any: prefixes of a Cilium endpoint selector's keys, and
// calicoSelector reads the part of Calico's selector language that selects pods by their labels
// alone (nil for the rest, which may select any pod).
var (
	cniSpecialKey  = engine.CNISpecialKey
	ciliumLabels   = engine.CiliumLabels
	calicoSelector = engine.CalicoSelector
)

// cniPolicy is one CNI policy of a namespace, as far as the checks judge it.
type cniPolicy struct {
	obj *engine.Object
	// kind names the policy's kind in messages: CiliumNetworkPolicy, or Calico NetworkPolicy.
	kind string
	// selectors are the pod selectors of the policy (a CiliumNetworkPolicy's specs may have
	// several); a nil selector is one the checks cannot read, which may select any pod.
	selectors []labels.Selector
	// allows is true when the policy has an ingress rule that allows traffic.
	allows bool
	// open says, when the policy admits every source on every port, how; "" otherwise.
	open string
	// blocks is true when the policy has ingress rules that take precedence over allows
	// (Cilium's ingressDeny; Calico's Deny and Pass) or, for Calico, sits in a tier of its own
	// (evaluated before the default tier): an allow from everything may then not stand.
	blocks bool
	// denies is true for a Calico policy of the default tier that governs ingress and has no
	// Allow or Pass rule: Calico drops, at the end of the tier, what no policy of the tier
	// allowed the pods it selects, as a NetworkPolicy default deny does; and for a Cilium policy
	// whose rules put the pods they select in default deny at ingress and allow nothing.
	denies bool
	// global is true for a Calico GlobalNetworkPolicy, read for one namespace: scope says
	// whether it applies to the namespace's pods (its namespaceSelector, and the requirements
	// of its selector on the namespace Calico gives every endpoint).
	global bool
	scope  podSelection
	// contested is set, in a scan, on a Calico policy whose name is written in both Calico
	// groups with different specs (calicoContested): it says so in messages, and heldDenies is
	// what denies would be were the copy surely the cluster's.
	contested, heldDenies bool
}

// name is how messages name the policy.
func (p cniPolicy) name() string {
	if p.contested {
		return fmt.Sprintf("%s %q (%s, written in both projectcalico.org/v3 and crd.projectcalico.org/v1 with different specs: "+
			"the cluster may hold either copy, or both)", p.kind, p.obj.Name, p.obj.APIVersion)
	}
	return fmt.Sprintf("%s %q", p.kind, p.obj.Name)
}

// calicoContested returns, in a scan, the copies of the Calico policies of a kind and namespace
// ("" for GlobalNetworkPolicies) written in both Calico groups, projectcalico.org/v3 and
// crd.projectcalico.org/v1, under one name with different specs; nil in the operator's view,
// which reads the cluster's objects. The inventory keeps both copies (their groups differ), and
// which the cluster holds turns on Calico's version and install: where Calico's API server
// stores a projectcalico.org/v3 policy in the crd.projectcalico.org/v1 CRD of the same name (3.32
// on), they are one object and the later write stays; before 3.32 it stored a default-tier policy
// as default.<name> (calicoctl datastore migrate-policy-names), so that a v1 copy named
// default.<name> was that object and one named <name> stood beside it; with native
// projectcalico.org/v3 CRDs the v1 group is no longer Calico's. Each copy may be the cluster's:
// what either admits counts, and neither protects the pods (markContested). Copies written alike
// are one reading whichever stays.
func calicoContested(inv *engine.Inventory, namespace, kind string) map[*engine.Object]bool {
	if inv.Complete {
		return nil
	}
	type copies struct{ v3, v1 []*engine.Object }
	byName := map[string]*copies{}
	at := func(name string) *copies {
		if byName[name] == nil {
			byName[name] = &copies{}
		}
		return byName[name]
	}
	for _, o := range inv.List(namespace, kind) {
		group := apiGroup(o.APIVersion)
		if !slices.Contains(calicoGroups, group) {
			continue
		}
		if o = acceptedCustomResource(inv, o, namespace != ""); o == nil {
			continue
		}
		if _, isU := o.Obj.(*unstructured.Unstructured); !isU {
			continue
		}
		if group == calicoAPIServerGroup {
			at(o.Name).v3 = append(at(o.Name).v3, o)
			continue
		}
		at(o.Name).v1 = append(at(o.Name).v1, o)
		if name, ok := strings.CutPrefix(o.Name, "default."); ok {
			at(name).v1 = append(at(name).v1, o)
		}
	}
	var out map[*engine.Object]bool
	for _, c := range byName {
		for _, a := range c.v3 {
			for _, b := range c.v1 {
				if equality.Semantic.DeepEqual(a.Obj.(*unstructured.Unstructured).Object["spec"], b.Obj.(*unstructured.Unstructured).Object["spec"]) {
					continue
				}
				if out == nil {
					out = map[*engine.Object]bool{}
				}
				out[a], out[b] = true, true
			}
		}
	}
	return out
}

// markContested makes p, a copy of a contested Calico policy (calicoContested), count for what
// it may admit and not for what it may deny: its allows count as any policy's (an allow from
// everywhere still fails the pods it selects), but it is never a default deny (cniPolicy.denies),
// and its Deny and Pass rules stop no other policy's allow (cniPolicy.blocks). Until December 2026 a
// crd.projectcalico.org/v1 default deny beside an egress-only projectcalico.org/v3 copy of the
// same name passed every pod of the namespace, though a cluster with Calico's API server (3.32
// on) holds the egress-only copy alone.
func markContested(p *cniPolicy) {
	p.contested, p.heldDenies = true, p.denies
	p.blocks, p.denies = false, false
}

// cniPoliciesIn lists the CNI policies of a namespace, once per evaluation.
func cniPoliciesIn(inv *engine.Inventory, namespace string) []cniPolicy {
	return inv.Memo(nil, "network.cniPoliciesIn "+namespace, func() any {
		var out []cniPolicy
		for _, o := range inv.List(namespace, ciliumPolicyKind) {
			if o = acceptedCustomResource(inv, o, true); o == nil || apiGroup(o.APIVersion) != ciliumGroup {
				continue
			}
			if p, ok := ciliumPolicy(o); ok {
				out = append(out, p)
			}
		}
		contested := calicoContested(inv, namespace, "NetworkPolicy")
		for _, o := range inv.List(namespace, "NetworkPolicy") {
			if !slices.Contains(calicoGroups, apiGroup(o.APIVersion)) {
				continue
			}
			if o = acceptedCustomResource(inv, o, true); o == nil {
				continue
			}
			// calicoctl shows each Kubernetes NetworkPolicy as a Calico one named
			// knp.default.<name>: it is judged as the Kubernetes policy it is.
			if strings.HasPrefix(o.Name, "knp.default.") {
				continue
			}
			if p, ok := calicoPolicy(o); ok {
				if contested[o] {
					markContested(&p)
				}
				out = append(out, p)
			}
		}
		for _, g := range ciliumClusterwides(inv) {
			if p, ok := ciliumClusterwideIn(inv, g, namespace); ok {
				out = append(out, p)
			}
		}
		for _, g := range calicoGlobals(inv) {
			if p, ok := g.in(inv, namespace); ok {
				out = append(out, p)
			}
		}
		return out
	}).([]cniPolicy)
}

// ciliumClusterwideKind is Cilium's cluster-scoped network policy (cilium.io/v2).
const ciliumClusterwideKind = "CiliumClusterwideNetworkPolicy"

// ciliumClusterwides lists the CiliumClusterwideNetworkPolicies whose rules select pods
// (endpointSelector) and govern their ingress, once per evaluation.
func ciliumClusterwides(inv *engine.Inventory) []cniPolicy {
	return inv.Memo(nil, "network.ciliumClusterwides", func() any {
		var out []cniPolicy
		for _, o := range inv.List("", ciliumClusterwideKind) {
			if o = acceptedCustomResource(inv, o, false); o == nil || apiGroup(o.APIVersion) != ciliumGroup {
				continue
			}
			if p, ok := ciliumRules(o, ciliumClusterwideKind, true); ok {
				out = append(out, p)
			}
		}
		return out
	}).([]cniPolicy)
}

// ciliumNamespaceLabelPrefix prefixes the labels of a pod's namespace that Cilium gives its
// endpoint; io.kubernetes.pod.namespace is the namespace's name.
const ciliumNamespaceLabelPrefix = "io.cilium.k8s.namespace.labels."

// ciliumClusterwideIn is a CiliumClusterwideNetworkPolicy as it applies to the pods of a
// namespace: each rule's endpointSelector is judged on the namespace by its requirements on
// io.kubernetes.pod.namespace and the namespace's labels, and keeps its requirements on the pods'
// labels; a rule whose requirements on the namespace may hold keeps them all (the checks then count
// them as maybe). ok is false when no rule applies to the namespace's pods.
func ciliumClusterwideIn(inv *engine.Inventory, p cniPolicy, namespace string) (cniPolicy, bool) {
	nsLabels, nsUnknown := namespaceLabels(inv, namespace)
	set := labels.Set{"io.kubernetes.pod.namespace": namespace}
	for k, v := range nsLabels {
		set[ciliumNamespaceLabelPrefix+k] = v
	}
	var selectors []labels.Selector
	for _, sel := range p.selectors {
		if sel == nil {
			selectors = append(selectors, nil)
			continue
		}
		onNamespace, onPod := labels.NewSelector(), labels.NewSelector()
		unknown := map[string]bool{}
		reqs, _ := sel.Requirements()
		for _, r := range reqs {
			switch {
			case r.Key() == "io.kubernetes.pod.namespace":
				onNamespace = onNamespace.Add(r)
			case strings.HasPrefix(r.Key(), ciliumNamespaceLabelPrefix):
				onNamespace = onNamespace.Add(r)
				if nsUnknown && r.Key() != ciliumNamespaceLabelPrefix+corev1.LabelMetadataName {
					unknown[r.Key()] = true
				}
			default:
				onPod = onPod.Add(r)
			}
		}
		switch selectsPods(onNamespace, set, unknown) {
		case selectsYes:
			selectors = append(selectors, onPod)
		case selectsMaybe:
			selectors = append(selectors, sel)
		}
	}
	p.selectors = selectors
	return p, len(selectors) > 0
}

// calicoGlobal is a Calico GlobalNetworkPolicy (cluster-scoped): it selects the pods of every
// namespace its namespaceSelector selects (every namespace without one) that its selector
// selects, where the selector may name the labels Calico gives every endpoint for its namespace
// (projectcalico.org/namespace, and the namespace's labels prefixed pcns.).
type calicoGlobal struct {
	policy            cniPolicy
	namespaceSelector string
	selector          string
	serviceAccounts   bool
}

// calicoGlobals lists the Calico GlobalNetworkPolicies that govern pods' ingress, once per
// evaluation. Those with doNotTrack or preDNAT apply to host endpoints only, not to pods.
func calicoGlobals(inv *engine.Inventory) []calicoGlobal {
	return inv.Memo(nil, "network.calicoGlobals", func() any {
		var out []calicoGlobal
		contested := calicoContested(inv, "", engine.CalicoGlobalNetworkPolicyKind)
		for _, o := range inv.List("", engine.CalicoGlobalNetworkPolicyKind) {
			if !slices.Contains(calicoGroups, apiGroup(o.APIVersion)) {
				continue
			}
			if o = acceptedCustomResource(inv, o, false); o == nil {
				continue
			}
			var spec struct {
				NamespaceSelector      string `json:"namespaceSelector"`
				Selector               string `json:"selector"`
				ServiceAccountSelector string `json:"serviceAccountSelector"`
				DoNotTrack             bool   `json:"doNotTrack"`
				PreDNAT                bool   `json:"preDNAT"`
			}
			if !specOf(o, &spec) || spec.DoNotTrack || spec.PreDNAT {
				continue
			}
			p, ok := calicoPolicy(o)
			if !ok {
				continue
			}
			p.kind, p.global = "Calico GlobalNetworkPolicy", true
			if contested[o] {
				markContested(&p)
			}
			out = append(out, calicoGlobal{policy: p, namespaceSelector: spec.NamespaceSelector, selector: spec.Selector,
				serviceAccounts: strings.TrimSpace(spec.ServiceAccountSelector) != ""})
		}
		return out
	}).([]calicoGlobal)
}

// calicoNamespaceKeys are the labels Calico gives every endpoint for its namespace, beside the
// namespace's own labels prefixed pcns.
var calicoNamespaceKeys = map[string]bool{"projectcalico.org/namespace": true, "projectcalico.org/orchestrator": true}

// in is the policy as it applies to the pods of a namespace: ok is false when it surely applies
// to none of them. A selector or namespaceSelector the checks cannot read may select any pod.
func (g calicoGlobal) in(inv *engine.Inventory, namespace string) (cniPolicy, bool) {
	p := g.policy
	nsLabels, nsUnknown := namespaceLabels(inv, namespace)
	// unknownOf marks unknown, when the Namespace is out of view, the keys of sel other than
	// those named (the namespace's name).
	unknownOf := func(sel labels.Selector, named ...string) map[string]bool {
		if !nsUnknown {
			return nil
		}
		out := map[string]bool{}
		reqs, _ := sel.Requirements()
		for _, r := range reqs {
			if !slices.Contains(named, r.Key()) {
				out[r.Key()] = true
			}
		}
		return out
	}
	p.scope = selectsYes
	if ns := strings.TrimSpace(g.namespaceSelector); ns != "" && ns != "all()" {
		sel := engine.CalicoExpression(ns)
		if sel == nil {
			p.scope = selectsMaybe
		} else {
			set := labels.Merge(nsLabels, labels.Set{"projectcalico.org/name": namespace})
			p.scope = min(p.scope, selectsPods(sel, set, unknownOf(sel, "projectcalico.org/name", corev1.LabelMetadataName)))
		}
	}
	sel := engine.CalicoExpression(g.selector)
	if sel == nil || g.serviceAccounts {
		p.selectors = []labels.Selector{nil}
	} else {
		// The requirements on the namespace's labels are judged here; the rest on the pods'.
		onNamespace, onPod := labels.NewSelector(), labels.NewSelector()
		reqs, _ := sel.Requirements()
		for _, r := range reqs {
			if calicoNamespaceKeys[r.Key()] || strings.HasPrefix(r.Key(), engine.CalicoNamespaceLabelPrefix) {
				onNamespace = onNamespace.Add(r)
			} else {
				onPod = onPod.Add(r)
			}
		}
		set := labels.Set{"projectcalico.org/namespace": namespace, "projectcalico.org/orchestrator": "k8s"}
		for k, v := range nsLabels {
			set[engine.CalicoNamespaceLabelPrefix+k] = v
		}
		p.scope = min(p.scope, selectsPods(onNamespace, set, unknownOf(onNamespace, "projectcalico.org/namespace",
			"projectcalico.org/orchestrator", engine.CalicoNamespaceLabelPrefix+corev1.LabelMetadataName)))
		p.selectors = []labels.Selector{onPod}
	}
	return p, p.scope != selectsNot
}

// specOf is readSpec for an object that must have a spec: ok is false when it has none, or one
// that is no mapping, or one that does not decode into v.
func specOf(o *engine.Object, v any) bool {
	u, isU := o.Obj.(*unstructured.Unstructured)
	if !isU {
		return false
	}
	if _, isMap := u.Object["spec"].(map[string]any); !isMap {
		return false
	}
	return readSpec(o, v)
}

// The fields of a CiliumNetworkPolicy rule (cilium.io/v2 api.Rule) that decide what it admits
// at ingress.
type (
	ciliumRule struct {
		EndpointSelector *metav1.LabelSelector `json:"endpointSelector"`
		NodeSelector     *metav1.LabelSelector `json:"nodeSelector"`
		Ingress          []ciliumIngressRule   `json:"ingress"`
		IngressDeny      []json.RawMessage     `json:"ingressDeny"`
		// EnableDefaultDeny.Ingress says whether the rule puts the pods it selects in default
		// deny at ingress: unset, it does when the rule has an ingress section.
		EnableDefaultDeny struct {
			Ingress *bool `json:"ingress"`
		} `json:"enableDefaultDeny"`
	}
	ciliumIngressRule struct {
		FromEndpoints     []metav1.LabelSelector `json:"fromEndpoints"`
		FromRequires      []json.RawMessage      `json:"fromRequires"`
		FromEntities      []string               `json:"fromEntities"`
		FromCIDR          []string               `json:"fromCIDR"`
		FromCIDRSet       []ciliumCIDRRule       `json:"fromCIDRSet"`
		FromGroups        []json.RawMessage      `json:"fromGroups"`
		FromNodes         []json.RawMessage      `json:"fromNodes"`
		ToPorts           []json.RawMessage      `json:"toPorts"`
		ICMPs             []json.RawMessage      `json:"icmps"`
		Authentication    json.RawMessage        `json:"authentication"`
		FromCIDRGroupRefs []json.RawMessage      `json:"fromCIDRGroupRef"`
	}
	ciliumCIDRRule struct {
		CIDR         string          `json:"cidr"`
		Except       []string        `json:"except"`
		CIDRGroupRef string          `json:"cidrGroupRef"`
		Selector     json.RawMessage `json:"cidrGroupSelector"`
	}
)

// ciliumPolicy reads a CiliumNetworkPolicy: spec and specs are its rules, each selecting pods by
// endpointSelector (a rule with a nodeSelector instead governs the nodes' host firewall, not
// pods). A rule with an ingress section puts the pods it selects in default deny at ingress
// (unless its enableDefaultDeny.ingress is false) and admits what its rules allow; an empty
// ingress rule ({}) allows nothing. A policy whose rules all put their pods in default deny and
// allow nothing (Cilium's "Ingress Default Deny": endpointSelector {} and ingress [{}]) denies
// them all ingress (cniPolicy.denies); a rule that neither isolates, allows nor denies is none.
func ciliumPolicy(o *engine.Object) (cniPolicy, bool) {
	return ciliumRules(o, ciliumPolicyKind, false)
}

// ciliumRules reads the rules of a CiliumNetworkPolicy, or of a CiliumClusterwideNetworkPolicy
// (clusterwide), whose endpointSelectors select pods of every namespace and whose empty
// fromEndpoints selector is every endpoint of the cluster.
func ciliumRules(o *engine.Object, kind string, clusterwide bool) (cniPolicy, bool) {
	var spec struct {
		ciliumRule
		Specs []ciliumRule `json:"specs"`
	}
	u, isU := o.Obj.(*unstructured.Unstructured)
	if !isU {
		return cniPolicy{}, false
	}
	p := cniPolicy{obj: o, kind: kind}
	rules := []ciliumRule{}
	if specOf(o, &spec.ciliumRule) {
		rules = append(rules, spec.ciliumRule)
	}
	if raw, found := u.Object["specs"]; found {
		data, err := json.Marshal(raw)
		if err == nil {
			var specs []ciliumRule
			if json.Unmarshal(data, &specs) == nil {
				rules = append(rules, specs...)
			}
		}
	}
	isolates := true
	for _, r := range rules {
		if r.EndpointSelector == nil || (len(r.Ingress) == 0 && len(r.IngressDeny) == 0) {
			continue
		}
		allows, open := false, ""
		for _, in := range r.Ingress {
			if why, ok := ciliumOpen(in, clusterwide); ok {
				allows = true
				if why != "" && open == "" {
					open = why
				}
			}
		}
		isolating := r.EnableDefaultDeny.Ingress == nil || *r.EnableDefaultDeny.Ingress
		if !isolating && !allows && len(r.IngressDeny) == 0 {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(ciliumLabels(r.EndpointSelector))
		if err != nil {
			sel = nil
		}
		p.selectors = append(p.selectors, sel)
		p.blocks = p.blocks || len(r.IngressDeny) > 0
		p.allows = p.allows || allows
		if p.open == "" {
			p.open = open
		}
		isolates = isolates && isolating
	}
	p.denies = len(p.selectors) > 0 && isolates && !p.allows
	return p, len(p.selectors) > 0
}

// ciliumOpen says whether a Cilium ingress rule allows anything, and, when it admits every
// source on every port, how. A rule with ports (toPorts), ICMP types, required peers
// (fromRequires) or mutual authentication restricts what it admits.
func ciliumOpen(in ciliumIngressRule, clusterwide bool) (why string, allows bool) {
	peers := len(in.FromEndpoints) + len(in.FromEntities) + len(in.FromCIDR) + len(in.FromCIDRSet) +
		len(in.FromGroups) + len(in.FromNodes) + len(in.FromCIDRGroupRefs)
	if peers == 0 && len(in.ToPorts) == 0 && len(in.ICMPs) == 0 {
		return "", false // an empty rule allows nothing
	}
	if len(in.ToPorts) > 0 || len(in.ICMPs) > 0 || len(in.FromRequires) > 0 || len(in.Authentication) > 0 && string(in.Authentication) != "null" {
		return "", true
	}
	for _, e := range in.FromEntities {
		switch e {
		case "all":
			return "fromEntities all, every port", true
		case "world", "world-ipv4", "world-ipv6":
			return "fromEntities " + e + ", every address outside the cluster, every port", true
		case "cluster":
			// Every endpoint of the cluster, as a NetworkPolicy peer that selects every pod
			// of every namespace (namespaceSelector {}), which the checks count as open.
			return "fromEntities cluster, every pod of every namespace, every port", true
		}
	}
	for _, c := range in.FromCIDR {
		if everyCIDR(c) {
			return "fromCIDR " + c + ", every port", true
		}
	}
	for _, c := range in.FromCIDRSet {
		if c.CIDRGroupRef == "" && len(c.Selector) == 0 && len(c.Except) == 0 && everyCIDR(c.CIDR) {
			return "fromCIDRSet " + c.CIDR + ", every port", true
		}
	}
	for _, sel := range in.FromEndpoints {
		if everyEndpoint(ciliumLabels(&sel)) {
			return "fromEndpoints selecting every pod of every namespace, every port", true
		}
		if clusterwide && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
			return "fromEndpoints {} of a cluster-wide policy, every endpoint of the cluster, every port", true
		}
	}
	return "", true
}

// everyCIDR reports whether a CIDR is every IPv4 or every IPv6 address.
func everyCIDR(cidr string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	return err == nil && p.Bits() == 0
}

// everyEndpoint reports whether a Cilium peer selector selects every pod of every namespace:
// its only requirements are that the pod's namespace exists (an empty selector selects the
// pods of the policy's own namespace only).
func everyEndpoint(sel *metav1.LabelSelector) bool {
	if len(sel.MatchLabels) > 0 || len(sel.MatchExpressions) == 0 {
		return false
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != "io.kubernetes.pod.namespace" || e.Operator != metav1.LabelSelectorOpExists {
			return false
		}
	}
	return true
}

// The fields of a Calico NetworkPolicy (projectcalico.org/v3) that decide what it admits at
// ingress.
type (
	calicoSpec struct {
		Tier                   string            `json:"tier"`
		Order                  *float64          `json:"order"`
		Selector               string            `json:"selector"`
		ServiceAccountSelector string            `json:"serviceAccountSelector"`
		Types                  []string          `json:"types"`
		Ingress                []calicoRule      `json:"ingress"`
		Egress                 []json.RawMessage `json:"egress"`
	}
	calicoRule struct {
		Action      string          `json:"action"`
		Protocol    json.RawMessage `json:"protocol"`
		NotProtocol json.RawMessage `json:"notProtocol"`
		ICMP        json.RawMessage `json:"icmp"`
		NotICMP     json.RawMessage `json:"notICMP"`
		HTTP        json.RawMessage `json:"http"`
		Source      calicoEntity    `json:"source"`
		Destination calicoEntity    `json:"destination"`
	}
	calicoEntity struct {
		Nets              []string          `json:"nets"`
		NotNets           []string          `json:"notNets"`
		Selector          string            `json:"selector"`
		NotSelector       string            `json:"notSelector"`
		NamespaceSelector string            `json:"namespaceSelector"`
		Ports             []json.RawMessage `json:"ports"`
		NotPorts          []json.RawMessage `json:"notPorts"`
		ServiceAccounts   json.RawMessage   `json:"serviceAccounts"`
		Services          json.RawMessage   `json:"services"`
	}
)

// calicoPolicy reads a Calico NetworkPolicy. Its ingress rules count when its types include
// Ingress, or are absent and it has ingress rules or no egress rules (Calico then defaults them to
// Ingress, with Egress when it has egress rules, and to Egress alone when it has egress rules and
// no ingress rules).
func calicoPolicy(o *engine.Object) (cniPolicy, bool) {
	var spec calicoSpec
	if !specOf(o, &spec) {
		return cniPolicy{}, false
	}
	if len(spec.Types) > 0 && !slices.Contains(spec.Types, "Ingress") ||
		len(spec.Types) == 0 && len(spec.Ingress) == 0 && len(spec.Egress) > 0 {
		return cniPolicy{}, false
	}
	p := cniPolicy{obj: o, kind: "Calico NetworkPolicy"}
	sel := calicoSelector(spec.Selector)
	if strings.TrimSpace(spec.ServiceAccountSelector) != "" {
		sel = nil
	}
	p.selectors = []labels.Selector{sel}
	p.blocks = spec.Tier != "" && spec.Tier != "default"
	p.denies = !p.blocks
	for _, r := range spec.Ingress {
		switch r.Action {
		case "Allow":
			p.allows, p.denies = true, false
			if why := calicoOpen(r); why != "" && p.open == "" {
				p.open = why
			}
		case "Pass":
			// Pass skips the rest of the tier, the NetworkPolicies' deny with it: what the
			// next tier, or Calico's profiles after the last, does with the traffic is not
			// judged, so a Pass may admit it.
			p.allows, p.blocks, p.denies = true, true, false
		case "Deny":
			p.blocks = true
		}
	}
	return p, true
}

// calicoOpen says how a Calico Allow rule admits every source on every port, or "".
func calicoOpen(r calicoRule) string {
	raw := func(m json.RawMessage) bool { return len(m) > 0 && string(m) != "null" }
	if raw(r.NotProtocol) || raw(r.ICMP) || raw(r.NotICMP) || raw(r.HTTP) {
		return ""
	}
	if raw(r.Protocol) && strings.Trim(string(r.Protocol), `"`) != "TCP" {
		return ""
	}
	d := r.Destination
	if len(d.Nets)+len(d.NotNets)+len(d.Ports)+len(d.NotPorts) > 0 || d.Selector != "" || d.NotSelector != "" ||
		d.NamespaceSelector != "" || raw(d.ServiceAccounts) || raw(d.Services) {
		return ""
	}
	s := r.Source
	if len(s.NotNets)+len(s.Ports)+len(s.NotPorts) > 0 || s.NotSelector != "" || raw(s.ServiceAccounts) || raw(s.Services) {
		return ""
	}
	ports := "every port"
	if raw(r.Protocol) {
		ports = "every TCP port"
	}
	switch {
	case len(s.Nets) == 0 && s.Selector == "" && s.NamespaceSelector == "":
		return "an Allow rule without a source, " + ports
	case len(s.Nets) > 0 && s.Selector == "" && s.NamespaceSelector == "" && slices.ContainsFunc(s.Nets, everyCIDR):
		return "an Allow rule from nets " + strings.Join(s.Nets, ", ") + ", " + ports
	case len(s.Nets) == 0 && strings.TrimSpace(s.NamespaceSelector) == "all()" && (s.Selector == "" || strings.TrimSpace(s.Selector) == "all()"):
		return "an Allow rule from namespaceSelector all(), " + ports
	}
	return ""
}

// cniSelects is whether a CNI policy selects the pods of a workload whose labels are known and
// unknown (workloadPodLabels): the best answer of its selectors, a selector the checks cannot
// read counting as maybe, a requirement on a key that stands for something else (cniSpecialKey)
// too.
func cniSelects(p cniPolicy, known labels.Set, unknown map[string]bool) podSelection {
	out := selectsNot
	for _, sel := range p.selectors {
		s := selectsMaybe
		if sel != nil {
			s = selectsPods(sel, known, withSpecialKeys(sel, unknown))
		}
		out = max(out, s)
	}
	if p.global {
		out = min(out, p.scope)
	}
	return out
}

// withSpecialKeys adds to unknown, for a selector with requirements on keys that stand for
// something other than a pod label (cniSpecialKey), those keys, which any pod may lack.
func withSpecialKeys(sel labels.Selector, unknown map[string]bool) map[string]bool {
	reqs, _ := sel.Requirements()
	var out map[string]bool
	for _, r := range reqs {
		if !cniSpecialKey(r.Key()) {
			continue
		}
		if out == nil {
			out = make(map[string]bool, len(unknown)+1)
			for k, v := range unknown {
				out[k] = v
			}
		}
		out[r.Key()] = true
	}
	if out == nil {
		return unknown
	}
	return out
}

// cniIngress is what the CNI policies of a namespace that select a set of pods say of their
// ingress: open, a policy that admits every source on every port with no deny or earlier tier
// to stop it (the pods' ingress is as open as with no policy); undecided, those that allow
// ingress otherwise, or may select the pods, or whose allow from everything may be stopped,
// which the checks do not judge; governing, those that surely select the pods and govern their
// ingress (Cilium then puts them in default deny).
type cniIngress struct {
	open      *cniPolicy
	undecided []cniPolicy
	governing []cniPolicy
}

// judgeCNI sorts the CNI policies of a namespace by whether they select a workload's pods
// (selects tells) and what they admit.
func judgeCNI(policies []cniPolicy, selects func(cniPolicy) podSelection) cniIngress {
	var out cniIngress
	var selecting []cniPolicy
	blocked := false
	for _, p := range policies {
		s := selects(p)
		if s == selectsNot {
			continue
		}
		if p.blocks {
			blocked = true
		}
		if s == selectsYes {
			out.governing = append(out.governing, p)
		}
		if p.allows || p.blocks {
			selecting = append(selecting, p)
		}
	}
	for i, p := range selecting {
		if p.open != "" && !blocked && selects(p) == selectsYes && out.open == nil {
			out.open = &selecting[i]
			continue
		}
		if p.allows {
			out.undecided = append(out.undecided, p)
		}
	}
	return out
}

// cniNames names policies for a message, followed by verb in the singular (one policy) or
// plural.
func cniNames(ps []cniPolicy, singular, plural string) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name()
	}
	if len(ps) == 1 {
		return names[0] + " " + singular
	}
	return few(names, ", ") + " " + plural
}

// cniHow says how the CNIs of policies add to what NetworkPolicies allow, for a message.
func cniHow(ps []cniPolicy) string {
	var how []string
	isCilium := func(p cniPolicy) bool { return p.kind == ciliumPolicyKind || p.kind == ciliumClusterwideKind }
	if slices.ContainsFunc(ps, isCilium) {
		how = append(how, "Cilium admits what any allow policy selecting a pod admits")
	}
	if slices.ContainsFunc(ps, func(p cniPolicy) bool { return !isCilium(p) }) {
		how = append(how, "Calico admits what an Allow rule admits unless a Deny or Pass comes before it")
	}
	return strings.Join(how, "; ")
}

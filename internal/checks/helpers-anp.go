package checks

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The Network Policy API's cluster-wide policies (sig-network, policy.networking.k8s.io/v1alpha1):
// AdminNetworkPolicy and BaselineAdminNetworkPolicy, both cluster-scoped. The traffic to a pod
// meets, in order: the ingress rules of the AdminNetworkPolicies whose subject selects it, by
// priority (0 first; the order of two of the same priority is undefined) and, within one, in
// the order written, the first rule whose peers and ports match deciding: Allow admits the
// traffic whatever the NetworkPolicies say, Deny drops it, Pass hands it to the
// NetworkPolicies; then, for traffic no AdminNetworkPolicy rule matched or passed, the
// NetworkPolicies, when one selects the pod for ingress; and otherwise the
// BaselineAdminNetworkPolicy (only one, named default), whose first matching rule, Allow or
// Deny, decides; traffic none of them decides is admitted. Their ingress peers are pods: every
// pod of the namespaces a selector selects (namespaces), or those a pod selector selects there
// (pods). The checks read them as the network plugin that implements the API enforces them
// (they cannot see whether it does), and judge only rules they can read with certainty: a rule
// with ports, or whose peer is of another kind, leaves the verdict NotAssessed when it matters.
//
// The API's v0.2.0 replaces both with ClusterNetworkPolicy (v1alpha2; v0.3.0 serves it at
// v1beta1 too, the same schema), whose tier says where it decides: Admin as an
// AdminNetworkPolicy, Baseline as the BaselineAdminNetworkPolicy, each tier's policies by
// priority (0 to 1000, two of one priority that both match in no defined order). Its actions
// are Accept (the old Allow: final, no NetworkPolicy rule is processed), Deny and Pass, in both
// tiers: a Baseline Pass skips the rest of the Baseline tier, and Kubernetes' default, which
// admits everything, follows. Its rules match protocols (and ports) instead of ports, and a pods
// peer or subject may leave its namespaceSelector out (every namespace). No release orders an
// AdminNetworkPolicy against an Admin-tier ClusterNetworkPolicy, or the
// BaselineAdminNetworkPolicy against a Baseline-tier one: where both kinds may decide, the
// checks do not say which does.

const (
	adminPolicyKind    = engine.AdminNetworkPolicyKind
	baselinePolicyKind = engine.BaselineAdminNetworkPolicyKind
	clusterPolicyKind  = engine.ClusterNetworkPolicyKind
)

// The tiers of a ClusterNetworkPolicy (v1alpha2.Tier).
const (
	adminTier    = "Admin"
	baselineTier = "Baseline"
)

// adminUndecided says why the admin policies named before it leave a network check NotAssessed
// (adminIngress.undecided).
const adminUndecided = "(an Allow on some ports, or of a policy that may select the pods, among Allows that together admit every pod of every namespace; two policies of one tier and priority, or an AdminNetworkPolicy beside an Admin-tier ClusterNetworkPolicy, whose order is undefined; a Deny or Pass before an Allow from every pod; Pass rules that may match every pod, on some ports or with the rules before them, before a Deny from every pod; or a rule this check does not read), which this check does not judge beyond an allow from every pod of every namespace"

// adminPolicy is one AdminNetworkPolicy or the BaselineAdminNetworkPolicy, as far as the checks
// read its ingress.
type adminPolicy struct {
	obj  *engine.Object
	kind string
	// tier is a ClusterNetworkPolicy's tier; "" for the older kinds.
	tier     string
	priority int32
	// refused is true for a policy whose CRD's schema refuses what the checks read of it
	// (sigs.k8s.io/network-policy-api v0.1.1 to v0.3.1): a priority absent, or outside 0 to 1000
	// (AdminNetworkPolicySpec.Priority and ClusterNetworkPolicySpec.Priority, required, Minimum 0,
	// Maximum 1000), a ClusterNetworkPolicy's tier neither Admin nor Baseline (required, an
	// enum), or what schemaRefuses says. A manifest of one is never created, and counts for
	// nothing; a policy the operator reads was.
	refused bool
	// subjectNS and subjectPod select the pods the policy applies to: those subjectPod selects
	// in the namespaces subjectNS selects; nil when the subject cannot be read (it may select
	// any pod).
	subjectNS, subjectPod labels.Selector
	rules                 []adminRule
}

// adminRule is one ingress rule of an adminPolicy.
type adminRule struct {
	name   string
	action string
	// peers are the pods the rule's from selects; readable is false when a peer is of a kind
	// the checks do not read (or none is given) or the action is unknown.
	peers    []podPeer
	readable bool
	// every is true when a peer selects every pod of every namespace; ported when the rule
	// matches some ports only.
	every, ported bool
	// byLabels is true for an Allow or Pass rule whose pods peers select pods by their labels:
	// its peers are read as every pod of the namespaces they select (forgeable).
	byLabels bool
}

// forgeable is an Allow or Pass peer as a namespace's admins can make it match: a pods peer
// selects the pods of its namespaces by their labels, which each namespace's admins set on
// their own pods (no role a namespace holds stops them labelling a Pod), so it admits every pod
// of those namespaces whose owner wants in; widened is true when the peer selected fewer. Until
// December 2026 an AdminNetworkPolicy Allow from the pods labelled app=prometheus of every
// namespace, final ahead of every NetworkPolicy, passed the pods it selects, though any
// namespace's admin reached them on every port by labelling a pod app=prometheus.
func forgeable(pp podPeer) (out podPeer, widened bool) {
	if pp.pod.Empty() {
		return pp, false
	}
	return podPeer{ns: pp.ns, pod: labels.Everything()}, true
}

// byLabelsNote says, after an open verdict, that rules read as forgeable decided it.
func byLabelsNote(byLabels bool) string {
	if byLabels {
		return " (its pods peers select pods by their labels, which each namespace's admins set on their own pods)"
	}
	return ""
}

func (p adminPolicy) name() string {
	if p.kind == clusterPolicyKind {
		return fmt.Sprintf("%s %q (%s tier, priority %d)", p.kind, p.obj.Name, p.tier, p.priority)
	}
	if p.kind == adminPolicyKind {
		return fmt.Sprintf("%s %q (priority %d)", p.kind, p.obj.Name, p.priority)
	}
	return fmt.Sprintf("%s %q", p.kind, p.obj.Name)
}

func (p adminPolicy) ruleName(r adminRule) string {
	if r.name == "" {
		return p.name()
	}
	return fmt.Sprintf("%s, rule %q", p.name(), r.name)
}

type (
	adminSpec struct {
		Tier     string          `json:"tier"`
		Priority *int32          `json:"priority"`
		Subject  map[string]any  `json:"subject"`
		Ingress  []adminRuleSpec `json:"ingress"`
	}
	adminRuleSpec struct {
		Name   string           `json:"name"`
		Action string           `json:"action"`
		From   []map[string]any `json:"from"`
		Ports  *[]any           `json:"ports"`
		// Protocols are a ClusterNetworkPolicy rule's (its ports).
		Protocols *[]any `json:"protocols"`
	}
)

// adminPolicies lists the AdminNetworkPolicies and the Admin-tier ClusterNetworkPolicies with
// ingress rules, by priority and name, once per evaluation (in a scan, not those whose priority
// or tier their CRD refuses); baselinePolicy lists the BaselineAdminNetworkPolicy default, if it
// has ingress rules, and the Baseline-tier ClusterNetworkPolicies, alike.
func adminPolicies(inv *engine.Inventory) []adminPolicy {
	return inv.Memo(nil, "network.adminPolicies", func() any {
		return tierPolicies(inv, adminPolicyKind, adminTier)
	}).([]adminPolicy)
}

func baselinePolicy(inv *engine.Inventory) []adminPolicy {
	return inv.Memo(nil, "network.baselinePolicy", func() any {
		return tierPolicies(inv, baselinePolicyKind, baselineTier)
	}).([]adminPolicy)
}

// tierPolicies reads the policies of kind (AdminNetworkPolicy, BaselineAdminNetworkPolicy) and
// the ClusterNetworkPolicies of tier, by priority and name.
func tierPolicies(inv *engine.Inventory, kind, tier string) []adminPolicy {
	var out []adminPolicy
	for _, k := range []string{kind, clusterPolicyKind} {
		for _, o := range inv.List("", k) {
			p, ok := readAdminPolicy(o, k)
			if !ok || k == clusterPolicyKind && p.tier != tier {
				continue
			}
			if (inv.Complete || !p.refused) && refusedCustomResource(inv, o, false) == "" {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b adminPolicy) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.kind, b.kind), cmp.Compare(a.obj.Name, b.obj.Name))
	})
	return out
}

// unordered reports whether the order of two policies of one tier that may both decide the same
// traffic is undefined: of one priority, or one an AdminNetworkPolicy or the
// BaselineAdminNetworkPolicy and the other a ClusterNetworkPolicy (no release orders the kinds
// against each other). The BaselineAdminNetworkPolicy is one only, named default.
func unordered(p, q adminPolicy) bool {
	if (p.kind == clusterPolicyKind) != (q.kind == clusterPolicyKind) {
		return true
	}
	return p.kind != baselinePolicyKind && p.priority == q.priority
}

// readAdminPolicy reads an AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy
// of the Network Policy API's group; ok is false for another group's kind of that name, a
// baseline not named default (engine.IsAdminNetworkPolicy), a policy without a spec, or without
// ingress rules (it does not affect ingress). A ClusterNetworkPolicy's Accept reads as Allow.
func readAdminPolicy(o *engine.Object, kind string) (adminPolicy, bool) {
	cnp := kind == clusterPolicyKind
	if !cnp && !engine.IsAdminNetworkPolicy(o) || cnp && !engine.IsClusterNetworkPolicy(o) {
		return adminPolicy{}, false
	}
	var spec adminSpec
	if !specOf(o, &spec) || len(spec.Ingress) == 0 {
		return adminPolicy{}, false
	}
	p := adminPolicy{obj: o, kind: kind}
	if cnp {
		p.tier = spec.Tier
	}
	if spec.Priority != nil {
		p.priority = *spec.Priority
	}
	p.refused = kind != baselinePolicyKind && (spec.Priority == nil || *spec.Priority < 0 || *spec.Priority > 1000) ||
		cnp && p.tier != adminTier && p.tier != baselineTier || schemaRefuses(kind, spec)
	p.subjectNS, p.subjectPod = adminSubject(spec.Subject, cnp)
	for _, r := range spec.Ingress {
		rule := adminRule{name: r.Name, action: r.Action, ported: r.Ports != nil, readable: len(r.From) > 0}
		switch {
		case cnp:
			// Accept, Deny or Pass (v1alpha2.ClusterNetworkPolicyRuleAction), in either tier;
			// it has no ports but protocols.
			rule.ported = r.Protocols != nil
			switch r.Action {
			case "Accept":
				rule.action = "Allow"
			case "Deny", "Pass":
			default:
				rule.readable = false
			}
		case r.Action == "Allow" || r.Action == "Deny":
		case r.Action == "Pass" && kind == adminPolicyKind:
		default:
			rule.readable = false
		}
		for _, peer := range r.From {
			pp, every, ok := adminPeer(peer, cnp)
			if !ok {
				rule.readable = false
				continue
			}
			if rule.action == "Allow" || rule.action == "Pass" {
				if wide, widened := forgeable(pp); widened {
					pp, rule.byLabels = wide, true
					every = adminPeerEveryNamespace(peer, cnp)
				}
			}
			rule.peers = append(rule.peers, pp)
			rule.every = rule.every || every
		}
		p.rules = append(p.rules, rule)
	}
	return p, true
}

// schemaRefuses reports whether the CRD of kind refuses spec for what the checks read of its
// subject and ingress (the standard and experimental CRDs of sigs.k8s.io/network-policy-api
// v0.1.7 and v0.2.0 to v0.3.1 alike): a subject or peer that is not exactly one of namespaces
// and pods (MinProperties and MaxProperties 1; an unknown field is pruned or refused), more
// ingress rules or peers than MaxItems (100, a ClusterNetworkPolicy's 25), a rule without from
// (required, MinItems 1), or an action outside its enum (AdminNetworkPolicy: Allow, Deny, Pass;
// BaselineAdminNetworkPolicy: Allow, Deny; ClusterNetworkPolicy: Accept, Deny, Pass). Read as
// rules the checks cannot read, such a manifest left a pod NotAssessed that nothing restricts.
func schemaRefuses(kind string, spec adminSpec) bool {
	maxItems, actions := 100, []string{"Allow", "Deny", "Pass"}
	switch kind {
	case baselinePolicyKind:
		actions = []string{"Allow", "Deny"}
	case clusterPolicyKind:
		maxItems, actions = 25, []string{"Accept", "Deny", "Pass"}
	}
	oneOf := func(m map[string]any) bool {
		if len(m) != 1 {
			return false
		}
		_, ns := m["namespaces"]
		_, pods := m["pods"]
		return ns || pods
	}
	if !oneOf(spec.Subject) || len(spec.Ingress) > maxItems {
		return true
	}
	for _, r := range spec.Ingress {
		if !slices.Contains(actions, r.Action) || len(r.From) == 0 || len(r.From) > maxItems {
			return true
		}
		for _, peer := range r.From {
			if !oneOf(peer) {
				return true
			}
		}
	}
	return false
}

// adminSubject reads a policy's subject: exactly one of namespaces (every pod of the namespaces
// it selects) and pods (namespaceSelector and podSelector; a ClusterNetworkPolicy's, cnp, may
// leave the namespaceSelector out); nil selectors when it is neither.
func adminSubject(subject map[string]any, cnp bool) (ns, pod labels.Selector) {
	if len(subject) != 1 {
		return nil, nil
	}
	pp, _, ok := adminPeer(subject, cnp)
	if !ok {
		return nil, nil
	}
	return pp.ns, pp.pod
}

// adminPeer reads a peer (or subject) with exactly one of namespaces and pods; every is true
// when it selects every pod of every namespace. A ClusterNetworkPolicy's (cnp) pods may leave
// their namespaceSelector out.
func adminPeer(peer map[string]any, cnp bool) (pp podPeer, every, ok bool) {
	if len(peer) != 1 {
		return podPeer{}, false, false
	}
	if raw, found := peer["namespaces"].(map[string]any); found {
		var sel metav1.LabelSelector
		if runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel) != nil {
			return podPeer{}, false, false
		}
		return podPeer{ns: parsedSelector(&sel), pod: labels.Everything()}, selectsEveryNamespace(&sel), true
	}
	if raw, found := peer["pods"].(map[string]any); found {
		ns, pod, ok := engine.AdminNamespacedPods(raw, cnp)
		if !ok {
			return podPeer{}, false, false
		}
		return podPeer{ns: parsedSelector(ns), pod: parsedSelector(pod)}, selectsEveryNamespace(ns) && selectsAll(pod), true
	}
	return podPeer{}, false, false
}

// adminPeerEveryNamespace reports whether a readable peer's namespaces, or its pods peer's
// namespaceSelector, select every namespace.
func adminPeerEveryNamespace(peer map[string]any, cnp bool) bool {
	if raw, found := peer["pods"].(map[string]any); found {
		ns, _, ok := engine.AdminNamespacedPods(raw, cnp)
		return ok && selectsEveryNamespace(ns)
	}
	_, every, ok := adminPeer(peer, cnp)
	return ok && every
}

// adminSelects is whether a policy's subject selects the pods of a workload in a namespace whose
// labels are nsKnown (with nsUnknown keys that may or may not be set: the Namespace object is
// not in view) and whose pods' labels are known and unknown (workloadPodLabels).
func adminSelects(p adminPolicy, nsKnown labels.Set, nsUnknown bool, known labels.Set, unknown map[string]bool) podSelection {
	if p.subjectNS == nil || p.subjectPod == nil {
		return selectsMaybe
	}
	nsUnknownKeys := map[string]bool{}
	if nsUnknown {
		reqs, _ := p.subjectNS.Requirements()
		for _, r := range reqs {
			if r.Key() != corev1.LabelMetadataName {
				nsUnknownKeys[r.Key()] = true
			}
		}
	}
	return min(selectsPods(p.subjectNS, nsKnown, nsUnknownKeys), selectsPods(p.subjectPod, known, unknown))
}

// namespaceLabels are the labels of a namespace, with kubernetes.io/metadata.name, which the API
// server sets on every one; unknown is true when the Namespace object is not in view.
func namespaceLabels(inv *engine.Inventory, namespace string) (set labels.Set, unknown bool) {
	set = labels.Set{corev1.LabelMetadataName: namespace}
	o := labelledNamespace(inv, namespace)
	if o == nil {
		return set, true
	}
	for k, v := range o.Labels() {
		set[k] = v
	}
	set[corev1.LabelMetadataName] = namespace
	return set, false
}

// adminIngress is what a tier of cluster-wide policies (the AdminNetworkPolicies, or the
// BaselineAdminNetworkPolicy) decides of the ingress of a set of pods from the cluster's pods.
type adminIngress struct {
	// open says how rules that decide before any other admit every pod of every namespace on
	// every port, naming the policies; "" otherwise.
	open string
	// closed names the rule that denies every pod of every namespace on every port, ahead of
	// any other rule that could admit them all; "" otherwise.
	closed string
	// closedBy is the policy of that rule (its kind and object), nil when closed is "".
	closedBy *adminPolicy
	// undecided names the policies whose rules may decide the pods' ingress in a way the
	// checks do not judge.
	undecided []string
}

// judgeAdmin walks the ingress rules of policies (in their order of precedence) that may select
// a set of pods (selects tells) until one decides for every pod of every namespace on every
// port.
func judgeAdmin(policies []adminPolicy, selects func(adminPolicy) podSelection) adminIngress {
	var out adminIngress
	// sure are the peers of Allow rules without ports of policies that surely select the pods,
	// unsure those of other Allow rules; passed are the peers of Pass rules, passedSure those
	// of the Pass rules without ports of policies that surely select the pods, denied those of
	// Deny rules that do not decide every pod; blocks names the policies with Deny or Pass
	// rules before, unread those with rules not read.
	var sure, unsure, passed, passedSure, denied []podPeer
	sureByLabels := false // a rule of sure read its pods peers as forgeable
	var allowing, blocks, unread []string
	add := func(list *[]string, name string) {
		if !slices.Contains(*list, name) {
			*list = append(*list, name)
		}
	}
	undecided := func(names ...string) adminIngress {
		var all []string
		for _, n := range slices.Concat(unread, blocks, allowing, names) {
			add(&all, n)
		}
		return adminIngress{undecided: all}
	}
	work := 0
	for i, p := range policies {
		s := selects(p)
		if s == selectsNot {
			continue
		}
		// Two policies that may select the pods in no defined order (unordered): the order of
		// their rules is undefined.
		for j, q := range policies {
			if j != i && unordered(p, q) && selects(q) != selectsNot {
				return undecided(p.name(), q.name())
			}
		}
		for _, r := range p.rules {
			name := p.ruleName(r)
			switch {
			case !r.readable:
				add(&unread, name)
			case r.every && !r.ported && s == selectsYes:
				// This rule decides every source on every port the rules before left.
				switch r.action {
				case "Allow":
					if len(blocks)+len(unread) > 0 {
						return undecided(name)
					}
					out.open = name + " admits every pod of every namespace on every port" + byLabelsNote(r.byLabels)
				case "Deny":
					if len(unread) > 0 {
						return undecided(name)
					}
					// The Pass rules before hand what they match to the NetworkPolicies,
					// which a namespace's admins write: when they may, with the rules
					// before them, match every pod on some port, the Deny may decide
					// nothing of it. Until December 2026 a Pass of every pod's TCP before
					// a Deny from every pod passed the pods, their NetworkPolicies unread.
					if len(passed) > 0 && coverEveryPodOf(slices.Concat(sure, unsure, denied, passed), &work) {
						return undecided(name)
					}
					out.closed, out.closedBy = name, &p
				default: // Pass: the next tier decides (after the Baseline tier, Kubernetes' default admits everything).
					if len(unread) > 0 {
						return undecided()
					}
				}
				return out
			case r.action == "Allow":
				if r.ported || s != selectsYes {
					unsure = append(unsure, r.peers...)
				} else {
					sure = append(sure, r.peers...)
					sureByLabels = sureByLabels || r.byLabels
				}
				add(&allowing, name)
				switch {
				case !r.ported && s == selectsYes && coverEveryPodOf(sure, &work):
					if len(blocks)+len(unread) > 0 {
						return undecided()
					}
					out.open = few(allowing, ", ") + " together admit every pod of every namespace on every port" + byLabelsNote(sureByLabels)
					return out
				case coverEveryPodOf(slices.Concat(sure, unsure), &work):
					return undecided()
				}
			case r.action == "Pass":
				// Pass of some sources or ports, or of a policy that may select the pods.
				add(&blocks, name)
				passed = append(passed, r.peers...)
				if r.ported || s != selectsYes {
					break
				}
				passedSure = append(passedSure, r.peers...)
				if coverEveryPodOf(slices.Concat(sure, passedSure), &work) {
					// Every pod's traffic, on every port, is admitted or passed to the
					// next tier here: no later rule of the tier sees it.
					if len(unread) > 0 {
						return undecided()
					}
					return out
				}
			default: // Deny of some sources, or of a policy that may select the pods.
				add(&blocks, name)
				denied = append(denied, r.peers...)
			}
		}
	}
	if len(unread) > 0 {
		return undecided()
	}
	return out
}

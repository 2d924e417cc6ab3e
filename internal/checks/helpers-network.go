package checks

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// namespacePolicy is one NetworkPolicy of a namespace with its parsed pod selector.
type namespacePolicy struct {
	obj      *engine.Object
	policy   *networkingv1.NetworkPolicy
	selector labels.Selector
}

// networkPoliciesIn lists the NetworkPolicies of a namespace, once per evaluation (every pod of
// the namespace asks), each pod selector parsed once. Objects of kind NetworkPolicy that are
// not typed (an unknown apiVersion) are left out: their selectors cannot be read; so are those
// the API server rejects (refusal), which are never created. The list is
// shared: callers must not change it.
func networkPoliciesIn(inv *engine.Inventory, namespace string) []namespacePolicy {
	return networkPolicyIndex(inv, namespace).items
}

// networkPolicyIndex is the NetworkPolicies of a namespace (items, as networkPoliciesIn lists
// them) indexed by the labels their pod selectors require, once per evaluation: without it
// every pod of a namespace was tried against every policy of it (at 100,000 objects, 8% of a
// scan's CPU).
func networkPolicyIndex(inv *engine.Inventory, namespace string) *selectorIndex[namespacePolicy] {
	return namespacePolicies(inv, namespace).index
}

// policiesOfNamespace is what namespacePolicies reads of a namespace's NetworkPolicies in one
// pass: the index of those the API server takes, and those it rejects.
type policiesOfNamespace struct {
	index    *selectorIndex[namespacePolicy]
	rejected []string
}

func namespacePolicies(inv *engine.Inventory, namespace string) *policiesOfNamespace {
	return inv.Memo(nil, "network.policiesIn "+namespace, func() any {
		out := &policiesOfNamespace{index: newSelectorIndex[namespacePolicy]()}
		for _, o := range inv.List(namespace, "NetworkPolicy") {
			if inv.Stopped() {
				// The caller has gone: the check is cut short and this part kept nowhere
				// (a tenant's thousands of policies, each selector parsed and checked).
				break
			}
			np, ok := o.Obj.(*networkingv1.NetworkPolicy)
			if !ok {
				continue
			}
			if why := refusal(inv, np); why != "" {
				// The API server refuses this copy: the policy is the last earlier copy it
				// takes, which kubectl apply created before it failed to update it with this one
				// (until December 2026 a refused later copy hid an earlier one that admits
				// everything), or there is none.
				earlier, enp := acceptedEarlierPolicy(inv, o)
				if earlier == nil {
					out.rejected = append(out.rejected, fmt.Sprintf("NetworkPolicy %q, which the API server rejects (%s)", o.Name, why))
					continue
				}
				o, np = earlier, enp
			}
			out.index.add(namespace, &np.Spec.PodSelector, namespacePolicy{obj: o, policy: np,
				selector: selectorOf(inv, o, "networkpolicy.podSelector", &np.Spec.PodSelector)})
		}
		return out
	}).(*policiesOfNamespace)
}

// controllerPodLabels are the labels a workload's controller puts on the pods it creates beside
// its template's, and whether some pods may lack them (engine.ControllerPodLabels).
var controllerPodLabels = engine.ControllerPodLabels

// controllerPodLabelKeys are the keys of controllerPodLabels, of every kind.
var controllerPodLabelKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, kind := range controllerPodLabels {
		for k := range kind {
			keys[k] = true
		}
	}
	return keys
}()

// workloadPodLabels are the labels of a workload's pods as far as they are known: known, the
// template's labels (a Pod's own), less those the controller sets on its pods instead
// (controllerPodLabels); unknown, the keys whose values the controller sets, each true when some
// pods may lack it. A Job's labels already in its template (the API server put them there) are
// the pods'.
func workloadPodLabels(o *engine.Object) (known labels.Set, unknown map[string]bool) {
	known = podLabels(o)
	for k, maybeAbsent := range controllerPodLabels[o.Kind] {
		_, inTemplate := known[k]
		if inTemplate && (o.Kind == "Job" || o.Kind == "CronJob") && k != batchv1.JobCompletionIndexAnnotation {
			continue
		}
		if unknown == nil {
			unknown = map[string]bool{}
			known = maps.Clone(known)
		}
		unknown[k] = maybeAbsent
		delete(known, k)
	}
	return known, unknown
}

// podSelection is whether a policy selects a workload's pods: not, maybe (it depends on the
// values of labels their controller sets), or yes.
type podSelection int

const (
	selectsNot podSelection = iota
	selectsMaybe
	selectsYes
)

// selectsPods is whether a selector selects the pods of a workload whose labels are known and
// unknown (workloadPodLabels).
func selectsPods(sel labels.Selector, known labels.Set, unknown map[string]bool) podSelection {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return selectsNot
	}
	out := selectsYes
	for _, r := range reqs {
		maybeAbsent, isUnknown := unknown[r.Key()]
		switch {
		case !isUnknown:
			if !r.Matches(known) {
				return selectsNot
			}
		case r.Operator() == selection.Exists && !maybeAbsent:
		case r.Operator() == selection.DoesNotExist && !maybeAbsent:
			return selectsNot
		default:
			out = selectsMaybe
		}
	}
	return out
}

// mentionsAny reports whether a selector has a requirement on one of the keys of keys.
func mentionsAny[V any](sel labels.Selector, keys map[string]V) bool {
	reqs, _ := sel.Requirements()
	return slices.ContainsFunc(reqs, func(r labels.Requirement) bool {
		_, ok := keys[r.Key()]
		return ok
	})
}

// policiesSelectingPods are the NetworkPolicies of a workload's namespace that select its pods
// (yes), and those that may (maybe): policies with requirements on the labels the controller
// sets on the pods (workloadPodLabels) are judged by selectsPods, the others by the labels the
// pods are known to carry.
func policiesSelectingPods(inv *engine.Inventory, o *engine.Object) (known labels.Set, unknown map[string]bool, yes, maybe []namespacePolicy) {
	known, unknown = knownPodLabels(inv, o)
	var byController []namespacePolicy
	if len(unknown) > 0 {
		byController = controllerLabelPolicies(inv, o.Namespace)
	}
	yes, maybe = selectingPods(networkPolicyIndex(inv, o.Namespace).selecting(o.Namespace, known), byController,
		func(p namespacePolicy) labels.Selector { return p.selector }, known, unknown)
	return known, unknown, yes, maybe
}

// selectingPods sorts the selectors (NetworkPolicies, PodDisruptionBudgets) that may select a
// workload's pods into those that surely do (yes) and those that may (maybe), given the pod
// labels known and the controller-set ones that are not (workloadPodLabels). byTemplate are
// those whose selectors match the known labels: they select the pods unless they also have
// requirements on an unknown label. byController are those with requirements on labels
// controllers set (controllerPodLabelKeys); selectsPods judges those that have requirements on
// an unknown one.
func selectingPods[T any](byTemplate, byController []T, selector func(T) labels.Selector, known labels.Set, unknown map[string]bool) (yes, maybe []T) {
	for _, x := range byTemplate {
		if !mentionsAny(selector(x), unknown) {
			yes = append(yes, x)
		}
	}
	if len(unknown) == 0 {
		return yes, nil
	}
	for _, x := range byController {
		if !mentionsAny(selector(x), unknown) {
			continue
		}
		switch selectsPods(selector(x), known, unknown) {
		case selectsYes:
			yes = append(yes, x)
		case selectsMaybe:
			maybe = append(maybe, x)
		}
	}
	return yes, maybe
}

// controllerLabelPolicies are the NetworkPolicies of a namespace whose pod selectors have
// requirements on labels controllers set on pods (controllerPodLabelKeys), once per evaluation.
func controllerLabelPolicies(inv *engine.Inventory, namespace string) []namespacePolicy {
	return inv.Memo(nil, "network.controllerLabelPolicies "+namespace, func() any {
		var out []namespacePolicy
		for _, p := range networkPoliciesIn(inv, namespace) {
			if inv.Stopped() {
				break // cut short, kept nowhere (engine.Inventory.Memo)
			}
			if mentionsAny(p.selector, controllerPodLabelKeys) {
				out = append(out, p)
			}
		}
		return out
	}).([]namespacePolicy)
}

// isDefaultDenyIngress reports whether a NetworkPolicy selects every pod of its namespace and
// allows them no ingress: an empty podSelector, Ingress among its policy types, and no ingress
// rules. Without policyTypes the API server defaults them to Ingress (plus Egress when there are
// egress rules), so such a policy restricts ingress too.
func isDefaultDenyIngress(np *networkingv1.NetworkPolicy) bool {
	sel := np.Spec.PodSelector
	if len(sel.MatchLabels) > 0 || len(sel.MatchExpressions) > 0 {
		return false
	}
	if len(np.Spec.Ingress) > 0 {
		return false
	}
	return governsIngress(np)
}

// governsIngress reports whether a NetworkPolicy restricts the ingress of the pods it selects:
// policyTypes lists Ingress, or is absent (the API server defaults it to Ingress, plus Egress
// when there are egress rules).
func governsIngress(np *networkingv1.NetworkPolicy) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return true
	}
	for _, t := range np.Spec.PolicyTypes {
		if t == networkingv1.PolicyTypeIngress {
			return true
		}
	}
	return false
}

// openIngressOf is whether policies that govern a pod's ingress admit it from anywhere on every
// port: one of them by itself (single, with how), or several together (together); judged is
// false when one or more are too large to judge (ingressWork) and none was found open. Policies
// add up: one that admits everything opens the pod, whatever the others.
func openIngressOf(inv *engine.Inventory, namespace string, governing []namespacePolicy) (single *namespacePolicy, why string, together []namespacePolicy, judged bool) {
	var opening []namespacePolicy // those with ingress rules
	judged = true
	for i := range governing {
		p := &governing[i]
		why, ok := admitsEverything(inv, *p)
		if why != "" {
			return p, why, nil, true
		}
		judged = judged && ok
		if len(p.policy.Spec.Ingress) > 0 {
			opening = append(opening, *p)
		}
	}
	if len(opening) > 1 {
		why, ok := admitTogether(inv, namespace, opening)
		if why != "" {
			return nil, "", opening, true
		}
		judged = judged && ok
	}
	return nil, "", nil, judged
}

// admitsEverything says how a policy admits ingress from anywhere on every port (openIngress of
// its rules, once per evaluation), or "" when it does not; judged is false when the policy is too
// large to judge (ingressWork), or the namespace's policies together are (policyVerdicts).
func admitsEverything(inv *engine.Inventory, p namespacePolicy) (why string, judged bool) {
	v := policyVerdicts(inv, p.obj.Namespace)[p.obj]
	return v.why, v.judged
}

// namespaceIngressWork bounds the work of judging every NetworkPolicy of a namespace by itself
// (policyVerdicts), as ingressWork bounds one policy's: a namespace admin's hundred small policies,
// each of twenty peers requiring twenty labels (a few KiB in all), each took ingressWork, about
// 50 ms here, so that judging one Deployment beside them took 5.1 s, past the admission webhook's
// 5 s timeout, and its failurePolicy (Ignore) admitted a privileged Deployment under Enforce; and
// every evaluation of the namespace held a worker as long.
const namespaceIngressWork = 4 * ingressWork

// policyVerdicts are the verdicts of admitsEverything on every NetworkPolicy of a namespace, once
// per evaluation: in the order of their names, each judged within what the namespace's work
// (namespaceIngressWork) has left, and not judged once it is spent, whichever pod asks first.
func policyVerdicts(inv *engine.Inventory, namespace string) map[*engine.Object]ingressVerdict {
	return inv.Memo(nil, "network.policyVerdicts "+namespace, func() any {
		items := slices.Clone(networkPoliciesIn(inv, namespace))
		slices.SortFunc(items, func(a, b namespacePolicy) int { return strings.Compare(a.obj.Name, b.obj.Name) })
		out := make(map[*engine.Object]ingressVerdict, len(items))
		left := namespaceIngressWork
		for _, p := range items {
			if inv.Stopped() {
				break // cut short, kept nowhere (engine.Inventory.Memo)
			}
			allowance := min(ingressWork, left)
			work := ingressWork - allowance
			why, judged := openIngress(p.policy.Spec.Ingress, namespace, &work)
			left -= min(work, ingressWork) - (ingressWork - allowance)
			out[p.obj] = ingressVerdict{why, judged}
		}
		return out
	}).(map[*engine.Object]ingressVerdict)
}

// admitTogether is openIngress of the rules of several policies of a namespace, once per
// evaluation for each set of policies (the workloads of a namespace share a few).
func admitTogether(inv *engine.Inventory, namespace string, policies []namespacePolicy) (why string, judged bool) {
	v := inv.Memo(nil, "network.admitTogether "+namespace+"\x00"+strings.Join(policyNames(policies), "\x00"), func() any {
		var rules []networkingv1.NetworkPolicyIngressRule
		for _, p := range policies {
			rules = append(rules, p.policy.Spec.Ingress...)
		}
		work := 0
		why, judged := openIngress(rules, namespace, &work)
		return ingressVerdict{why, judged}
	}).(ingressVerdict)
	return v.why, v.judged
}

// ingressVerdict is what openIngress answers.
type ingressVerdict struct {
	why    string
	judged bool
}

// ingressWork bounds the addresses openIngress gathers to answer one question. Real policies
// need a few dozen; rules built to make the answer expensive (tens of thousands of ports, each
// stretch admitting many address ranges) would slow every evaluation of the cluster, so they are
// not judged.
const ingressWork = 1 << 20

// openIngress says how ingress rules (of one policy, or of every policy that selects a pod:
// policies add up, as rules do) of a namespace admit traffic from anywhere on every TCP port, or
// "" when they do not: the first rule that does by itself (openIngressRule), or else the rules
// together, when for every TCP port the rules that admit it admit every source between them
// (every address of a family, or every pod of every namespace). judged is false when answering
// would take more than ingressWork, counting from what w says was done already (it says how much
// has been done when openIngress returns).
func openIngress(rules []networkingv1.NetworkPolicyIngressRule, namespace string, w *int) (why string, judged bool) {
	work := *w
	defer func() { *w = work }()
	peers := make([][]podPeer, len(rules)) // the peers of each rule that select pods
	every := make([]bool, len(rules))      // the rule admits every source by itself
	for i, r := range rules {
		peers[i] = podPeersOf(r.From, namespace)
		why, ok := openIngressRule(r, peers[i], namespace, &work)
		if why != "" {
			return why, true
		}
		if !ok {
			return "", false
		}
		every[i] = len(r.From) == 0 || coverEveryPodOf(peers[i], &work)
	}
	if len(rules) < 2 {
		return "", true
	}
	// Sweep the TCP ports: between two bounds of the rules' port ranges every rule admits every
	// port or none, so each stretch is judged once, at its first port.
	type event struct {
		port   int32
		rule   int
		starts bool
	}
	addrs := make([][]addrRange, len(rules)) // of a rule not every[i], the addresses its ipBlocks admit
	var events []event
	for i, r := range rules {
		if !every[i] {
			if addrs[i], _ = ipBlockRanges(r.From); len(addrs[i]) == 0 && len(peers[i]) == 0 {
				continue // it admits nothing
			}
		}
		for _, pr := range tcpPortRanges(r.Ports) {
			events = append(events, event{pr[0], i, true}, event{pr[1] + 1, i, false})
		}
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.port, b.port) })
	everyActive, active := 0, map[int]bool{}
	for i, port := 0, int32(1); port <= 65535; port = events[i].port {
		for ; i < len(events) && events[i].port <= port; i++ {
			switch e := events[i]; {
			case every[e.rule] && e.starts:
				everyActive++
			case every[e.rule]:
				everyActive--
			case e.starts:
				active[e.rule] = true
			default:
				delete(active, e.rule)
			}
		}
		if everyActive == 0 {
			var stretch []addrRange
			var pods []podPeer
			for r := range active {
				stretch = append(stretch, addrs[r]...)
				pods = append(pods, peers[r]...)
			}
			if work += len(active) + len(stretch); work > ingressWork {
				return "", false
			}
			if !coversAFamily(stretch) {
				covered, ok := coverEveryPod(pods, &work)
				if !ok {
					return "", false
				}
				if !covered {
					return "", true
				}
			}
		}
		if i == len(events) {
			break // the stretch runs to the last port
		}
	}
	return "its ingress rules together admit every source on every TCP port", true
}

// openIngressRule says how an ingress rule admits traffic from anywhere on every port, or ""
// when it does not. A rule admits every port when it has no ports or its ports cover every TCP
// port (coversEveryTCPPort); it admits every source when it has no from (as the NetworkPolicy
// API defines an empty from), or a peer that selects every pod of every namespace (everyPod), or
// peers that do so together (its pod peers, coverEveryPod), or ipBlocks that add up to every
// address (everyAddress). judged is false when answering would take more than ingressWork.
func openIngressRule(r networkingv1.NetworkPolicyIngressRule, peers []podPeer, namespace string, work *int) (why string, judged bool) {
	ports := "no ports"
	if len(r.Ports) > 0 {
		if !coversEveryTCPPort(r.Ports) {
			return "", true
		}
		ports = "ports that cover every TCP port"
	}
	if len(r.From) == 0 {
		return "an ingress rule with no from and " + ports, true
	}
	if slices.ContainsFunc(r.From, everyPod) {
		return "a rule with every pod of every namespace as its source (a namespaceSelector every namespace matches) and " + ports, true
	}
	if blocks := everyAddress(r.From); blocks != "" {
		return "a rule with every address as its source (ipBlock " + blocks + ") and " + ports, true
	}
	covered, ok := coverEveryPod(peers, work)
	if covered {
		if slices.ContainsFunc(r.From, func(p networkingv1.NetworkPolicyPeer) bool { return forgeablePeer(p, namespace) }) {
			return "a rule whose peers together select every pod of every namespace (a peer selecting other namespaces' pods by labels that namespace's admins set on their own pods admits any of them labelled so) and " + ports, true
		}
		return "a rule whose peers together select every pod of every namespace and " + ports, true
	}
	return "", ok
}

// coverEveryPodOf is coverEveryPod, false when it cannot be judged.
func coverEveryPodOf(peers []podPeer, work *int) bool {
	covered, ok := coverEveryPod(peers, work)
	return covered && ok
}

// podPeer is a NetworkPolicy peer that selects pods: those pod selects in the namespaces ns
// selects.
type podPeer struct{ ns, pod labels.Selector }

// podPeersOf are the peers that select pods, as selectors of namespace and pod labels: a peer
// without namespaceSelector selects pods of the policy's own namespace (whose
// kubernetes.io/metadata.name is its name), one without podSelector every pod of the namespaces
// it selects. An invalid selector selects nothing. A peer whose namespaceSelector may select
// another namespace selects every pod of the namespaces it selects (forgeablePeer).
func podPeersOf(peers []networkingv1.NetworkPolicyPeer, namespace string) []podPeer {
	var out []podPeer
	for _, p := range peers {
		if p.NamespaceSelector == nil && p.PodSelector == nil {
			continue // an ipBlock
		}
		pp := podPeer{ns: labels.SelectorFromSet(labels.Set{corev1.LabelMetadataName: namespace}), pod: labels.Everything()}
		if p.NamespaceSelector != nil {
			pp.ns = parsedSelector(p.NamespaceSelector)
		}
		if p.PodSelector != nil && !forgeablePeer(p, namespace) {
			pp.pod = parsedSelector(p.PodSelector)
		}
		out = append(out, pp)
	}
	return out
}

// forgeablePeer reports whether a NetworkPolicy peer selects, by labels, pods of namespaces
// other than the policy's own: their admins set their own pods' labels (no role a namespace
// holds stops them labelling a Pod), so the peer admits every pod of those namespaces whose
// owner wants in, and is read as every pod of the namespaces its namespaceSelector selects. A
// peer of the policy's own namespace alone (no namespaceSelector, or one requiring
// kubernetes.io/metadata.name to be its name) keeps its podSelector: its own admins label those
// pods. Until December 2026 a policy admitting the pods labelled app=prometheus of every
// namespace (namespaceSelector {}) passed the pods it selects, though any namespace's admin
// reached them on every port by labelling a pod app=prometheus.
func forgeablePeer(p networkingv1.NetworkPolicyPeer, namespace string) bool {
	if p.NamespaceSelector == nil || p.PodSelector == nil || selectsAll(p.PodSelector) {
		return false
	}
	sel := parsedSelector(p.NamespaceSelector)
	reqs, selectable := sel.Requirements()
	if !selectable {
		return false // selects no namespace
	}
	for _, r := range reqs {
		if r.Key() != corev1.LabelMetadataName {
			continue
		}
		if values := r.Values(); (r.Operator() == selection.In || r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals) &&
			values.Len() == 1 && values.Has(namespace) {
			return false // the policy's own namespace alone
		}
	}
	return true
}

func parsedSelector(sel *metav1.LabelSelector) labels.Selector {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return labels.Nothing()
	}
	return s
}

// coverEveryPod reports whether pod peers together select every pod of every namespace: whatever
// the labels of a namespace (which always carry kubernetes.io/metadata.name) and of a pod in it,
// some peer selects both. Only the keys the selectors name matter, and of a key only the values
// they name, one other value and its absence (labelMasks), so the answer is exact; judged is
// false when it would take more than ingressWork.
func coverEveryPod(peers []podPeer, work *int) (covered, judged bool) {
	if len(peers) == 0 {
		return false, true
	}
	ns, pods := make([]labels.Selector, len(peers)), make([]labels.Selector, len(peers))
	for i, p := range peers {
		ns[i], pods[i] = p.ns, p.pod
	}
	nsMasks, ok := labelMasks(ns, corev1.LabelMetadataName, work)
	if !ok {
		return false, false
	}
	podMasks, ok := labelMasks(pods, "", work)
	if !ok {
		return false, false
	}
	for _, a := range nsMasks {
		for _, b := range podMasks {
			if *work += len(a); *work > ingressWork {
				return false, false
			}
			if !intersect(a, b) {
				return false, true // a pod no peer selects
			}
		}
	}
	return true, true
}

// labelMasks are the sets of selectors that one set of labels matches, for every set of labels
// (each a bitset, without repeats). Only the keys the selectors name matter, and of a key's
// values only those they name: any other value stands for all the others, and absence for itself.
// always is a key every set of labels carries, or "". ok is false when it would take more than
// ingressWork.
func labelMasks(sels []labels.Selector, always string, work *int) (masks []string, ok bool) {
	values := map[string][]string{}
	for _, s := range sels {
		reqs, _ := s.Requirements()
		for _, r := range reqs {
			values[r.Key()] = append(values[r.Key()], r.ValuesUnsorted()...)
		}
	}
	if always != "" {
		values[always] = append(values[always], nil...)
	}
	keys := slices.Sorted(maps.Keys(values))
	for _, k := range keys {
		// A label value never has a NUL: it stands for every value no selector names.
		values[k] = append(slices.Compact(slices.Sorted(slices.Values(values[k]))), "\x00")
	}
	seen := map[string]bool{}
	set := labels.Set{}
	var walk func(i int) bool
	walk = func(i int) bool {
		if i == len(keys) {
			if *work += len(sels); *work > ingressWork {
				return false
			}
			mask := make([]byte, (len(sels)+7)/8)
			for j, s := range sels {
				if s.Matches(set) {
					mask[j/8] |= 1 << (j % 8)
				}
			}
			if m := string(mask); !seen[m] {
				seen[m] = true
				masks = append(masks, m)
			}
			return true
		}
		k := keys[i]
		for _, v := range values[k] {
			set[k] = v
			if !walk(i + 1) {
				return false
			}
		}
		delete(set, k)
		return k == always || walk(i+1)
	}
	return masks, walk(0)
}

// intersect reports whether two bitsets of the same length share a member.
func intersect(a, b string) bool {
	for i := range len(a) {
		if a[i]&b[i] != 0 {
			return true
		}
	}
	return false
}

// addrRange is the addresses from first to last, both included, of one family.
type addrRange struct{ first, last netip.Addr }

// everyAddress says which ipBlock peers admit every IPv4 or every IPv6 address between them (their
// CIDRs, comma-separated), or "" when they do not (ipBlockRanges, coversAFamily).
func everyAddress(peers []networkingv1.NetworkPolicyPeer) string {
	ranges, cidrs := ipBlockRanges(peers)
	if !coversAFamily(ranges) {
		return ""
	}
	return strings.Join(cidrs, ", ")
}

// ipBlockRanges are the addresses the ipBlock peers admit, and their CIDRs. Each block is its CIDR
// without its exceptions; peers add up. A CIDR is read as the API server reads it: a prefix of
// length 0 is every address however its address is written (0:0:0:0:0:0:0:0/0, or 10.0.0.0/0
// where strict CIDR validation is off).
func ipBlockRanges(peers []networkingv1.NetworkPolicyPeer) (ranges []addrRange, cidrs []string) {
	for _, peer := range peers {
		if peer.IPBlock == nil {
			continue
		}
		block, ok := cidrRange(peer.IPBlock.CIDR)
		if !ok {
			continue
		}
		var except []addrRange
		for _, e := range peer.IPBlock.Except {
			if r, ok := cidrRange(e); ok {
				except = append(except, r)
			}
		}
		ranges = append(ranges, subtractRanges(block, except)...)
		cidrs = append(cidrs, peer.IPBlock.CIDR)
	}
	return ranges, cidrs
}

// coversAFamily reports whether ranges (which it sorts) cover every IPv4 or every IPv6 address.
func coversAFamily(ranges []addrRange) bool {
	slices.SortFunc(ranges, func(a, b addrRange) int { return a.first.Compare(b.first) })
	for _, family := range []addrRange{
		{netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255})},
		{netip.IPv6Unspecified(), netip.AddrFrom16([16]byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})},
	} {
		next := family.first // the lowest address of the family not yet covered
		for _, r := range ranges {
			if r.first.BitLen() != next.BitLen() || r.last.Less(next) {
				continue
			}
			if next.Less(r.first) {
				break
			}
			if r.last == family.last {
				return true
			}
			next = r.last.Next()
		}
	}
	return false
}

// cidrRange is the addresses of a CIDR as the API server parses it (leading zeros allowed, bits
// beyond the prefix ignored), or false when it does not parse. An IPv4-mapped IPv6 CIDR with a
// prefix of 96 bits or more (::ffff:0.0.0.0/96) is the IPv4 CIDR it maps, as Go's net package
// reads the net.IPNet the API server parses it into (its Contains matches IPv4 addresses, its
// String is 0.0.0.0/0), where strict CIDR validation, which rejects it, is off.
func cidrRange(cidr string) (addrRange, bool) {
	_, ipnet, err := netutils.ParseCIDRSloppy(cidr)
	if err != nil {
		return addrRange{}, false
	}
	ip, mask := ipnet.IP, ipnet.Mask
	if ones, bits := mask.Size(); bits == 8*net.IPv6len && ones >= 96 && ip.To4() != nil {
		ip, mask = ip.To4(), net.CIDRMask(ones-96, 8*net.IPv4len)
	}
	first, ok := netip.AddrFromSlice(ip)
	if !ok || len(mask) != len(ip) {
		return addrRange{}, false
	}
	last := slices.Clone(ip)
	for i := range last {
		last[i] |= ^mask[i]
	}
	end, _ := netip.AddrFromSlice(last)
	return addrRange{first, end}, true
}

// subtractRanges is the addresses of block without those of cut (which it sorts).
func subtractRanges(block addrRange, cut []addrRange) []addrRange {
	slices.SortFunc(cut, func(a, b addrRange) int { return a.first.Compare(b.first) })
	var out []addrRange
	next := block.first // the lowest address of the block not yet cut or kept
	for _, c := range cut {
		if c.first.BitLen() != next.BitLen() || c.last.Less(next) {
			continue
		}
		if block.last.Less(c.first) {
			break
		}
		if next.Less(c.first) {
			out = append(out, addrRange{next, c.first.Prev()})
		}
		if !c.last.Less(block.last) {
			return out
		}
		next = c.last.Next()
	}
	return append(out, addrRange{next, block.last})
}

// everyPod reports whether a peer is every pod of every namespace: a namespaceSelector that
// selects every namespace (selectsEveryNamespace) with no podSelector or an empty one.
func everyPod(peer networkingv1.NetworkPolicyPeer) bool {
	return peer.NamespaceSelector != nil && selectsEveryNamespace(peer.NamespaceSelector) && (peer.PodSelector == nil || selectsAll(peer.PodSelector))
}

// selectsEveryNamespace reports whether a namespace selector selects every namespace: it is
// empty, or requires only that kubernetes.io/metadata.name exists, a label the API server gives
// every namespace.
func selectsEveryNamespace(sel *metav1.LabelSelector) bool {
	if len(sel.MatchLabels) > 0 {
		return false
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != corev1.LabelMetadataName || e.Operator != metav1.LabelSelectorOpExists {
			return false
		}
	}
	return true
}

// coversEveryTCPPort reports whether a rule's ports admit every TCP port (tcpPortRanges).
func coversEveryTCPPort(ports []networkingv1.NetworkPolicyPort) bool {
	r := tcpPortRanges(ports)
	return len(r) == 1 && r[0] == [2]int32{1, 65535}
}

// tcpPortRanges are the TCP ports a rule's ports admit, as sorted ranges that neither overlap nor
// meet. TCP is the protocol a port has when it names none; no ports at all, or an entry without
// a port number, admit every port of the protocol; a numbered entry admits one port, or a range
// up to endPort. A named port stands for whichever number the pod gives that name, so it admits
// no number here.
func tcpPortRanges(ports []networkingv1.NetworkPolicyPort) [][2]int32 {
	every := [][2]int32{{1, 65535}}
	if len(ports) == 0 {
		return every
	}
	var ranges [][2]int32
	for _, p := range ports {
		switch {
		case p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP:
			continue
		case p.Port == nil:
			return every
		case p.Port.Type != intstr.Int:
			continue
		}
		end := p.Port.IntVal
		if p.EndPort != nil && *p.EndPort > end {
			end = *p.EndPort
		}
		ranges = append(ranges, [2]int32{p.Port.IntVal, end})
	}
	slices.SortFunc(ranges, func(a, b [2]int32) int { return cmp.Compare(a[0], b[0]) })
	var merged [][2]int32
	for _, r := range ranges {
		if n := len(merged); n > 0 && r[0] <= merged[n-1][1]+1 {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// selectsAll reports whether a label selector is empty, which selects everything.
func selectsAll(sel *metav1.LabelSelector) bool {
	return len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0
}

// tlsCovers reports whether a TLS host entry covers a rule's host. Hosts compare without regard
// to case; a wildcard entry "*.example.com" covers exactly one more label ("shop.example.com",
// not "example.com" nor "a.shop.example.com"), and a wildcard rule host is covered only by the
// same wildcard.
func tlsCovers(tlsHost, host string) bool {
	tlsHost, host = strings.ToLower(tlsHost), strings.ToLower(host)
	if tlsHost == host {
		return true
	}
	suffix, ok := strings.CutPrefix(tlsHost, "*.")
	if !ok || strings.HasPrefix(host, "*.") {
		return false
	}
	label, rest, found := strings.Cut(host, ".")
	return found && label != "" && rest == suffix
}

// policyNames are the names of policies, in order.
func policyNames(policies []namespacePolicy) []string {
	names := make([]string, len(policies))
	for i, p := range policies {
		names[i] = p.obj.Name
	}
	return names
}

// pluralPolicies counts NetworkPolicies in words: "1 NetworkPolicy", "3 NetworkPolicies".
func pluralPolicies(n int) string {
	if n == 1 {
		return "1 NetworkPolicy"
	}
	return fmt.Sprintf("%d NetworkPolicies", n)
}

// rejection says why the API server rejects a NetworkPolicy, or "" when it does not, by the
// rules it has always enforced (pkg/apis/networking/validation, ValidateNetworkPolicySpec): a
// peer that names no pods, namespaces or ipBlock; an ipBlock beside another peer, or with a CIDR
// that does not parse; a protocol other than TCP, UDP and SCTP; a port number outside 1-65535, an
// invalid port name, an endPort below its port or beside a named or missing one; an ipBlock
// except that is not a CIDR strictly inside the block's (ValidateIPBlock); a label selector, of
// the pods or of a peer, that ValidateLabelSelector rejects (In or NotIn without values, Exists
// or DoesNotExist with values, an unknown operator, an invalid key or matchLabels value; an
// invalid value in an expression is let through, as the API server lets it through on an update
// of a policy that already had one); more than two policyTypes, or one other than Ingress and
// Egress. Such a policy is never created: a cluster has none, and in manifests it protects nothing.
func rejection(np *networkingv1.NetworkPolicy) string {
	spec := field.NewPath("spec")
	if why := rejectedSelector(&np.Spec.PodSelector, spec.Child("podSelector")); why != "" {
		return why
	}
	for i, r := range np.Spec.Ingress {
		if why := rejectedRule(spec.Child("ingress").Index(i), "from", r.From, r.Ports); why != "" {
			return why
		}
	}
	for i, r := range np.Spec.Egress {
		if why := rejectedRule(spec.Child("egress").Index(i), "to", r.To, r.Ports); why != "" {
			return why
		}
	}
	if len(np.Spec.PolicyTypes) > 2 {
		return spec.Child("policyTypes").String() + ": may not specify more than two policyTypes"
	}
	for i, t := range np.Spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			return fmt.Sprintf("%s: Unsupported value %q", spec.Child("policyTypes").Index(i), t)
		}
	}
	return ""
}

// refusal says why the API server refuses to create a NetworkPolicy, or "" when it does not: what
// it has always rejected (rejection), and in a manifest what it rejects on create alone
// (refusedOnCreate). In the operator's view (inv.Complete) the policy exists, so the API server
// took it, perhaps before those rules or through updates that kept the values they reject.
func refusal(inv *engine.Inventory, np *networkingv1.NetworkPolicy) string {
	if why := rejection(np); why != "" {
		return why
	}
	if inv.Complete {
		return ""
	}
	return refusedOnCreate(np)
}

// refusedOnCreate says why the API server refuses to create a NetworkPolicy that rejection lets
// through, or "" (ValidateNetworkPolicy, k8s.io/kubernetes v1.37.2 pkg/apis/networking/validation):
// its metadata (ValidateObjectMeta with ValidateNetworkPolicyName: a name that is not a DNS
// subdomain, an invalid label or annotation, ...); a value in a selector's expressions that is not
// a valid label value (ValidationOptionsForNetworking lets one through on an update of a policy
// whose podSelector already had one, never on create); an ipBlock cidr or except with leading
// zeros, an IPv4-mapped IPv6 address or bits set beyond its prefix (ValidateIPBlock's
// IsValidCIDRForLegacyField under StrictIPCIDRValidation, beta and on by default since 1.36; an
// update keeps the CIDRs the old policy had).
func refusedOnCreate(np *networkingv1.NetworkPolicy) string {
	if why := refusedMeta(&np.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain); why != "" {
		return why
	}
	strict := metav1validation.LabelSelectorValidationOptions{}
	selector := func(sel *metav1.LabelSelector, path *field.Path) string {
		if errs := metav1validation.ValidateLabelSelector(sel, strict, path); len(errs) > 0 {
			return errs[0].Error()
		}
		return ""
	}
	cidr := func(value string, path *field.Path) string {
		if errs := validation.IsValidCIDRForLegacyField(path, value, true, nil); len(errs) > 0 {
			return errs[0].Error()
		}
		return ""
	}
	spec := field.NewPath("spec")
	if why := selector(&np.Spec.PodSelector, spec.Child("podSelector")); why != "" {
		return why
	}
	peers := func(path *field.Path, peers []networkingv1.NetworkPolicyPeer) string {
		for i, p := range peers {
			at := path.Index(i)
			if why := selector(p.PodSelector, at.Child("podSelector")); why != "" {
				return why
			}
			if why := selector(p.NamespaceSelector, at.Child("namespaceSelector")); why != "" {
				return why
			}
			if p.IPBlock == nil {
				continue
			}
			if why := cidr(p.IPBlock.CIDR, at.Child("ipBlock", "cidr")); why != "" {
				return why
			}
			for j, e := range p.IPBlock.Except {
				if why := cidr(e, at.Child("ipBlock", "except").Index(j)); why != "" {
					return why
				}
			}
		}
		return ""
	}
	for i, r := range np.Spec.Ingress {
		if why := peers(spec.Child("ingress").Index(i).Child("from"), r.From); why != "" {
			return why
		}
	}
	for i, r := range np.Spec.Egress {
		if why := peers(spec.Child("egress").Index(i).Child("to"), r.To); why != "" {
			return why
		}
	}
	return ""
}

// rejectedRule is rejection of one ingress or egress rule, at path, whose peers are under peersName.
func rejectedRule(path *field.Path, peersName string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) string {
	for i, p := range ports {
		at := path.Child("ports").Index(i)
		switch {
		case p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP && *p.Protocol != corev1.ProtocolSCTP:
			return fmt.Sprintf("%s: Unsupported value %q", at.Child("protocol"), *p.Protocol)
		case p.Port == nil && p.EndPort != nil:
			return at.Child("endPort").String() + ": may not be specified when port is not specified"
		case p.Port == nil:
		case p.Port.Type != intstr.Int && p.EndPort != nil:
			return at.Child("endPort").String() + ": may not be specified when port is non-numeric"
		case p.Port.Type != intstr.Int:
			if msgs := validation.IsValidPortName(p.Port.StrVal); len(msgs) > 0 {
				return fmt.Sprintf("%s: Invalid value %q: %s", at.Child("port"), p.Port.StrVal, msgs[0])
			}
		case len(validation.IsValidPortNum(int(p.Port.IntVal))) > 0:
			return fmt.Sprintf("%s: Invalid value %d: %s", at.Child("port"), p.Port.IntVal, validation.IsValidPortNum(int(p.Port.IntVal))[0])
		case p.EndPort != nil && *p.EndPort < p.Port.IntVal:
			return at.Child("endPort").String() + ": must be greater than or equal to port"
		case p.EndPort != nil && len(validation.IsValidPortNum(int(*p.EndPort))) > 0:
			return fmt.Sprintf("%s: Invalid value %d: %s", at.Child("endPort"), *p.EndPort, validation.IsValidPortNum(int(*p.EndPort))[0])
		}
	}
	for i, p := range peers {
		at := path.Child(peersName).Index(i)
		if why := rejectedSelector(p.PodSelector, at.Child("podSelector")); why != "" {
			return why
		}
		if why := rejectedSelector(p.NamespaceSelector, at.Child("namespaceSelector")); why != "" {
			return why
		}
		switch {
		case p.PodSelector == nil && p.NamespaceSelector == nil && p.IPBlock == nil:
			return at.String() + ": must specify a peer"
		case p.IPBlock == nil:
		case p.PodSelector != nil || p.NamespaceSelector != nil:
			return at.String() + ": may not specify both ipBlock and another peer"
		case p.IPBlock.CIDR == "":
			return at.Child("ipBlock", "cidr").String() + ": Required value"
		default:
			if _, ok := cidrRange(p.IPBlock.CIDR); !ok {
				return fmt.Sprintf("%s: Invalid value %q: must be a valid CIDR", at.Child("ipBlock", "cidr"), p.IPBlock.CIDR)
			}
			for j, e := range p.IPBlock.Except {
				if why := rejectedExcept(p.IPBlock.CIDR, e); why != "" {
					return fmt.Sprintf("%s: Invalid value %q: %s", at.Child("ipBlock", "except").Index(j), e, why)
				}
			}
		}
	}
	return ""
}

// rejectedExcept says why the API server rejects an ipBlock's except entry, or "" when it does
// not: it must be a CIDR, whose address the block's net.IPNet contains, with a longer prefix
// (ValidateIPBlock, which compares them as Go's net package does).
func rejectedExcept(block, except string) string {
	_, b, err := netutils.ParseCIDRSloppy(block)
	if err != nil {
		return "must be a valid CIDR"
	}
	_, e, err := netutils.ParseCIDRSloppy(except)
	if err != nil {
		return "must be a valid CIDR"
	}
	blockOnes, _ := b.Mask.Size()
	exceptOnes, _ := e.Mask.Size()
	if !b.Contains(e.IP) || blockOnes >= exceptOnes {
		return "must be a strict subset of `cidr`"
	}
	return ""
}

// rejectedSelector is why the API server rejects a NetworkPolicy's label selector at path, or ""
// (ValidateLabelSelector; an invalid value in an expression is let through, see rejection).
func rejectedSelector(sel *metav1.LabelSelector, path *field.Path) string {
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: true}, path)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Error()
}

// acceptedEarlierPolicy is the last copy of NetworkPolicy o given before it (Inventory.Earlier)
// that the API server takes (refusal), or nil: the policy as the cluster holds it when it refuses
// o's update.
func acceptedEarlierPolicy(inv *engine.Inventory, o *engine.Object) (*engine.Object, *networkingv1.NetworkPolicy) {
	earlier := inv.Earlier(o)
	for i := len(earlier) - 1; i >= 0; i-- {
		if np, ok := earlier[i].Obj.(*networkingv1.NetworkPolicy); ok && refusal(inv, np) == "" {
			return earlier[i], np
		}
	}
	return nil, nil
}

// rejectedPolicies are the NetworkPolicies of a namespace the API server rejects (refusal),
// which networkPolicyIndex leaves out, as "NetworkPolicy "name", which the API server rejects
// (why)"; once per evaluation, in the same pass as the index.
func rejectedPolicies(inv *engine.Inventory, namespace string) []string {
	return namespacePolicies(inv, namespace).rejected
}

// leftOut says, to end a message that the NetworkPolicies of a namespace leave its pods open,
// which of them the API server rejects and the check left out (rejectedPolicies), or "".
func leftOut(inv *engine.Inventory, namespace string) string {
	rejected := rejectedPolicies(inv, namespace)
	switch len(rejected) {
	case 0:
		return ""
	case 1:
		return "; " + rejected[0] + ", is left out: it is never created"
	}
	return "; " + few(rejected, ", ") + " are left out: they are never created"
}

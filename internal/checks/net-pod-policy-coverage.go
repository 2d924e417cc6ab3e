package checks

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netPodPolicyCoverage = &engine.Check{
	ID:    "net-pod-policy-coverage",
	Title: "Every pod is selected by a NetworkPolicy",
	Description: "Kubernetes lets every pod talk to every other pod until a NetworkPolicy selects it. " +
		"A pod no policy selects accepts connections from anywhere in the cluster and can reach " +
		"anything, so the network boundary (CC6.6) does not apply to it. A policy selects the pod " +
		"when its podSelector matches the pod template's labels (an empty podSelector selects every " +
		"pod of the namespace) with those the controller adds to every pod it creates " +
		"(pod-template-hash on a Deployment's pods; controller-revision-hash, pod name and index on a " +
		"StatefulSet's; controller-revision-hash and pod-template-generation on a DaemonSet's; job-name and controller-uid on a " +
		"Job's): a selector requiring them absent selects none of the pods, and one whose verdict " +
		"turns on their values, which no manifest gives, leaves the pod NotAssessed; and it governs " +
		"ingress: policyTypes lists Ingress, or is absent (the API server then defaults it to " +
		"Ingress). A policy with policyTypes [Egress] only leaves the pod's ingress open to all, so " +
		"it does not count. Nor do policies that admit every source on every port, one alone or several together (an ingress rule with no from, or one whose peer " +
		"is every pod of every namespace (namespaceSelector {}, or one requiring only that " +
		"kubernetes.io/metadata.name exists, which every namespace carries), or whose peers together " +
		"select every pod of every namespace (a label and its absence; the own namespace and every " +
		"namespace not named so; a peer that selects the pods of namespaces other than the policy's own by their labels selects every pod of those namespaces, " +
		"whose admins label their own pods, as the pods labelled app=prometheus of every namespace admit any pod its owner labels so), or whose ipBlocks, less their exceptions, add up to every " +
		"IPv4 or every IPv6 address (an IPv4-mapped block such as ::ffff:0.0.0.0/96 is the IPv4 block it maps, as Go's net package reads it), and with no ports or ports that cover every TCP port: an entry " +
		"without a port number, or ranges up to endPort from 1 to 65535), which make the pod's " +
		"ingress as open as no policy. Policies with too many rules, ports and addresses to judge " +
		"(tens of thousands), or a namespace whose policies together take too long to judge (a few built to cost the most " +
		"each, judged in the order of their names until the namespace's bound is spent), leave the pod NotAssessed. A policy the API server rejects (a peer that names nothing, an ipBlock " +
		"beside a selector, an except outside its ipBlock, a malformed label selector, an unknown protocol or policy type, a bad port; in a manifest also a name that is not a DNS subdomain, an invalid label, " +
		"a selector value that is not a label value, a CIDR with bits beyond its prefix) is never created and counts for nothing, " +
		"as does, in a manifest, a Cilium, Calico or admin network policy whose metadata the API server refuses (for a custom resource, a name " +
		"that is not a DNS subdomain, an invalid label or annotation), or an admin network policy whose spec its CRD refuses (a priority " +
		"outside 0 to 1000, a ClusterNetworkPolicy's tier other than Admin and Baseline, an action outside its kind's enum, a rule without " +
		"from, a subject or peer that is not exactly one of namespaces and pods). " +
		"A CNI's own policies add to what NetworkPolicies allow, and the check reads two: Cilium's CiliumNetworkPolicy " +
		"(Cilium admits what any allow policy selecting the pod admits; only its deny policies take precedence) and Calico's " +
		"NetworkPolicy (projectcalico.org/v3 or crd.projectcalico.org/v1: Calico acts on the first Allow or Deny rule in order, " +
		"Kubernetes NetworkPolicies being order 1000 of its default tier). One that selects the pod and admits every source on every " +
		"port fails it (Cilium: an ingress rule without toPorts from the entity all, cluster, world, world-ipv4 or world-ipv6, a CIDR of every " +
		"address, or endpoints of every namespace; Calico: an Allow rule without ports, protocol other than TCP or destination, " +
		"from no source, nets of every address or namespaceSelector all(), when no policy selecting the pod has a Deny or Pass " +
		"rule, a Cilium ingressDeny, or a tier of its own). Any other such policy that may select the pod and allows ingress leaves " +
		"it NotAssessed, naming the policy, as does one that governs its ingress where no NetworkPolicy does (the CNI isolates the " +
		"pod): the check does not reduce their languages to NetworkPolicy semantics. The Network Policy API's cluster-wide policies " +
		"(policy.networking.k8s.io/v1alpha1) are read as the network plugin that implements them enforces them: AdminNetworkPolicies " +
		"decide before any NetworkPolicy or CNI policy, by priority (0 first) and in the order of their rules, the first rule that matches " +
		"deciding (Allow admits whatever the NetworkPolicies say, Deny drops, Pass hands the traffic to the NetworkPolicies), so one that " +
		"selects the pod and allows every pod of every namespace on every port, alone or with others whose peers together select every " +
		"pod, fails it, and one whose first such rule is a Deny passes it; the BaselineAdminNetworkPolicy (the one named default) decides " +
		"for a pod no NetworkPolicy selects, and its Deny from every pod of every namespace, first of its rules to match them all, passes " +
		"it (their peers are the cluster's pods, so neither reaches addresses outside them). An Allow on some ports, or of a policy that " +
		"may select the pod, among Allows that together admit every pod, two policies of one tier and priority that may select it (or an " +
		"AdminNetworkPolicy and an Admin-tier ClusterNetworkPolicy, which no release orders against each other), " +
		"a Deny or Pass before an Allow from every pod, Pass rules that may match every pod (on some ports, or with the rules before them) before a Deny from every pod, or a rule of a kind the check does not read, leave the pod NotAssessed, naming the " +
		"policy. " +
		"An Allow or Pass from a pods peer is read as from every pod of the namespaces its namespaceSelector selects: each namespace's admins set their own pods' labels, so a peer of the pods labelled app=prometheus in every namespace admits any pod of any namespace its admins label so. " +
		"The API's ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2 and v1beta1), which replaces both from its v0.2.0, is read " +
		"the same way: in its Admin tier as an AdminNetworkPolicy, in its Baseline tier as the BaselineAdminNetworkPolicy, each tier's " +
		"policies by priority (0 first), its Accept as Allow, a pods selector without a namespaceSelector selecting every namespace; " +
		"a Baseline Pass skips the rest of the Baseline tier, and Kubernetes' default, which admits everything, follows. " +
		"Calico's GlobalNetworkPolicy (cluster-scoped) is read as its NetworkPolicy, for the pods of the namespaces its " +
		"namespaceSelector selects and its selector selects (which may name the namespace, projectcalico.org/namespace, and its labels, " +
		"prefixed pcns.); a Calico policy of the default tier that selects the pod for ingress with no Allow or Pass rule, where no CNI " +
		"policy may allow it ingress, passes a pod no NetworkPolicy selects (Calico drops at the end of the tier what no policy allowed); " +
		"a Pass rule may skip the NetworkPolicies and leaves the pod NotAssessed. Cilium's CiliumClusterwideNetworkPolicy (cluster-scoped) " +
		"is read as its CiliumNetworkPolicy, for the pods its endpointSelectors select in every namespace (which may name the namespace, " +
		"io.kubernetes.pod.namespace, and its labels, io.cilium.k8s.namespace.labels.), an empty fromEndpoints selector admitting every " +
		"endpoint of the cluster; its nodeSelector rules govern hosts, not pods. So does a Cilium policy that selects the pod with an " +
		"ingress section and allows nothing (Cilium's default deny, unless its enableDefaultDeny.ingress is false), where no CNI policy " +
		"may allow it ingress; a Cilium rule with enableDefaultDeny.ingress false that allows and denies nothing is none. " +
		"In a scan a cluster-wide policy of the files (an AdminNetworkPolicy, the BaselineAdminNetworkPolicy, a ClusterNetworkPolicy, a " +
		"CiliumClusterwideNetworkPolicy, a Calico GlobalNetworkPolicy) passes no pod it denies: only cluster administrators " +
		"create them, so the cluster need not hold the copy, and the pod is NotAssessed, naming it; one that admits every " +
		"source still fails it. " +
		"In a scan a Calico NetworkPolicy or GlobalNetworkPolicy written under one name in both projectcalico.org/v3 and " +
		"crd.projectcalico.org/v1 (or there as default.<name>) with different specs may be either copy in the cluster, or both (Calico's " +
		"API server stores v3 in the v1 CRD of the same name from 3.32 on, in default.<name> before, the later write staying): what either admits counts, and neither " +
		"copy's default deny or Deny rules do, a default deny in one copy leaving NotAssessed what would otherwise fail." +
		supporting,
	Remediation: "Add a NetworkPolicy in the workload's namespace whose podSelector matches the pod labels " +
		"(or a namespace-wide default-deny policy with an empty podSelector), and allow only the traffic the workload needs.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  workload,
	Reads:    []string{"NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Workload.Pod().HostNetwork {
			ctx.NotApplicable("", "the pod uses the host's network, which NetworkPolicies do not govern (see wl-host-network)")
			return
		}
		known, unknownLabels := knownPodLabels(ctx.Inventory, o)
		// The namespace's labels are read once, and only where an admin policy is in view (most
		// clusters have none): every workload is judged here.
		var nsLabels labels.Set
		var nsUnknown, nsRead bool
		adminSelectsPod := func(p adminPolicy) podSelection {
			if !nsRead {
				nsLabels, nsUnknown = namespaceLabels(ctx.Inventory, o.Namespace)
				nsRead = true
			}
			return adminSelects(p, nsLabels, nsUnknown, known, unknownLabels)
		}
		// fail fails the pod, unless an AdminNetworkPolicy of a scan's files denies it ahead of
		// every NetworkPolicy (closedInFiles): that copy need not be the cluster's, and what
		// would fail the pod without it leaves it NotAssessed, naming both.
		var closedInFiles *adminPolicy
		fail := func(format string, args ...any) {
			if closedInFiles != nil {
				ctx.NotAssessed("", clusterPolicyInFiles("ahead of its NetworkPolicies", closedInFiles.kind, closedInFiles.obj.Name)+
					"; without it: "+fmt.Sprintf(format, args...))
				return
			}
			ctx.Fail("", format, args...)
		}
		// The AdminNetworkPolicies decide before every NetworkPolicy and CNI policy.
		admin := judgeAdmin(adminPolicies(ctx.Inventory), adminSelectsPod)
		switch {
		case admin.open != "":
			ctx.Fail("", "%s, ahead of every NetworkPolicy: the pod's ingress is as open as with no policy, whatever its NetworkPolicies allow", admin.open)
			return
		case len(admin.undecided) > 0:
			ctx.NotAssessed("", fmt.Sprintf("%s may decide the pod's ingress ahead of its NetworkPolicies "+adminUndecided,
				few(admin.undecided, ", ")))
			return
		case admin.closed != "" && !ctx.Inventory.Complete:
			// The copy need not be the cluster's: the pod is judged as without it, and what
			// would fail it is NotAssessed instead (fail).
			closedInFiles = admin.closedBy
		case admin.closed != "":
			// Denied every pod of every namespace before any NetworkPolicy is read: what
			// the NetworkPolicies and CNI policies allow never reaches the pod.
			ctx.Pass("")
			return
		}
		cni := judgeCNI(cniPoliciesIn(ctx.Inventory, o.Namespace), func(p cniPolicy) podSelection { return cniSelects(p, known, unknownLabels) })
		if cni.open != nil {
			fail("%s admits ingress from anywhere (%s): the pod's ingress is as open as with no policy, whatever its NetworkPolicies allow",
				cni.open.name(), cni.open.open)
			return
		}
		// unpoliced fails a pod no NetworkPolicy restricts, unless a CNI policy selects it and
		// governs its ingress: what it admits is not judged.
		// The BaselineAdminNetworkPolicy decides the ingress of a pod no NetworkPolicy selects
		// for ingress.
		unpoliced := func(format string, args ...any) {
			if len(cni.undecided) == 0 && slices.ContainsFunc(cni.governing, func(p cniPolicy) bool { return p.denies }) {
				// A Calico policy of the default tier, or a Cilium policy in default deny,
				// selects the pod and allows nothing (cniPolicy.denies), and no CNI policy may
				// allow it ingress: the CNI drops what no policy allowed, and no NetworkPolicy
				// allows the pod any. In a scan, a namespace's own policy must be among them.
				i := slices.IndexFunc(cni.governing, func(p cniPolicy) bool { return p.denies && (ctx.Inventory.Complete || p.obj.Namespace != "") })
				if i < 0 {
					p := cni.governing[slices.IndexFunc(cni.governing, func(p cniPolicy) bool { return p.denies })]
					ctx.NotAssessed("", clusterPolicyInFiles("where no NetworkPolicy restricts its ingress", p.kind, p.obj.Name))
					return
				}
				ctx.Pass("")
				return
			}
			if len(cni.governing) > 0 {
				ctx.NotAssessed("", fmt.Sprintf("no NetworkPolicy restricts the pod's ingress, but %s it and governs its ingress (the CNI isolates the pod and admits what the policy allows), which this check does not judge beyond an allow from everywhere",
					cniNames(cni.governing, "selects", "select")))
				return
			}
			baseline := judgeAdmin(baselinePolicy(ctx.Inventory), adminSelectsPod)
			switch {
			case len(baseline.undecided) > 0:
				ctx.NotAssessed("", fmt.Sprintf("no NetworkPolicy restricts the pod's ingress, and %s may decide it (a rule this check does not read), which this check does not judge",
					few(baseline.undecided, ", ")))
				return
			case baseline.closed != "" && len(cni.undecided) > 0:
				ctx.NotAssessed("", fmt.Sprintf("%s the pod and allow ingress beside %s, which denies it every pod of every namespace: this check does not judge what they admit beyond an allow from everywhere",
					cniNames(cni.undecided, "may select", "may select"), baseline.closed))
				return
			case baseline.closed != "" && !ctx.Inventory.Complete:
				ctx.NotAssessed("", clusterPolicyInFiles("where no NetworkPolicy restricts its ingress", baseline.closedBy.kind, baseline.closedBy.obj.Name))
				return
			case baseline.closed != "":
				ctx.Pass("")
				return
			}
			fail(format, args...)
		}
		policies := networkPolicyIndex(ctx.Inventory, o.Namespace)
		if len(policies.items) == 0 {
			unpoliced("no NetworkPolicy in namespace %q: the pods accept traffic from anywhere in the cluster%s", o.Namespace, leftOut(ctx.Inventory, o.Namespace))
			return
		}
		podSet, unknown, selecting, maybe := policiesSelectingPods(ctx.Inventory, o)
		egressOnly := 0
		var governing, maybeGoverning []namespacePolicy
		for _, p := range selecting {
			if governsIngress(p.policy) {
				governing = append(governing, p)
			} else {
				egressOnly++
			}
		}
		for _, p := range maybe {
			if governsIngress(p.policy) {
				maybeGoverning = append(maybeGoverning, p)
			}
		}
		single, why, together, judged := openIngressOf(ctx.Inventory, o.Namespace, governing)
		switch {
		case single != nil:
			fail("NetworkPolicy %q admits ingress from anywhere (%s): the pod's ingress is as open as with no policy", single.obj.Name, why)
			return
		case together != nil:
			fail("NetworkPolicies %s together admit ingress from anywhere (for every TCP port, rules that admit every source): the pod's ingress is as open as with no policy",
				quoteList(policyNames(together)))
			return
		}
		if len(maybeGoverning) > 0 {
			// Policies add up: those that may select the pods decide nothing only when the pods
			// are governed without them and stay closed with them.
			single, _, together, judgedAll := openIngressOf(ctx.Inventory, o.Namespace, append(slices.Clone(governing), maybeGoverning...))
			if len(governing) == 0 || single != nil || together != nil || !judgedAll {
				ctx.NotAssessed("", fmt.Sprintf("NetworkPolicies %s select pods by labels their controller sets (%s), whose values the workload does not give: whether they select its pods, and so whether its ingress is restricted, is unknown",
					quoteList(policyNames(maybeGoverning)), few(slices.Sorted(maps.Keys(unknown)), ", ")))
				return
			}
		}
		if !judged {
			ctx.NotAssessed("", "the NetworkPolicies that select the pod have too many ingress rules, ports and addresses to judge whether they admit ingress from anywhere")
			return
		}
		if len(governing) > 0 {
			if len(cni.undecided) > 0 {
				ctx.NotAssessed("", fmt.Sprintf("%s the pod and allow ingress beside its NetworkPolicies (%s): this check does not judge what they admit beyond an allow from everywhere",
					cniNames(cni.undecided, "may select", "may select"), cniHow(cni.undecided)))
				return
			}
			ctx.Pass("")
			return
		}
		if egressOnly > 0 {
			unpoliced("only Egress NetworkPolicies (policyTypes: [Egress]) select the pod labels {%s} in namespace %q: its ingress is open to all%s",
				podSet.String(), o.Namespace, leftOut(ctx.Inventory, o.Namespace))
			return
		}
		unpoliced("no NetworkPolicy in namespace %q selects the pod labels {%s} (the namespace has %s)%s%s",
			o.Namespace, podSet.String(), pluralPolicies(len(policies.items)), controllerSet(ctx.Inventory, o.Namespace, unknown),
			leftOut(ctx.Inventory, o.Namespace))
	},
}

// controllerSet says, when a NetworkPolicy of the namespace has requirements on the labels a
// workload's controller sets on its pods (unknown), that they do not select the pods either.
func controllerSet(inv *engine.Inventory, namespace string, unknown map[string]bool) string {
	if !slices.ContainsFunc(controllerLabelPolicies(inv, namespace), func(p namespacePolicy) bool { return mentionsAny(p.selector, unknown) }) {
		return ""
	}
	return "; nor do the labels its controller sets on the pods (" + few(slices.Sorted(maps.Keys(unknown)), ", ") + ") make a policy select them"
}

// clusterPolicyInFiles says why a scan passes no pod on a cluster-wide network policy of its files
// (an AdminNetworkPolicy or the BaselineAdminNetworkPolicy, a CiliumClusterwideNetworkPolicy, a
// Calico GlobalNetworkPolicy) that alone keeps the pod closed: they are cluster-scoped, and only
// cluster administrators create them (no role of Kubernetes v1.37.2's bootstrap policy that a
// namespace's users hold grants cluster-scoped objects, and none of these projects aggregates its
// cluster-wide kinds into admin or edit), so a team cannot apply the copy its files ship, and in a
// cluster without it the pod accepts traffic from anywhere. One of the files that admits every
// source still fails the pod. Until December 2026 such a copy passed the pod.
// where says when the policy decides ("ahead of its NetworkPolicies").
func clusterPolicyInFiles(where, kind, name string) string {
	return fmt.Sprintf("%s %q denies the pod's ingress %s, and %s %q in the scanned input need not be the cluster's: only cluster administrators create cluster-wide network policies, and the cluster may hold none of that name",
		kind, name, where, kind, name)
}

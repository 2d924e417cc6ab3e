package checks

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netNamespaceDefaultDeny = &engine.Check{
	ID:    "net-namespace-default-deny",
	Title: "Namespaces deny ingress by default",
	Description: "A default-deny ingress NetworkPolicy (an empty podSelector, policy type Ingress, no " +
		"ingress rules) makes every pod of the namespace unreachable unless another policy allows the " +
		"traffic, so a new workload starts closed instead of open (CC6.6, CIS 5.3.2). Policies add up: " +
		"one that selects every pod (podSelector {}, or one made only of exclusions, DoesNotExist or " +
		"NotIn, which selects every pod that does not opt out, or one that selects the pods of every " +
		"Deployment, StatefulSet, DaemonSet or Job by a label set on all of them, such as " +
		"pod-template-hash or batch.kubernetes.io/job-name Exists) and admits every source (no from, " +
		"peers that together select every pod of every namespace, a peer of other namespaces' pods by their labels, which those namespaces' admins set, selecting every pod of them, or ipBlocks that add up to every " +
		"address) on every port (no ports, or ports that cover every TCP port) undoes the deny, as do several that do " +
		"so together; policies with too many rules, ports and addresses to judge (tens of " +
		"thousands), or policies that together take too long to judge, leave the namespace NotAssessed. A policy the API server rejects (a peer that names nothing, an ipBlock " +
		"beside a selector, an except outside its ipBlock, a malformed label selector, an unknown protocol or policy type, a bad port; in a manifest also a name that is not a DNS subdomain, an invalid label, " +
		"a selector value that is not a label value, a CIDR with bits beyond its prefix) is never created and counts for nothing, " +
		"as does, in a manifest, a Cilium, Calico or admin network policy whose metadata the API server refuses (for a custom resource, a name " +
		"that is not a DNS subdomain, an invalid label or annotation), or an admin network policy whose spec its CRD refuses (a priority " +
		"outside 0 to 1000, a ClusterNetworkPolicy's tier other than Admin and Baseline, an action outside its kind's enum, a rule without " +
		"from, a subject or peer that is not exactly one of namespaces and pods). " +
		"A CNI's own policies add to what NetworkPolicies allow: a CiliumNetworkPolicy or a Calico NetworkPolicy (projectcalico.org/v3 " +
		"or crd.projectcalico.org/v1) that selects every pod, or those of every workload of a kind, and admits every source on every port " +
		"(as net-pod-policy-coverage reads them) undoes the deny; any other such policy that may select every new pod and allows ingress " +
		"leaves the namespace NotAssessed, naming the policy. The Network Policy API's cluster-wide policies (policy.networking.k8s.io/v1alpha1) " +
		"are read as the network plugin that implements them enforces them. AdminNetworkPolicies decide before any NetworkPolicy, by priority " +
		"(0 first) and in the order of their rules, the first rule that matches deciding (Allow admits, whatever the NetworkPolicies say; Deny " +
		"drops; Pass hands the traffic to the NetworkPolicies): one that selects every new pod of the namespace (or those of every workload of a " +
		"kind) and allows every pod of every namespace on every port (no ports), alone or with others whose peers together select every pod, " +
		"undoes the deny, and one whose first such rule is a Deny is a default deny. The BaselineAdminNetworkPolicy (the one named default) " +
		"decides for the pods no NetworkPolicy selects: its Deny from every pod of every namespace, first of its rules to match them all, stands " +
		"for the namespace's default deny (their peers are the cluster's pods, so neither reaches addresses outside them). An Allow on some " +
		"ports, or of a policy that may select the pods, among Allows that together admit every pod, two policies of one tier and " +
		"priority that may select them (or an AdminNetworkPolicy and an Admin-tier ClusterNetworkPolicy, which no release orders against each other), a Deny or Pass before an Allow from every pod, Pass rules that may match every pod (on some ports, or with the rules before them) before a Deny from every pod, or a rule of a kind the check does not read, leave the " +
		"namespace NotAssessed, naming the policy. " +
		"An Allow or Pass from a pods peer is read as from every pod of the namespaces its namespaceSelector selects: each namespace's admins set their own pods' labels, so a peer of the pods labelled app=prometheus in every namespace admits any pod of any namespace its admins label so. " +
		"The API's ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2 and v1beta1), which replaces both from its v0.2.0, is read " +
		"the same way: in its Admin tier as an AdminNetworkPolicy, in its Baseline tier as the BaselineAdminNetworkPolicy, each tier's " +
		"policies by priority (0 first), its Accept as Allow, a pods selector without a namespaceSelector selecting every namespace; " +
		"a Baseline Pass skips the rest of the Baseline tier, and Kubernetes' default, which admits everything, follows. " +
		"Calico's GlobalNetworkPolicy (cluster-scoped) is read as its NetworkPolicy, for the pods " +
		"of the namespaces its namespaceSelector selects and its selector selects (which may name the namespace, projectcalico.org/namespace, " +
		"and its labels, prefixed pcns.): one that admits every source on every port undoes the deny, and one of the default tier that selects " +
		"every pod for ingress with no Allow or Pass rule is a default deny (Calico drops at the end of the tier what no policy allowed), as is " +
		"such a Calico NetworkPolicy; a Pass rule skips the NetworkPolicies' deny and leaves the namespace NotAssessed, naming the policy. " +
		"Cilium's CiliumClusterwideNetworkPolicy (cluster-scoped) is read as its CiliumNetworkPolicy, for the pods its endpointSelectors " +
		"select in every namespace (which may name the namespace, io.kubernetes.pod.namespace, and its labels, io.cilium.k8s.namespace.labels.), " +
		"an empty fromEndpoints selector admitting every endpoint of the cluster; its nodeSelector rules govern hosts, not pods. A Cilium " +
		"policy that selects every pod with an ingress section and allows nothing (Cilium's own default deny: endpointSelector {} and " +
		"ingress [{}], or an ingressDeny from everything) is a default deny, unless its enableDefaultDeny.ingress is false. " +
		"In a scan a Calico NetworkPolicy or GlobalNetworkPolicy written under one name in both projectcalico.org/v3 and " +
		"crd.projectcalico.org/v1 (or there as default.<name>) with different specs may be either copy in the cluster, or both (Calico's " +
		"API server stores v3 in the v1 CRD of the same name from 3.32 on, in default.<name> before, the later write staying): what either admits counts, and neither " +
		"copy's default deny or Deny rules do, a default deny in one copy leaving NotAssessed what would otherwise fail." +
		supporting,
	Remediation: "Add a NetworkPolicy to the namespace with podSelector: {}, policyTypes: [Ingress] and no ingress rules, " +
		"then allow the traffic each workload needs with further policies.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  []string{"Namespace"},
	Reads:    []string{"NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notNamespace(ctx, o) {
			return
		}
		// The AdminNetworkPolicies decide before every NetworkPolicy; the
		// BaselineAdminNetworkPolicy after them, for the pods no NetworkPolicy selects.
		admin := judgeAdminNewPods(ctx.Inventory, o.Name, adminPolicies(ctx.Inventory))
		switch {
		case admin.open != "":
			ctx.Fail("", "%s to every pod, or those of every workload of a kind, ahead of every NetworkPolicy: it undoes any default deny", admin.open)
			return
		case len(admin.undecided) > 0:
			ctx.NotAssessed("", fmt.Sprintf("%s may decide the ingress of every new pod ahead of the NetworkPolicies "+adminUndecided,
				few(admin.undecided, ", ")))
			return
		case admin.closed != "":
			ctx.Pass("")
			return
		}
		policies := networkPoliciesIn(ctx.Inventory, o.Name)
		cniPolicies := cniPoliciesIn(ctx.Inventory, o.Name)
		if !slices.ContainsFunc(policies, func(p namespacePolicy) bool { return isDefaultDenyIngress(p.policy) }) &&
			!slices.ContainsFunc(cniPolicies, deniesEveryNewPod) {
			baseline := judgeAdminNewPods(ctx.Inventory, o.Name, baselinePolicy(ctx.Inventory))
			switch {
			case len(baseline.undecided) > 0:
				ctx.NotAssessed("", fmt.Sprintf("no NetworkPolicy denies ingress by default, and %s may decide the ingress of the pods no NetworkPolicy selects (a rule this check does not read), which this check does not judge",
					few(baseline.undecided, ", ")))
				return
			case baseline.closed != "":
				// A cluster-wide default deny: judge what the NetworkPolicies and CNI
				// policies open, as beside a NetworkPolicy default deny.
			case slices.ContainsFunc(cniPolicies, contestedDefaultDeny):
				p := cniPolicies[slices.IndexFunc(cniPolicies, contestedDefaultDeny)]
				ctx.NotAssessed("", fmt.Sprintf("no NetworkPolicy denies ingress by default, and %s denies every new pod ingress by default in one copy only: whether the cluster holds that copy turns on Calico's version and install",
					p.name()))
				return
			case len(policies) == 0:
				ctx.Fail("", "namespace has no NetworkPolicy at all: every pod accepts traffic from anywhere in the cluster%s", leftOut(ctx.Inventory, o.Name))
				return
			default:
				ctx.Fail("", "namespace has %s but none denies ingress by default (empty podSelector, policyTypes Ingress, no ingress rules)%s",
					pluralPolicies(len(policies)), leftOut(ctx.Inventory, o.Name))
				return
			}
		}
		// A new workload's pods carry no label the policies can count on but those set on every
		// pod of its kind (newPodLabels: pod-template-hash on a Deployment's, job-name on a
		// Job's): a policy selects every new workload of a kind when it selects pods with those
		// labels, whatever their values, and no others (a podSelector made only of exclusions,
		// DoesNotExist or NotIn, selects every pod that does not opt out, as a new workload does not).
		judged := true
		for _, kind := range newWorkloadKinds {
			var governing []namespacePolicy
			for _, p := range policies {
				if governsIngress(p.policy) && selectsPods(p.selector, labels.Set{}, newPodLabels(kind)) == selectsYes {
					governing = append(governing, p)
				}
			}
			single, why, together, ok := openIngressOf(ctx.Inventory, o.Name, governing)
			switch {
			case single != nil:
				ctx.Fail("", "NetworkPolicy %q selects %s and admits ingress from anywhere (%s): it undoes the default deny",
					single.obj.Name, newPodsSelected(*single, kind), why)
				return
			case together != nil:
				ctx.Fail("", "NetworkPolicies %s select %s and together admit ingress from anywhere (for every TCP port, rules that admit every source): they undo the default deny",
					quoteList(policyNames(together)), everyPodOf(kind))
				return
			}
			judged = judged && ok
		}
		// A CNI policy that selects every new pod, or those of every workload of a kind, adds to
		// what the NetworkPolicies allow them (cniPolicy).
		cni := judgeCNI(cniPolicies, func(p cniPolicy) podSelection {
			best := selectsNot
			for _, kind := range newWorkloadKinds {
				best = max(best, cniSelects(p, labels.Set{}, newPodLabels(kind)))
			}
			return best
		})
		if cni.open != nil {
			ctx.Fail("", "%s selects every pod, or those of every workload of a kind, and admits ingress from anywhere (%s): it undoes the default deny",
				cni.open.name(), cni.open.open)
			return
		}
		if len(cni.undecided) > 0 {
			ctx.NotAssessed("", fmt.Sprintf("%s every new pod and allow it ingress beside the NetworkPolicies (%s): this check does not judge whether they undo the default deny beyond an allow from everywhere",
				cniNames(cni.undecided, "may select", "may select"), cniHow(cni.undecided)))
			return
		}
		if !judged {
			ctx.NotAssessed("", "the NetworkPolicies that select every pod, or every pod of a kind of workload, have too many ingress rules, ports and addresses to judge whether they undo the default deny")
			return
		}
		ctx.Pass("")
	},
}

// deniesEveryNewPod reports whether a CNI policy (a Calico policy of the default tier, a Cilium
// policy) is a default deny of the namespace (cniPolicy.denies): it surely selects every new
// pod, of a workload of any kind.
func deniesEveryNewPod(p cniPolicy) bool {
	if !p.denies {
		return false
	}
	for _, kind := range newWorkloadKinds {
		if cniSelects(p, labels.Set{}, newPodLabels(kind)) != selectsYes {
			return false
		}
	}
	return true
}

// contestedDefaultDeny reports whether p, a copy of a Calico policy written in both Calico groups
// with different specs (calicoContested), would be a default deny of the namespace were it
// surely the cluster's (deniesEveryNewPod).
func contestedDefaultDeny(p cniPolicy) bool {
	if !p.contested || !p.heldDenies {
		return false
	}
	p.denies = true
	return deniesEveryNewPod(p)
}

// newWorkloadKinds are the kinds of workload whose new pods a NetworkPolicy can tell apart by the
// labels set on every one of them (newPodLabels), after "" for a pod of any kind.
var newWorkloadKinds = []string{"", "Deployment", "StatefulSet", "DaemonSet", "Job"}

// newPodLabels are the labels the pods of a new workload of a kind carry beside its template's,
// whatever their values (false: every pod carries it), as workloadPodLabels gives them: those its
// controller sets (controllerPodLabels), and of a Job (a CronJob's too) those the API server adds
// to its template unless spec.manualSelector is true, as it is not unless its author opts out
// (pkg/registry/batch/job/strategy.go, generateSelector).
func newPodLabels(kind string) map[string]bool {
	if kind == "Job" {
		return newJobPodLabels
	}
	return controllerPodLabels[kind]
}

var newJobPodLabels = map[string]bool{batchv1.JobNameLabel: false, "job-name": false, batchv1.ControllerUidLabel: false,
	"controller-uid": false, batchv1.JobCompletionIndexAnnotation: true}

// newPodsSelected says which pods of a new workload a policy selects: every pod, every pod that
// does not carry the labels its podSelector excludes, or those of every workload of a kind, by
// the labels set on all of them.
func newPodsSelected(p namespacePolicy, kind string) string {
	if !p.selector.Matches(labels.Set{}) {
		set := newPodLabels(kind)
		var keys []string
		reqs, _ := p.selector.Requirements()
		for _, r := range reqs {
			if _, ok := set[r.Key()]; ok && !slices.Contains(keys, r.Key()) {
				keys = append(keys, r.Key())
			}
		}
		slices.Sort(keys)
		setter := "the " + kind + " controller sets on all of them"
		if kind == "Job" {
			setter = "the API server sets on all of them unless spec.manualSelector is true"
		}
		return fmt.Sprintf("the pods of every %s (%s, which %s)", kind, few(keys, ", "), setter)
	}
	if selectsAll(&p.policy.Spec.PodSelector) {
		return "every pod"
	}
	return "every pod without the labels its podSelector excludes"
}

// everyPodOf is "every pod", or of a kind of workload, "the pods of every" one of that kind.
func everyPodOf(kind string) string {
	if kind == "" {
		return "every pod"
	}
	return "the pods of every " + kind
}

// judgeAdminNewPods is judgeAdmin for the pods of a new workload of the namespace, of each kind
// (newWorkloadKinds): open when the policies open those of some kind, undecided when they may
// decide those of some kind, closed only when they deny those of every kind.
func judgeAdminNewPods(inv *engine.Inventory, namespace string, policies []adminPolicy) adminIngress {
	var out adminIngress
	if len(policies) == 0 {
		return out
	}
	nsLabels, nsUnknown := namespaceLabels(inv, namespace)
	closed, allClosed := "", true
	for _, kind := range newWorkloadKinds {
		a := judgeAdmin(policies, func(p adminPolicy) podSelection {
			return adminSelects(p, nsLabels, nsUnknown, labels.Set{}, newPodLabels(kind))
		})
		switch {
		case a.open != "":
			return adminIngress{open: a.open}
		case len(a.undecided) > 0:
			for _, n := range a.undecided {
				if !slices.Contains(out.undecided, n) {
					out.undecided = append(out.undecided, n)
				}
			}
		case a.closed == "":
			allClosed = false
		case closed == "":
			closed = a.closed
		}
	}
	if len(out.undecided) == 0 && allClosed {
		out.closed = closed
	}
	return out
}

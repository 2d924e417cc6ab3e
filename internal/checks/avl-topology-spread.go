package checks

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlTopologySpread = &engine.Check{
	ID:    "avl-topology-spread",
	Title: "Replicas are spread across nodes or zones",
	Description: "Replicas that the scheduler packs onto one node or one zone all fail together when it " +
		"does, and the redundancy the replica count promises is not there (A1.2). A workload with more " +
		"than one replica (or an autoscaler that may give it more) needs topologySpreadConstraints or " +
		"a pod anti-affinity whose labelSelector selects its own pods (in its namespace): one without " +
		"a labelSelector, selecting other pods, or whose namespaces and namespaceSelector leave out " +
		"its own namespace, spreads nothing of the workload; nor does a DoNotSchedule constraint whose " +
		"maxSkew is at least the most pods the workload runs (its replicas, or, when an autoscaler scales it, the autoscaler's " +
		"maxReplicas, a KEDA ScaledObject's maxReplicaCount in a scan; when several target it, none scales it by its metrics, and it runs what their minReplicas and maxReplicas " +
		"bring its replicas to, the highest minReplicas when their ranges do not meet): the scheduler refuses a node only when the pods there, with the new one, exceed " +
		"those of the emptiest domain by more than maxSkew, so all of them may share one node. A pod template pinned to one node " +
		"(spec.nodeName, which bypasses the scheduler, a nodeSelector on kubernetes.io/hostname, or a " +
		"required node affinity that admits one node by name) fails whatever it spreads; a spread constraint " +
		"or anti-affinity term over a node label whose one value the nodeSelector or required node affinity " +
		"fixes (a zone) sees one domain and spreads nothing, and so does an anti-affinity term whose mismatchLabelKeys " +
		"name a label all its replicas share (a template label, pod-template-hash, controller-revision-hash): the API " +
		"server adds \"key notin (the pod's own value)\" to its selector, which leaves out the pod's siblings; likewise a constraint or " +
		"term whose matchLabelKeys name a label each replica holds alone (a StatefulSet pod's name or ordinal), to which the " +
		"API server adds \"key in (the pod's own value)\", which selects none of them. Only the node labels Kubernetes sets to a " +
		"failure domain (kubernetes.io/hostname, topology.kubernetes.io/zone and region, and their beta keys) are known to " +
		"separate the replicas: a constraint or term over another (a rack label someone sets, or kubernetes.io/os, the same on " +
		"every Linux node) spreads them only as far as the nodes' values, which are not read, allow, and is NotAssessed. A required podAffinity " +
		"term that selects the workload's own pods (in its namespace, and no other workload's there) gathers them: the scheduler puts each " +
		"replica in a domain of its topology key that already runs one, so over kubernetes.io/hostname every replica shares the first's node " +
		"and the check fails whatever else spreads them, and over a zone nothing spreads them across zones. In the operator, which reads the pods, " +
		"another workload counts by the pods that run: a workload none of whose pods its template explains (a DaemonSet updated OnDelete whose " +
		"template changed) by their labels, not its template's, a paused Deployment whose template no pod runs by its old ReplicaSets' labels, " +
		"and the pods the workload itself runs, updated or not, are its own. The check judges " +
		"Deployments, StatefulSets, and the ReplicaSets and ReplicationControllers no controller owns " +
		"(as far as can be verified). A Deployment whose template an Argo Rollout runs in its stead (spec.workloadRef, as avl-replicas says) is judged " +
		"at the Rollout's pods too (in a scan its replicas, or its autoscaler's maxReplicas; in the cluster what the ReplicaSets it controls by UID run), " +
		"which add a count to judge and lift none (a maxSkew that lets the Deployment's own pods share a node still fails), and those ReplicaSets' pods are " +
		"the Deployment's own, not another workload's. In a scan, a template whose spread constraints or anti-affinity terms the API server " +
		"refuses (a maxSkew below 1, no topologyKey, a whenUnsatisfiable other than DoNotSchedule or ScheduleAnyway, the same " +
		"topologyKey and whenUnsatisfiable twice, minDomains without DoNotSchedule, a weight outside 1 to 100) fails: the " +
		"workload is never created." + controlledRevisionText + supporting,
	Remediation: "Add topologySpreadConstraints over kubernetes.io/hostname and topology.kubernetes.io/zone " +
		"(whenUnsatisfiable: ScheduleAnyway is enough to start), or a preferred podAntiAffinity on the pods' own labels.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"HorizontalPodAutoscaler", kedaScaledObjectKind, "Namespace", engine.KindWorkload, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if controlledRevision(ctx, o) {
			return
		}
		if o.Workload == nil {
			ctx.NotApplicable("", "no pod template")
			return
		}
		// most is the most pods the workload runs: its replicas, or, when an autoscaler scales it,
		// the autoscaler's maxReplicas, to which the HPA controller brings down replicas above it
		// whatever its metrics say (reconcileAutoscaler, k8s.io/kubernetes v1.37.2
		// pkg/controller/podautoscaler); when several target it, the most their bounds keep it at
		// (sharedAutoscalingRange), which none changes by its metrics.
		most := replicasOf(o)
		if h := autoscalerOf(ctx.Inventory, o); h != nil {
			most = h.Spec.MaxReplicas
		} else if _, m, _, ok := sharedAutoscalingRange(ctx.Inventory, o); ok {
			most = m
		}
		// fewest is the fewest pods of the counts judged (above 1), which a maxSkew lets share one
		// domain the most often: an Argo Rollout that runs the template in the Deployment's stead
		// runs its own count of pods (argoRolloutPods), which adds a count to judge and lifts
		// none.
		fewest := most
		for _, n := range argoRolloutPods(ctx.Inventory, o) {
			if most <= 1 || (n > 1 && n < fewest) {
				fewest = n
			}
			most = max(most, n)
		}
		if most <= 1 {
			ctx.NotApplicable("", "a single replica has nothing to spread")
			return
		}
		pod := o.Workload.Pod()
		// In a scan the manifest is what will be applied: a template whose spread rules the API
		// server refuses is never created, and its rules spread nothing. In the cluster the
		// workload exists, so its template was accepted.
		if !ctx.Inventory.Complete {
			if why := refusedSpreadRule(pod); why != "" {
				ctx.Fail("", "the API server refuses the pod template (%s): the workload is never created, so nothing spreads its replicas", why)
				return
			}
		}
		if node, how := pinnedNode(pod); node != "" {
			ctx.Fail("", "%s pins every replica to node %q: spreading cannot move them off it", how, node)
			return
		}
		own := podLabels(o)
		gathered := gatheringAffinityKey(ctx.Inventory, o, pod, own)
		if gathered == corev1.LabelHostname {
			ctx.Fail("", "a required podAffinity over %s selects its own pods: the scheduler puts each replica on a node that runs one already, "+
				"so every replica lands on the node of the first, whatever else spreads them", gathered)
			return
		}
		// fixed says a node label whose value the gathering affinity fixes for every replica.
		fixed := func(key string) bool {
			return gathered != "" && (key == gathered || zoneKeys[gathered] && regionKeys[key])
		}
		nothing := "" // why the first constraint or term that selects the pods spreads none of them
		spreadsNothing := func(why string) {
			if nothing == "" {
				nothing = why
			}
		}
		undecided := "" // why the first constraint or term that may spread the pods cannot be told to
		mayNotSpread := func(why string) {
			if undecided == "" {
				undecided = why
			}
		}
		for _, c := range pod.TopologySpreadConstraints {
			if !selectsOwn(c.LabelSelector, own) {
				continue
			}
			if v, how := pinnedValue(pod, c.TopologyKey); v != "" {
				spreadsNothing(fmt.Sprintf("topologySpreadConstraints over %s spread nothing: %s admits only %s %q", c.TopologyKey, how, c.TopologyKey, v))
				continue
			}
			if fixed(c.TopologyKey) {
				spreadsNothing(fmt.Sprintf("topologySpreadConstraints over %s spread nothing: a required podAffinity over %s to its own pods puts every replica in the domain of the first",
					c.TopologyKey, gathered))
				continue
			}
			if k := ownMatchKey(o.Kind, c.MatchLabelKeys); k != "" {
				spreadsNothing(fmt.Sprintf("topologySpreadConstraints over %s spread nothing: matchLabelKeys %q narrows them to the pods with the pod's own value, which each replica holds alone",
					c.TopologyKey, k))
				continue
			}
			if c.WhenUnsatisfiable == corev1.DoNotSchedule && c.MaxSkew >= fewest {
				spreadsNothing(fmt.Sprintf("topologySpreadConstraints over %s spread nothing: maxSkew %d (DoNotSchedule) lets all %s run in one %s domain",
					c.TopologyKey, c.MaxSkew, countNoun(fewest, "pod"), c.TopologyKey))
				continue
			}
			if !failureDomainKeys[c.TopologyKey] {
				mayNotSpread(unknownDomainKey("topologySpreadConstraints", c.TopologyKey))
				continue
			}
			ctx.Pass("")
			return
		}
		if a := pod.PodAntiAffinity; a != nil {
			terms := slices.Clone(a.RequiredDuringSchedulingIgnoredDuringExecution)
			for _, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
				terms = append(terms, w.PodAffinityTerm)
			}
			for _, t := range terms {
				if !selectsOwn(t.LabelSelector, own) {
					continue
				}
				if v, how := pinnedValue(pod, t.TopologyKey); v != "" {
					spreadsNothing(fmt.Sprintf("podAntiAffinity over %s spreads nothing: %s admits only %s %q", t.TopologyKey, how, t.TopologyKey, v))
					continue
				}
				if fixed(t.TopologyKey) {
					spreadsNothing(fmt.Sprintf("podAntiAffinity over %s spreads nothing: a required podAffinity over %s to its own pods puts every replica in the domain of the first",
						t.TopologyKey, gathered))
					continue
				}
				if k := ownMatchKey(o.Kind, t.MatchLabelKeys); k != "" {
					spreadsNothing(fmt.Sprintf("podAntiAffinity over %s spreads nothing: matchLabelKeys %q narrows it to the pods with the pod's own value, which each replica holds alone",
						t.TopologyKey, k))
					continue
				}
				if k := sharedMismatchKey(o.Kind, t.MismatchLabelKeys, own); k != "" {
					spreadsNothing(fmt.Sprintf("podAntiAffinity over %s spreads nothing: mismatchLabelKeys %q leaves out the pods that share the pod's own value, which its replicas do",
						t.TopologyKey, k))
					continue
				}
				switch termCoversOwnNamespace(ctx.Inventory, o, t) {
				case covered:
					if !failureDomainKeys[t.TopologyKey] {
						mayNotSpread(unknownDomainKey("podAntiAffinity", t.TopologyKey))
						continue
					}
					ctx.Pass("")
					return
				case coverUnknown:
					mayNotSpread(fmt.Sprintf("its podAntiAffinity spreads it only if its namespaceSelector selects namespace %q, "+
						"whose Namespace is not among the objects scanned: its labels are unknown", o.Namespace))
				}
			}
		}
		if undecided != "" {
			ctx.NotAssessed("", undecided)
			return
		}
		if nothing != "" {
			ctx.Fail("", "%s; nothing else spreads its replicas, so they may all land on one node", nothing)
			return
		}
		ctx.Fail("", "neither topologySpreadConstraints nor a podAntiAffinity spreads its replicas: they may all land on one node")
	},
}

// refusedSpreadRule says why the API server refuses a pod template's topologySpreadConstraints
// or podAntiAffinity terms, or "" when it does not, by the rules of k8s.io/kubernetes v1.37.2
// pkg/apis/core/validation that concern how they spread: validateTopologySpreadConstraints
// (maxSkew positive, a topologyKey, whenUnsatisfiable DoNotSchedule or ScheduleAnyway, no
// {topologyKey, whenUnsatisfiable} pair twice, minDomains positive and only with DoNotSchedule,
// nodeAffinityPolicy and nodeTaintsPolicy Honor or Ignore) and validatePodAffinityTerm and
// validateWeightedPodAffinityTerms (a topologyKey; a weight of 1 to 100).
func refusedSpreadRule(pod engine.PodFields) string {
	for i, c := range pod.TopologySpreadConstraints {
		at := fmt.Sprintf("topologySpreadConstraints[%d]", i)
		switch {
		case c.MaxSkew < 1:
			return fmt.Sprintf("%s.maxSkew: %d, must be at least 1", at, c.MaxSkew)
		case c.TopologyKey == "":
			return at + ".topologyKey: empty"
		case c.WhenUnsatisfiable != corev1.DoNotSchedule && c.WhenUnsatisfiable != corev1.ScheduleAnyway:
			return fmt.Sprintf("%s.whenUnsatisfiable: %q, not DoNotSchedule or ScheduleAnyway", at, c.WhenUnsatisfiable)
		case c.MinDomains != nil && *c.MinDomains < 1:
			return fmt.Sprintf("%s.minDomains: %d, must be at least 1", at, *c.MinDomains)
		case c.MinDomains != nil && c.WhenUnsatisfiable != corev1.DoNotSchedule:
			return at + ".minDomains: only with whenUnsatisfiable DoNotSchedule"
		}
		for _, pol := range []struct {
			field string
			v     *corev1.NodeInclusionPolicy
		}{{"nodeAffinityPolicy", c.NodeAffinityPolicy}, {"nodeTaintsPolicy", c.NodeTaintsPolicy}} {
			if pol.v != nil && *pol.v != corev1.NodeInclusionPolicyHonor && *pol.v != corev1.NodeInclusionPolicyIgnore {
				return fmt.Sprintf("%s.%s: %q, not Honor or Ignore", at, pol.field, *pol.v)
			}
		}
		for j := i + 1; j < len(pod.TopologySpreadConstraints); j++ {
			if d := pod.TopologySpreadConstraints[j]; d.TopologyKey == c.TopologyKey && d.WhenUnsatisfiable == c.WhenUnsatisfiable {
				return fmt.Sprintf("topologySpreadConstraints[%d] repeats {%s, %s} of %s", j, c.TopologyKey, c.WhenUnsatisfiable, at)
			}
		}
	}
	if a := pod.PodAntiAffinity; a != nil {
		for i, t := range a.RequiredDuringSchedulingIgnoredDuringExecution {
			if t.TopologyKey == "" {
				return fmt.Sprintf("podAntiAffinity required[%d].topologyKey: empty", i)
			}
		}
		for i, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
			if w.Weight < 1 || w.Weight > 100 {
				return fmt.Sprintf("podAntiAffinity preferred[%d].weight: %d, must be 1 to 100", i, w.Weight)
			}
			if w.PodAffinityTerm.TopologyKey == "" {
				return fmt.Sprintf("podAntiAffinity preferred[%d].topologyKey: empty", i)
			}
		}
	}
	return ""
}

// failureDomainKeys are the node labels Kubernetes sets to a node's failure domain: its name
// (the kubelet, on every node) and its zone and region (the cloud provider, on the nodes of a
// cloud), and their deprecated beta keys (k8s.io/api core/v1 well_known_labels.go). A spread
// constraint or anti-affinity term over any other node label spreads the replicas only as far
// as someone labelled the nodes with values that separate failures; a label no node carries, or
// one every node carries with the same value (kubernetes.io/os), makes one domain or none.
var failureDomainKeys = map[string]bool{
	corev1.LabelHostname:                true,
	corev1.LabelTopologyZone:            true,
	corev1.LabelTopologyRegion:          true,
	corev1.LabelFailureDomainBetaZone:   true,
	corev1.LabelFailureDomainBetaRegion: true,
}

// zoneKeys and regionKeys are the node labels of a node's zone and region: a zone is in one region.
var (
	zoneKeys   = map[string]bool{corev1.LabelTopologyZone: true, corev1.LabelFailureDomainBetaZone: true}
	regionKeys = map[string]bool{corev1.LabelTopologyRegion: true, corev1.LabelFailureDomainBetaRegion: true}
)

// gatheringAffinityKey returns the topology key of a required podAffinity term that gathers the
// workload's replicas into one domain, or "": a term whose labelSelector selects the workload's
// own pods in the workload's namespace alone, and no other workload's pods there (a Job's included). The scheduler admits a pod
// only to a node whose domain of the term's key runs a pod the term selects, except when no pod
// anywhere matches and the pod matches its own terms (satisfyPodAffinity, k8s.io/kubernetes
// v1.37.2 pkg/scheduler/framework/plugins/interpodaffinity/filtering.go): the first replica goes
// anywhere and every other one to its domain. A term another workload's pods also match lets the
// replicas follow those pods wherever they run, and one whose matchLabelKeys or
// mismatchLabelKeys the API server narrows with the pod's own values is not read.
func gatheringAffinityKey(inv *engine.Inventory, o *engine.Object, pod engine.PodFields, own labels.Set) string {
	if pod.PodAffinity == nil {
		return ""
	}
	for _, t := range pod.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		ownNamespace := t.NamespaceSelector == nil && (len(t.Namespaces) == 0 || len(t.Namespaces) == 1 && t.Namespaces[0] == o.Namespace)
		if t.TopologyKey == "" || len(t.MatchLabelKeys)+len(t.MismatchLabelKeys) > 0 || !selectsOwn(t.LabelSelector, own) || !ownNamespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
		if err != nil {
			continue
		}
		others := false
		candidates := slices.Concat(workloadsByPodLabel(inv).byNs[o.Namespace], inv.List(o.Namespace, "Job"), inv.List(o.Namespace, "CronJob"))
		for _, w := range candidates {
			if w.Workload == nil || (w.Kind == o.Kind && w.Name == o.Name) || notWhatRuns(inv, o, w) {
				continue
			}
			if _, d := rolloutRevision(inv, w); d == o {
				// An Argo Rollout's ReplicaSet that runs o's template runs o's own pods.
				continue
			}
			if slices.ContainsFunc(labelsThatRun(inv, w), func(l labels.Set) bool { return sel.Matches(l) }) {
				others = true
				break
			}
		}
		if !others {
			return t.TopologyKey
		}
	}
	return ""
}

// notWhatRuns reports, in a complete view, a candidate of gatheringAffinityKey whose labels are
// not those of pods that run beside workload o's: a Pod o itself runs that its template does not
// explain (a StatefulSet's pod not yet updated, judged itself), which is o's own, not another
// workload's; or a workload all of whose pods its template does not explain (a DaemonSet or
// StatefulSet updated OnDelete whose template changed, a paused Deployment's new template): no
// pod carries its template's labels, and its pods, judged themselves, are candidates by the
// labels they carry (unexplainedPods). A workload that runs no pod at all keeps its template.
func notWhatRuns(inv *engine.Inventory, o, w *engine.Object) bool {
	if !inv.Complete {
		return false
	}
	if w.Kind == "Pod" {
		return slices.Contains(unexplainedPods(inv)[o], w)
	}
	return len(unexplainedPods(inv)[w]) > 0 && len(podsRun(inv)[w]) == 0
}

// labelsThatRun are the pod labels another workload's pods carry, as gatheringAffinityKey reads
// them: its template's, but, in a complete view, for a Deployment whose template explains none of
// the pods that run while old ReplicaSets still run some (paused, or a rollout that has made no
// pod yet), those ReplicaSets' templates' (runningOldRevision), which are not candidates
// themselves (workloadsByPodLabel).
func labelsThatRun(inv *engine.Inventory, w *engine.Object) []labels.Set {
	if !inv.Complete || w.Kind != "Deployment" || len(podsRun(inv)[w]) > 0 {
		return []labels.Set{podLabels(w)}
	}
	var old []labels.Set
	for _, rs := range inv.List(w.Namespace, "ReplicaSet") {
		if runningOldRevision(inv, rs) == w {
			old = append(old, podLabels(rs))
		}
	}
	if len(old) == 0 {
		return []labels.Set{podLabels(w)}
	}
	return old
}

// unknownDomainKey says why a constraint or term over a node label other than the
// failureDomainKeys cannot be told to spread the replicas.
func unknownDomainKey(what, key string) string {
	return fmt.Sprintf("%s over %s may spread nothing: %s is not a node label Kubernetes sets to a failure domain (as it sets %s, %s and %s), "+
		"and which nodes carry it, with which values, is not read", what, key, key,
		corev1.LabelHostname, corev1.LabelTopologyZone, corev1.LabelTopologyRegion)
}

// selectsOwn reports whether a spread constraint's or affinity term's labelSelector selects the
// workload's own pods, as the scheduler reads it: no labelSelector selects no pod, so the
// constraint spreads nothing (matchLabelKeys only narrow it, with the pod's own values, which
// its siblings share but for those ownMatchKey names).
func selectsOwn(sel *metav1.LabelSelector, own labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(own)
}

// revisionPodLabels are the labels a controller sets to the same value on every pod of a
// revision (pkg/controller/deployment getNewReplicaSet; pkg/controller/statefulset
// newVersionedStatefulSetPod): the replicas of a workload that has finished rolling out share them.
var revisionPodLabels = map[string]string{
	"Deployment":  appsv1.DefaultDeploymentUniqueLabelKey,
	"StatefulSet": appsv1.ControllerRevisionHashLabelKey,
}

// sharedMismatchKey returns a key of an affinity term's mismatchLabelKeys whose value every
// replica of the workload shares: a template label, or the revision label its controller sets
// (revisionPodLabels); or "". The API server adds "key notin (the pod's own value)" to the
// term's labelSelector for each key the pod has (applyMatchLabelKeysAndMismatchLabelKeys,
// pkg/registry/core/pod/strategy.go), so such a term selects none of the pod's siblings. A label
// each pod holds alone (a StatefulSet pod's own name) leaves out only the pod itself.
func sharedMismatchKey(kind string, keys []string, own labels.Set) string {
	for _, k := range keys {
		if _, ok := own[k]; ok || revisionPodLabels[kind] == k {
			return k
		}
	}
	return ""
}

// ownPodLabels are the labels a controller sets on each pod to a value no other pod of the
// workload has: a StatefulSet pod's name and ordinal (pkg/controller/statefulset
// stateful_set_utils.go updateIdentity, which replaces any the template gives).
var ownPodLabels = map[string][]string{
	"StatefulSet": {appsv1.StatefulSetPodNameLabel, appsv1.PodIndexLabel},
}

// ownMatchKey returns a key of a spread constraint's or affinity term's matchLabelKeys whose
// value each replica of the workload holds alone (ownPodLabels), or "". The API server adds
// "key in (the pod's own value)" to the labelSelector for each key the pod has (applyMatchLabelKeys
// and applyMatchLabelKeysAndMismatchLabelKeys, pkg/registry/core/pod/strategy.go), so such a
// constraint or term counts only pods with the pod's own name or ordinal: none of its siblings.
func ownMatchKey(kind string, keys []string) string {
	for _, k := range keys {
		if slices.Contains(ownPodLabels[kind], k) {
			return k
		}
	}
	return ""
}

// termCoversOwnNamespace reports whether an affinity term counts the pods of the workload's own
// namespace: a term that names no namespace and has no namespaceSelector does; otherwise the
// namespaces it names and those its namespaceSelector selects (the empty selector selects
// all). The selector is matched against the namespace's labels and the
// kubernetes.io/metadata.name label the API server sets on every namespace. When the namespace
// is not among the objects of a scan only that label is known: a selector that requires only it
// decides, one that fails on it does not cover the namespace, and any other may or may not
// (coverUnknown).
func termCoversOwnNamespace(inv *engine.Inventory, o *engine.Object, t corev1.PodAffinityTerm) coverage {
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil || slices.Contains(t.Namespaces, o.Namespace) {
		return covered
	}
	if t.NamespaceSelector == nil {
		return notCovered
	}
	sel, err := metav1.LabelSelectorAsSelector(t.NamespaceSelector)
	if err != nil {
		return notCovered
	}
	set := labels.Set{corev1.LabelMetadataName: o.Namespace}
	ns := labelledNamespace(inv, o.Namespace)
	if ns != nil || inv.Complete {
		if ns != nil {
			for k, v := range ns.Labels() {
				set[k] = v
			}
			set[corev1.LabelMetadataName] = o.Namespace
		}
		if sel.Matches(set) {
			return covered
		}
		return notCovered
	}
	reqs, _ := sel.Requirements()
	result := covered
	for _, r := range reqs {
		switch {
		case r.Key() != corev1.LabelMetadataName:
			result = coverUnknown
		case !r.Matches(set):
			return notCovered
		}
	}
	return result
}

// coverage is whether an affinity term counts the pods of the workload's own namespace.
type coverage int

const (
	notCovered coverage = iota
	covered
	coverUnknown
)

// pinnedNode returns the one node a pod template lets its pods run on, and which field says so,
// or "" when it admits more. spec.nodeName binds the pods without the scheduler, so no spread
// constraint or anti-affinity applies; a nodeSelector on kubernetes.io/hostname, or a required
// node affinity each of whose terms admits one node (kubernetes.io/hostname In one value, or
// the field metadata.name In one value, the same in every term: the terms are ORed) leaves the
// scheduler one node, and the spread constraints count only the nodes the pod's node selector
// and affinity admit (nodeAffinityPolicy Honor, the default).
func pinnedNode(pod engine.PodFields) (node, how string) {
	if pod.NodeName != "" {
		return pod.NodeName, "spec.nodeName"
	}
	node, how = pinnedValue(pod, corev1.LabelHostname)
	if how == "nodeSelector" {
		how += " " + corev1.LabelHostname
	}
	return node, how
}

// pinnedValue returns the one value of node label key that every node a pod template admits
// carries, and which field says so ("nodeSelector" or "the required node affinity"), or "":
// a nodeSelector on key, or a required node affinity each of whose terms admits one value of
// key (key In one value; for kubernetes.io/hostname also the field metadata.name In one
// value), the same in every term (the terms are ORed). A spread constraint or anti-affinity
// term over such a key sees one domain: the spread constraints count only the nodes the pod's
// node selector and affinity admit (nodeAffinityPolicy Honor, the default), and with Ignore
// the pods still cannot go to the other domains.
func pinnedValue(pod engine.PodFields, key string) (value, how string) {
	if v, ok := pod.NodeSelector[key]; ok {
		return v, "nodeSelector"
	}
	na := pod.NodeAffinity
	if na == nil || na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", ""
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i, t := range terms {
		v := termValue(t, key)
		if v == "" || (i > 0 && v != value) {
			return "", ""
		}
		value = v
	}
	if value == "" {
		return "", ""
	}
	return value, "the required node affinity"
}

// termValue is the one value of node label key a node selector term admits, or "".
func termValue(t corev1.NodeSelectorTerm, key string) string {
	for _, e := range t.MatchExpressions {
		if e.Key == key && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
			return e.Values[0]
		}
	}
	if key != corev1.LabelHostname {
		return ""
	}
	for _, e := range t.MatchFields {
		if e.Key == "metadata.name" && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
			return e.Values[0]
		}
	}
	return ""
}

package checks

import (
	"fmt"
	"slices"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPdb = &engine.Check{
	ID:    "avl-pdb",
	Title: "Replicated workloads are covered by a PodDisruptionBudget",
	Description: "Without a PodDisruptionBudget, a node drain or a cluster upgrade may evict every replica " +
		"of a workload at once, and the service goes down during routine maintenance (A1.2). The check " +
		"looks for a budget in the workload's namespace whose selector selects its pods: the template's " +
		"labels and those the controller adds (pod-template-hash, controller-revision-hash, ...; a " +
		"budget that requires one of these to have a given value may select the pods or not, and the " +
		"check then says NotAssessed); in a scan the budget must be among the manifests, since they are what ships, and one the " +
		"API server refuses (minAvailable and maxUnavailable both set, a negative value, a percentage above 100% or a string " +
		"that is not a percentage, an unknown unhealthyPodEvictionPolicy, policy/v1beta1, which Kubernetes no longer serves, an invalid label or annotation) is never created and does not count. A budget " +
		"that lets every pod of the workload go at once (maxUnavailable 100% or as many as its pods, " +
		"minAvailable 0, or a minAvailable that the other workloads it selects meet on their own: a " +
		"budget counts the pods of every workload it selects together, and pods no controller owns add " +
		"to what maxUnavailable allows) protects nothing and does " +
		"not count; but one counted by the scale of the pods' controllers (maxUnavailable, a percentage) that " +
		"also selects a pod whose controller has no scale or is not there (a DaemonSet's, a Job's) allows no " +
		"disruption at all, as the disruption controller fails to sync it, and protects the workload " +
		"(avl-pdb-zero-disruptions fails it). An integer minAvailable is met by any pod the budget selects: when it also selects " +
		"a DaemonSet's or a Job's pods, whose number the check cannot know, it says NotAssessed. The check judges " +
		"Deployments, StatefulSets, and the ReplicaSets and ReplicationControllers no controller owns " +
		"(as far as can be verified); a ReplicaSet of a Deployment that still runs pods of a revision the " +
		"Deployment's template no longer describes (a paused or unfinished rollout) fails when no budget selects " +
		"those pods, which carry the old template's labels. In the operator, which reads the pods, a workload " +
		"that runs pods its template does not explain (a StatefulSet updated OnDelete or with a partition, whose " +
		"pods below it keep the old revision; labels changed on a pod) fails when no budget selects some of them by " +
		"the labels they carry, whatever selects its template." + controlledRevisionText + argoRolloutPodsText + supporting,
	Remediation: "Add a PodDisruptionBudget (policy/v1) in the same namespace whose selector matches the pod " +
		"template's labels, with maxUnavailable: 1 or a minAvailable below the replica count.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"PodDisruptionBudget", engine.KindWorkload, "HorizontalPodAutoscaler", kedaScaledObjectKind, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notWorkload(ctx, o) {
			return
		}
		if d := runningOldRevision(ctx.Inventory, o); d != nil {
			if yes, maybe := budgetsSelectingPods(ctx.Inventory, o); len(yes)+len(maybe) == 0 {
				ctx.Fail("", "no PodDisruptionBudget selects its pods, which run a revision of Deployment %q that its template no longer "+
					"describes (a paused or unfinished rollout): a budget that selects the Deployment's template does not protect them", d.Name)
				return
			}
		}
		if controlledRevision(ctx, o) {
			return
		}
		budgets, maybe := budgetsSelectingPods(ctx.Inventory, o)
		unknown := "" // why a budget may protect the pods
		if len(maybe) > 0 {
			unknown = fmt.Sprintf("PodDisruptionBudget %q selects by labels the workload's controller sets on its pods (%s): whether it selects them depends on their values",
				maybe[0].obj.Name, quoteList(controllerLabelsNamed(maybe[0])))
		}
		if pods := podsNoBudgetSelects(ctx.Inventory, o); len(pods) > 0 && len(budgets)+len(maybe) > 0 {
			ctx.Fail("", "no PodDisruptionBudget selects %s %s, which it runs and its template does not explain (pods not yet updated: "+
				"OnDelete, a partition, a paused or unfinished rollout, or labels changed on the pods): they carry other labels, "+
				"and a budget that selects the template does not protect them", pluralWord(len(pods), "Pod"), few(pods, ", "))
			return
		}
		if len(budgets) == 0 && unknown == "" {
			if b := refusedSelecting(ctx.Inventory, o); b != nil {
				ctx.Fail("", "no PodDisruptionBudget selects its pods: PodDisruptionBudget %q, which selects its pods, is refused by the API server (%s) and is never created",
					b.obj.Name, b.refused)
				return
			}
			ctx.Fail("", "no PodDisruptionBudget selects its pods")
			return
		}
		first := "" // why the first budget protects none
		for i, b := range budgets {
			why, undecided := letsAllGo(ctx.Inventory, b, o)
			switch {
			case undecided != "":
				if unknown == "" {
					unknown = undecided
				}
				continue
			case why == "":
				ctx.Pass("")
				return
			}
			if i == 0 {
				first = why
			}
		}
		if unknown != "" {
			ctx.NotAssessed("", unknown)
			return
		}
		// Every budget that selects the pods lets them all go: name the first.
		ctx.Fail("", "PodDisruptionBudget %q lets every pod be evicted at once (%s)", budgets[0].obj.Name, first)
	},
}

// refusedSelecting returns the first budget (by name) of the workload's namespace that the API
// server refuses (disruptionBudget.refused) and that selects or may select its pods, or nil.
func refusedSelecting(inv *engine.Inventory, o *engine.Object) *disruptionBudget {
	var first *disruptionBudget
	known, unknown := knownPodLabels(inv, o)
	for _, b := range refusedBudgets(inv)[o.Namespace] {
		if selectsPods(b.selector, known, unknown) != selectsNot && (first == nil || b.obj.Name < first.obj.Name) {
			first = b
		}
	}
	return first
}

// controllerLabelsNamed lists the keys of labels controllers set on pods that a budget's
// selector names.
func controllerLabelsNamed(b *disruptionBudget) []string {
	var keys []string
	reqs, _ := b.selector.Requirements()
	for _, r := range reqs {
		if controllerPodLabelKeys[r.Key()] && !slices.Contains(keys, r.Key()) {
			keys = append(keys, r.Key())
		}
	}
	return keys
}

// pluralWord is word, with an s unless n is 1.
func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

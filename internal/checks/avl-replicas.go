package checks

import (
	"fmt"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlReplicas = &engine.Check{
	ID:    "avl-replicas",
	Title: "Replicated workloads run more than one replica",
	Description: "A single replica is down whenever its pod is rescheduled, its node is drained or fails, " +
		"or a rollout restarts it: the service has no redundancy (A1.2). Replicas must reach the " +
		"profile's parameters.minReplicas (default 2); a workload scaled by a HorizontalPodAutoscaler " +
		"is judged by the autoscaler's minReplicas instead of its own replicas field, unless the API server refuses the " +
		"autoscaler (maxReplicas unset or below minReplicas, autoscaling/v2beta2, an invalid name or label, metrics or scaling rules it refuses: avl-hpa-sanity), which then never raises a replica. " +
		"Several autoscalers of one workload scale it by no metric (AmbiguousSelector), but each raises replicas below its minReplicas, and lowers those above " +
		"its maxReplicas, to that bound: the workload is judged by its replicas so bounded (the lowest maxReplicas when the ranges do not meet). " +
		"A workload a KEDA ScaledObject scales is judged by the autoscaler KEDA creates for it (in a scan, the one the ScaledObject stands for: " +
		"minReplicas its minReplicaCount, at least 1, maxReplicas its maxReplicaCount, 100 when unset; KEDA raises a target at zero into that range, so in the cluster one it leaves at zero is judged by the 0 it runs), " +
		"and fails when KEDA scales it lower: to its idleReplicaCount, or to zero with minReplicaCount 0 (KEDA's default), while its triggers are idle, " +
		"or to the count of its autoscaling.keda.sh/paused-replicas annotation; a ScaledObject that is paused (autoscaling.keda.sh/paused set to anything but a false boolean: KEDA reads a value that is no boolean as true), or that the API server or KEDA refuses " +
		"(an idleReplicaCount not below minReplicaCount, a minReplicaCount above maxReplicaCount), scales nothing (KEDA v2.20.2). " +
		"A Deployment whose template an Argo Rollout runs (spec.workloadRef) is judged by the Rollout's replicas (and its autoscalers) when the " +
		"Rollout scales it to 0 (scaleDown onsuccess or progressively) or it is at 0: in a scan by the Rollout's spec; in the cluster, where a " +
		"Rollout is only a claim, a Deployment at 0 by the replicas of the ReplicaSets the Rollout controls (by UID) that run the Deployment's " +
		"template, at most the Rollout's own, whatever an autoscaler of the Rollout says (only Argo Rollouts scales them), and by its 0 when there are none. " +
		"Several Rollouts of one Deployment's template each run their own ReplicaSets of it, and their replicas add up (in a scan, once one scales the Deployment to 0, " +
		"one with scaleDown never counts too: scaleDown decides only whether a Rollout scales the Deployment). " +
		"A Rollout Argo Rollouts refuses (InvalidSpec, as its own validation reads the spec: a template of its own, " +
		"no or two strategies, a selector that does not select the template's labels, a canary step of no or two types, a setWeight above the maximum weight, an unreadable pause, " +
		"setCanaryScale or scaleDownDelaySeconds without trafficRouting, a traffic router without its Services, maxSurge and maxUnavailable both 0, " +
		"the same active and preview Service, an antiAffinity weight outside 1 to 100, a negative minReadySeconds) runs nothing (argo-rollouts v1.10.2). " +
		"In a scan, a Deployment fails at 0 replicas when a valid Rollout whose workloadRef names a ReplicaSet of the Deployment's name (among the objects read) " +
		"has scaleDown onsuccess or progressively: Argo Rollouts scales the Deployment of that name, whatever the kind. The check judges " +
		"Deployments, StatefulSets, and the ReplicaSets and ReplicationControllers no controller owns " +
		"(as far as can be verified)." + controlledRevisionText + supporting,
	Remediation: "Set spec.replicas to at least the required count, or give the HorizontalPodAutoscaler that scales " +
		"the workload a minReplicas of at least that count (a KEDA ScaledObject a minReplicaCount of at least that count, and no idleReplicaCount).",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"HorizontalPodAutoscaler", kedaScaledObjectKind, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notWorkload(ctx, o) {
			return
		}
		if r, d := rolloutRevision(ctx.Inventory, o); r != nil {
			ctx.NotApplicable("", fmt.Sprintf("its controller Argo Rollout %q runs Deployment %q's template, which the Deployment's result judges", r.Name, d.Name))
			return
		}
		if controlledRevision(ctx, o) {
			return
		}
		want := ctx.Params.MinReplicas
		// A Deployment whose template Argo Rollouts run in its stead is judged by the pods
		// they run (rolloutsRunning): each runs its own ReplicaSets of the template, so their
		// pods add up.
		if rs := rolloutsRunning(ctx.Inventory, o); len(rs) > 0 {
			var total int32
			var parts []string
			for _, r := range rs {
				got, how := replicasFloor(ctx.Inventory, r.standIn)
				if r.running >= 0 && r.running <= got {
					// In the cluster no autoscaler of the Rollout raises what its ReplicaSets run.
					got, how = r.running, "runs "+countNoun(r.running, "replica")
				}
				if len(rs) == 1 {
					if got < want {
						ctx.Fail("", "%s: %s; want at least %d", r.why, how, want)
						return
					}
					break
				}
				total += got
				parts = append(parts, r.why+": "+how)
			}
			if len(rs) > 1 && total < want {
				ctx.Fail("", "%s; together they run %s; want at least %d", strings.Join(parts, "; "), countNoun(total, "replica"), want)
				return
			}
			ctx.Pass("")
			return
		}
		if why := argoScalesDownByName(ctx.Inventory, o); why != "" {
			ctx.Fail("", "%s: runs 0 replicas; want at least %d", why, want)
			return
		}
		if msg := replicasShortfall(ctx.Inventory, o, want); msg != "" {
			ctx.Fail("", "%s", msg)
			return
		}
		ctx.Pass("")
	},
}

// replicasShortfall says why workload o may run fewer than want replicas, or "" (replicasFloor).
func replicasShortfall(inv *engine.Inventory, o *engine.Object, want int32) string {
	if got, how := replicasFloor(inv, o); got < want {
		return fmt.Sprintf("%s; want at least %d", how, want)
	}
	return ""
}

// replicasFloor returns the fewest replicas workload o may run, and how: scaled by KEDA, by an
// autoscaler (its minReplicas), by several autoscalers that keep it within their bounds, or
// its replicas.
func replicasFloor(inv *engine.Inventory, o *engine.Object) (int32, string) {
	if so, ok := scaledObjectFloor(inv, o); ok {
		return so.floor, fmt.Sprintf("KEDA ScaledObject %q scales it to %s %s", so.obj.Name, countNoun(so.floor, "replica"), so.floorWhy)
	}
	h := autoscalerOf(inv, o)
	if h != nil && inv.Complete && replicasOf(o) == 0 && kedaScaledObjectOf(inv, h) != nil {
		// KEDA raises a target below its minReplicaCount whatever its triggers say: one
		// that stays at zero in the cluster is not scaled by KEDA, and is judged by the 0 it runs.
		h = nil
	}
	if h != nil {
		got := autoscalerMin(h)
		return got, fmt.Sprintf("HorizontalPodAutoscaler %q may scale it down to %s", h.Name, countNoun(got, "replica"))
	}
	if got, names, ok := sharedAutoscaling(inv, o); ok {
		return got, fmt.Sprintf("HorizontalPodAutoscalers %s all target it: none scales it by its metrics (AmbiguousSelector), and their "+
			"minReplicas and maxReplicas keep it at %s", quoteList(names), countNoun(got, "replica"))
	}
	got := replicasOf(o)
	return got, "runs " + countNoun(got, "replica")
}

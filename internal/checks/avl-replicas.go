package checks

import (
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
		"or to the count of its autoscaling.keda.sh/paused-replicas annotation; a ScaledObject that is paused, or that the API server or KEDA refuses " +
		"(an idleReplicaCount not below minReplicaCount, a minReplicaCount above maxReplicaCount), scales nothing (KEDA v2.20.2). The check judges " +
		"Deployments, StatefulSets, and the ReplicaSets and ReplicationControllers no controller owns " +
		"(as far as can be verified)." + controlledRevisionText + supporting,
	Remediation: "Set spec.replicas to at least the required count, or give the HorizontalPodAutoscaler that scales " +
		"the workload a minReplicas of at least that count (a KEDA ScaledObject a minReplicaCount of at least that count, and no idleReplicaCount).",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"HorizontalPodAutoscaler", kedaScaledObjectKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notWorkload(ctx, o) {
			return
		}
		if controlledRevision(ctx, o) {
			return
		}
		want := ctx.Params.MinReplicas
		if so, ok := scaledObjectFloor(ctx.Inventory, o); ok && so.floor < want {
			ctx.Fail("", "KEDA ScaledObject %q scales it to %s %s; want at least %d", so.obj.Name, countNoun(so.floor, "replica"), so.floorWhy, want)
			return
		}
		h := autoscalerOf(ctx.Inventory, o)
		if h != nil && ctx.Inventory.Complete && replicasOf(o) == 0 && kedaScaledObjectOf(ctx.Inventory, h) != nil {
			// KEDA raises a target below its minReplicaCount whatever its triggers say: one
			// that stays at zero in the cluster is not scaled by KEDA, and is judged by the 0 it runs.
			h = nil
		}
		if h != nil {
			if got := autoscalerMin(h); got < want {
				ctx.Fail("", "HorizontalPodAutoscaler %q may scale it down to %s; want at least %d", h.Name, countNoun(got, "replica"), want)
				return
			}
			ctx.Pass("")
			return
		}
		if got, names, ok := sharedAutoscaling(ctx.Inventory, o); ok {
			if got < want {
				ctx.Fail("", "HorizontalPodAutoscalers %s all target it: none scales it by its metrics (AmbiguousSelector), and their "+
					"minReplicas and maxReplicas keep it at %s; want at least %d", quoteList(names), countNoun(got, "replica"), want)
				return
			}
			ctx.Pass("")
			return
		}
		if got := replicasOf(o); got < want {
			ctx.Fail("", "runs %s; want at least %d", countNoun(got, "replica"), want)
			return
		}
		ctx.Pass("")
	},
}

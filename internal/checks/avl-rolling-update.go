package checks

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlRollingUpdate = &engine.Check{
	ID:    "avl-rolling-update",
	Title: "Controllers replace pods with rolling updates",
	Description: "A Deployment with the Recreate strategy stops every pod before starting the new version, " +
		"so each release is an outage, and so does a rolling update whose maxUnavailable reaches the " +
		"replica count (100%, or as many as spec.replicas once rounded down as the deployment " +
		"controller does), a DaemonSet's maxUnavailable that reaches the nodes that run it (the DaemonSet controller rounds a " +
		"percentage UP: 99% is every node of a cluster of up to 99; the operator reads the count from the DaemonSet's " +
		"status, and where it is not known, in a scan, a value that would stop every node of a cluster of two or more " +
		"is NotAssessed), and a StatefulSet's " +
		"Recreate strategy or maxUnavailable reaching its replicas. StatefulSets and DaemonSets with " +
		"OnDelete never roll out a change until someone deletes the pods by hand, and a paused " +
		"Deployment or a StatefulSet whose partition is at or above its replicas never rolls one " +
		"out, so fixes do not reach them (A1.2). A Deployment or StatefulSet that a HorizontalPodAutoscaler scales is judged at the " +
		"autoscaler's minReplicas, whatever its spec.replicas (one that several target, at the fewest they keep it at, as avl-replicas reads them): the controllers resolve maxUnavailable against the replicas " +
		"the workload has when it rolls out (a percentage rounded down), and it stops every pod at the fewest replicas if at any. " +
		"One whose replicas are unset and that no autoscaler among the objects read scales runs 1 pod, as the " +
		"API server defaults them, unless something else sets them: a strategy that would " +
		"stop or hold back that one pod is NotAssessed. The old API versions whose default was OnDelete (extensions/v1beta1 " +
		"DaemonSets, apps/v1beta1 StatefulSets) fail when they set no strategy. A Deployment whose template an Argo Rollout runs in its stead " +
		"(spec.workloadRef, as avl-replicas says: in the cluster only through ReplicaSets the Rollout controls by UID) also fails when the Rollout's " +
		"basic canary (no trafficRouting) stops every pod at once: Argo Rollouts scales the old ReplicaSets down to the Rollout's replicas less maxUnavailable " +
		"(25% by default, resolved as the deployment controller does, at its autoscaler's minReplicas if one scales it); a blue-green or traffic-routed canary " +
		"keeps the old pods until the new ones serve, and a Rollout never lifts the Deployment's own failure. It fails too when that Rollout is paused " +
		"(spec.paused, as kubectl argo rollouts pause sets it): Argo Rollouts rolls out no change of a paused Rollout until it is resumed, as with a paused " +
		"Deployment; the pauses of its status (a canary's pause steps, a blue-green pause before promotion) are steps of a release and are not judged (argo-rollouts v1.10.2). " +
		"In a scan a paused Rollout fails so too, though one created paused never becomes healthy, so never scales the Deployment down with scaleDown onsuccess " +
		"(nor, a canary, progressively: it scales no ReplicaSet), and the Deployment then rolls out its own changes: a manifest does not tell the two apart, and " +
		"a change would not roll out in the other. A ReplicaSet or " +
		"ReplicationController no controller owns has no update strategy at all: it never replaces a pod " +
		"when its template changes, as OnDelete, and fails." + controlledRevisionText + supporting,
	Remediation: "Use strategy.type RollingUpdate (Deployments) or updateStrategy.type RollingUpdate " +
		"(StatefulSets, DaemonSets) with a maxUnavailable below the replica count (or a maxSurge) and a " +
		"StatefulSet partition below it once a staged rollout is done; resume a paused Deployment " +
		"(kubectl rollout resume) or Argo Rollout (spec.paused false, as kubectl argo rollouts promote sets it) once its changes are made; " +
		"run a bare ReplicaSet or a ReplicationController from a Deployment; " +
		"if a volume allows one writer only, record why Recreate is needed.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"},
	Reads:    []string{"HorizontalPodAutoscaler", kedaScaledObjectKind, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if controlledRevision(ctx, o) {
			return
		}
		var r *engine.Rollout
		if o.Workload != nil {
			r = o.Workload.Rollout
		}
		// The replicas a rollout starts from: an autoscaler's minReplicas, the fewest it keeps
		// (a maxUnavailable stops all pods at the fewest if at any count), or spec.replicas.
		replicas, at := specReplicas(o, r), ""
		if h := autoscalerOf(ctx.Inventory, o); h != nil {
			lowest := autoscalerMin(h)
			replicas, at = &lowest, fmt.Sprintf(" when HorizontalPodAutoscaler %q scales it to its minReplicas %d", h.Name, lowest)
		} else if lowest, names, ok := sharedAutoscaling(ctx.Inventory, o); ok {
			// Several autoscalers keep it within their bounds (sharedAutoscaling).
			replicas, at = &lowest, fmt.Sprintf(" when HorizontalPodAutoscalers %s keep it at %d", quoteList(names), lowest)
		}
		switch {
		case r != nil && o.Kind == "Deployment":
			// An Argo Rollout that runs the template in the Deployment's stead replaces the pods
			// that run by its own strategy; it adds its failure to the Deployment's own, and lifts
			// none (a Deployment's Recreate stays a failure).
			if why := argoRolloutStopsAll(ctx.Inventory, o); why != "" {
				ctx.Fail("", "%s", why)
				return
			}
			if r.Type == string(appsv1.RecreateDeploymentStrategyType) {
				ctx.Fail("", "strategy Recreate stops every pod before starting the new version")
				return
			}
			if why := stopsAllAtOnce(o, r, replicas, at); why != "" {
				ctx.Fail("", "rollingUpdate %s, as Recreate does", why)
				return
			}
			if r.Paused {
				// The deployment controller only scales a paused Deployment (syncDeployment
				// calls sync, which creates no ReplicaSet for a changed template).
				ctx.Fail("", "paused: changes to the template are not rolled out until it is resumed")
				return
			}
			if why := argoRolloutPaused(ctx.Inventory, o); why != "" {
				ctx.Fail("", "%s", why)
				return
			}
			if replicas == nil {
				if why := stopsAllAtOnce(o, r, &defaultReplicas, ""); why != "" {
					ctx.NotAssessed("", replicasUnset("rollingUpdate "+why))
					return
				}
			}
			ctx.Pass("")
		case r != nil && o.Kind == "StatefulSet":
			if why := statefulSetHoldsBack(o, r, replicas, at); why != "" {
				ctx.Fail("", "%s", why)
				return
			}
			if replicas == nil {
				if why := statefulSetHoldsBack(o, r, &defaultReplicas, ""); why != "" {
					ctx.NotAssessed("", replicasUnset(why))
					return
				}
			}
			judgeOnDelete(ctx, r.Type, o.APIVersion == "apps/v1beta1")
		case r != nil && o.Kind == "DaemonSet":
			if r.Type != string(appsv1.OnDeleteDaemonSetStrategyType) && r.RollingUpdate {
				// Validation lets maxUnavailable be non-zero only without surge; the controller
				// then replaces the pods of that many nodes at once, a percentage rounded up.
				if p, ok := intOrPercent(r.MaxUnavailable); ok && p >= 100 {
					ctx.Fail("", "rollingUpdate maxUnavailable %s stops the daemon on every node at once", r.MaxUnavailable.String())
					return
				}
				if fail, undecided := daemonSetStopsAll(ctx.Inventory, o, r); fail != "" {
					ctx.Fail("", "%s", fail)
					return
				} else if undecided != "" {
					ctx.NotAssessed("", undecided)
					return
				}
			}
			judgeOnDelete(ctx, r.Type, o.APIVersion == "extensions/v1beta1")
		case o.Workload != nil && (o.Kind == "ReplicaSet" || o.Kind == "ReplicationController"), isReplicationController(o):
			// The replica set and replication managers (pkg/controller/replicaset) only count
			// pods: they create or delete some to reach replicas, and never replace one whose
			// spec differs from the template.
			ctx.Fail("", "a %s has no update strategy: a change to its template reaches only the pods created after it, as OnDelete", o.Kind)
		default:
			ctx.NotApplicable("", "not an apps Deployment, StatefulSet or DaemonSet")
		}
	},
}

// isReplicationController reports a ReplicationController without a template, which is no
// workload (engine.Workload) but replaces no pod either.
func isReplicationController(o *engine.Object) bool {
	_, ok := o.Obj.(*corev1.ReplicationController)
	return ok
}

// specReplicas is a Deployment's or StatefulSet's spec.replicas, nil when unset.
func specReplicas(o *engine.Object, r *engine.Rollout) *int32 {
	if r == nil || r.ReplicasUnset {
		return nil
	}
	return o.Workload.Replicas
}

// defaultReplicas is what the API server sets an unset spec.replicas of a Deployment or
// StatefulSet to (SetDefaults_Deployment, SetDefaults_StatefulSet).
var defaultReplicas int32 = 1

// replicasUnset says why a rollout that holds back or stops every pod at the default replica
// count cannot be judged: no HorizontalPodAutoscaler among the objects read scales the workload,
// but something else may set its replicas (an autoscaler in a manifest not read, an operator).
func replicasUnset(why string) string {
	return "spec.replicas is unset, which the API server defaults to 1, and then " + why +
		"; unless something sets replicas, as no HorizontalPodAutoscaler among the objects read does"
}

// judgeOnDelete fails the OnDelete update strategy, set or defaulted by an old API version.
func judgeOnDelete(ctx *engine.Context, strategy string, onDeleteByDefault bool) {
	switch {
	case strategy == string(appsv1.OnDeleteStatefulSetStrategyType):
		ctx.Fail("", "updateStrategy OnDelete rolls out nothing until pods are deleted by hand")
	case strategy == "" && onDeleteByDefault:
		ctx.Fail("", "no updateStrategy: this API version defaults to OnDelete, which rolls out nothing until pods are deleted by hand")
	default:
		ctx.Pass("")
	}
}

// stopsAllAtOnce says how a Deployment's rolling update stops every pod it has before a new one
// is ready, or "" when it keeps some serving. The deployment controller scales the old
// ReplicaSets down to replicas - maxUnavailable whatever the new pods' state
// (pkg/controller/deployment/rolling.go), with maxUnavailable resolved as util.ResolveFenceposts
// does: a percentage of the replicas rounded down (maxSurge rounded up), and 1 when both come to
// 0. Unset fields take the API version's defaults: 25% each, 1 each in extensions/v1beta1. When
// replicas is unset (a manifest whose replicas an autoscaler sets) only a maxUnavailable of 100%
// is judged, since it stops every pod whatever their number. replicasField is spec.replicas, or
// the count to judge in its place (an autoscaler's minReplicas, which at says).
func stopsAllAtOnce(o *engine.Object, r *engine.Rollout, replicasField *int32, at string) string {
	def := intstr.FromString("25%")
	if o.APIVersion == "extensions/v1beta1" {
		def = intstr.FromInt32(1)
	}
	maxSurge, maxUnavailable := intstr.ValueOrDefault(r.MaxSurge, def), intstr.ValueOrDefault(r.MaxUnavailable, def)
	if replicasField == nil {
		if p, ok := intOrPercent(maxUnavailable); ok && p >= 100 {
			return fmt.Sprintf("maxUnavailable %s stops every pod before any replacement is ready", maxUnavailable.String())
		}
		return ""
	}
	replicas := int(*replicasField)
	if replicas <= 0 {
		return ""
	}
	surge, err := intstr.GetScaledValueFromIntOrPercent(maxSurge, replicas, true)
	if err != nil {
		return ""
	}
	unavailable, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, replicas, false)
	if err != nil {
		return ""
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	switch {
	case unavailable < replicas:
		return ""
	case replicas == 1:
		return fmt.Sprintf("maxUnavailable %s (maxSurge %s) stops the only pod before its replacement is ready%s", maxUnavailable.String(), maxSurge.String(), at)
	}
	return fmt.Sprintf("maxUnavailable %s stops all %d pods before any replacement is ready%s", maxUnavailable.String(), replicas, at)
}

// statefulSetHoldsBack says how a StatefulSet's update strategy stops every pod at once or
// updates none, or "" when it does neither (OnDelete is judgeOnDelete's). Recreate (alpha,
// StatefulSetRecreateStrategy) terminates every pod before the new revision starts. A rolling
// update replaces only the pods whose ordinal index is at least the partition, and as many at
// once as maxUnavailable (MaxUnavailableStatefulSet, on by default since 1.37), resolved as
// getStatefulSetMaxUnavailable does: a percentage of the replicas rounded down, at least 1
// (pkg/controller/statefulset). Both are judged only when spec.replicas is set (replicasField,
// or the count to judge in its place), and maxUnavailable only from two replicas (one replica
// is always replaced in place). at says whose count replicasField is when not spec.replicas.
func statefulSetHoldsBack(o *engine.Object, r *engine.Rollout, replicasField *int32, at string) string {
	switch t := appsv1.StatefulSetUpdateStrategyType(r.Type); {
	case t == appsv1.RecreateStatefulSetStrategyType:
		return "updateStrategy Recreate stops every pod before starting the new version"
	case t == appsv1.RollingUpdateStatefulSetStrategyType, t == "" && o.APIVersion != "apps/v1beta1":
	default:
		return ""
	}
	if !r.RollingUpdate || replicasField == nil || *replicasField <= 0 {
		return ""
	}
	replicas := *replicasField
	if r.Partition != nil && *r.Partition >= replicas {
		return fmt.Sprintf("rollingUpdate partition %d updates none of its %s%s: changes to the template never reach them",
			*r.Partition, countNoun(replicas, "pod"), at)
	}
	if r.MaxUnavailable == nil || replicas < 2 {
		return ""
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(r.MaxUnavailable, int(replicas), false)
	if err != nil || max(n, 1) < int(replicas) {
		return ""
	}
	return fmt.Sprintf("rollingUpdate maxUnavailable %s stops all %d pods at once%s, as Recreate does", r.MaxUnavailable.String(), replicas, at)
}

// daemonSetStopsAll says how a DaemonSet's rolling update without surge stops the daemon on every
// node that runs it at once (fail), or why that cannot be told (undecided), or neither. The
// DaemonSet controller replaces the pods of maxUnavailable nodes at once, resolved against the
// number of nodes that should run the daemon (desiredNumberScheduled), a percentage rounded UP
// (UnavailableCount, GetScaledValueFromIntOrPercent(..., true); 1 when it and maxSurge come to 0;
// and none is stopped first when maxSurge is above 0: k8s.io/kubernetes v1.37.2
// pkg/controller/daemon/update.go, updatedDesiredNodeCounts and rollingUpdate). So 99% is every
// node of any cluster of up to 99 such nodes, and an integer n every node of a cluster of up to
// n. On one node any rollout without surge stops the daemon (the default maxUnavailable 1 too):
// a value that stops every node only there is not failed. The operator reads the node count from
// the DaemonSet's status, which only the controller writes (a status in a manifest is not the
// cluster's, and a scan does not read it); when it is not known (a scan, or a status of fewer
// than two nodes), a value that would stop every node of a cluster of two or more is undecided.
func daemonSetStopsAll(inv *engine.Inventory, o *engine.Object, r *engine.Rollout) (fail, undecided string) {
	if p, ok := intOrPercent(r.MaxSurge); (ok && p > 0) || (r.MaxSurge != nil && r.MaxSurge.Type == intstr.Int && r.MaxSurge.IntVal > 0) {
		return "", ""
	}
	mu := intstr.ValueOrDefault(r.MaxUnavailable, intstr.FromInt32(1)) // the default of every API version
	var nodes int
	if ds, ok := o.Obj.(*appsv1.DaemonSet); ok && inv.Complete {
		nodes = int(ds.Status.DesiredNumberScheduled)
	}
	if nodes >= 2 {
		n, err := intstr.GetScaledValueFromIntOrPercent(mu, nodes, true)
		if err != nil || n < nodes {
			return "", ""
		}
		return fmt.Sprintf("rollingUpdate maxUnavailable %s stops the daemon on all %d nodes that run it at once "+
			"(a percentage rounded up, as the DaemonSet controller resolves it)", mu.String(), nodes), ""
	}
	// The largest number of nodes of which maxUnavailable stops every one.
	var most int
	if p, ok := intOrPercent(mu); ok {
		if p <= 0 || p >= 100 {
			return "", ""
		}
		most = (100+(100-p)-1)/(100-p) - 1 // n*(100-p) < 100
	} else if mu.Type == intstr.Int {
		most = int(mu.IntVal)
	}
	if most < 2 {
		return "", ""
	}
	return "", fmt.Sprintf("rollingUpdate maxUnavailable %s, rounded up as the DaemonSet controller resolves it against the nodes "+
		"that run the daemon, stops it on every node at once in a cluster of up to %d nodes, and how many run it is not known", mu.String(), most)
}

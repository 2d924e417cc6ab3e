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
		"controller does), a DaemonSet's maxUnavailable of 100% on every node, and a StatefulSet's " +
		"Recreate strategy or maxUnavailable reaching its replicas. StatefulSets and DaemonSets with " +
		"OnDelete never roll out a change until someone deletes the pods by hand, and a paused " +
		"Deployment or a StatefulSet whose partition is at or above its replicas never rolls one " +
		"out, so fixes do not reach them (A1.2). A Deployment or StatefulSet whose replicas are unset runs 1 pod, as the " +
		"API server defaults them, unless an autoscaler sets them, which the check does not read: a strategy that would " +
		"stop or hold back that one pod is NotAssessed. The old API versions whose default was OnDelete (extensions/v1beta1 " +
		"DaemonSets, apps/v1beta1 StatefulSets) fail when they set no strategy. A ReplicaSet or " +
		"ReplicationController no controller owns has no update strategy at all: it never replaces a pod " +
		"when its template changes, as OnDelete, and fails." + controlledRevisionText + supporting,
	Remediation: "Use strategy.type RollingUpdate (Deployments) or updateStrategy.type RollingUpdate " +
		"(StatefulSets, DaemonSets) with a maxUnavailable below the replica count (or a maxSurge) and a " +
		"StatefulSet partition below it once a staged rollout is done; resume a paused Deployment " +
		"(kubectl rollout resume) once its changes are made; " +
		"run a bare ReplicaSet or a ReplicationController from a Deployment; " +
		"if a volume allows one writer only, record why Recreate is needed.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if controlledRevision(ctx, o) {
			return
		}
		switch t := o.Obj.(type) {
		case *appsv1.Deployment:
			if t.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
				ctx.Fail("", "strategy Recreate stops every pod before starting the new version")
				return
			}
			if why := stopsAllAtOnce(o, t, t.Spec.Replicas); why != "" {
				ctx.Fail("", "rollingUpdate %s, as Recreate does", why)
				return
			}
			if t.Spec.Paused {
				// The deployment controller only scales a paused Deployment (syncDeployment
				// calls sync, which creates no ReplicaSet for a changed template).
				ctx.Fail("", "paused: changes to the template are not rolled out until it is resumed")
				return
			}
			if t.Spec.Replicas == nil {
				if why := stopsAllAtOnce(o, t, &defaultReplicas); why != "" {
					ctx.NotAssessed("", replicasUnset("rollingUpdate "+why))
					return
				}
			}
			ctx.Pass("")
		case *appsv1.StatefulSet:
			if why := statefulSetHoldsBack(o, t, t.Spec.Replicas); why != "" {
				ctx.Fail("", "%s", why)
				return
			}
			if t.Spec.Replicas == nil {
				if why := statefulSetHoldsBack(o, t, &defaultReplicas); why != "" {
					ctx.NotAssessed("", replicasUnset(why))
					return
				}
			}
			judgeOnDelete(ctx, string(t.Spec.UpdateStrategy.Type), o.APIVersion == "apps/v1beta1")
		case *appsv1.DaemonSet:
			if ru := t.Spec.UpdateStrategy.RollingUpdate; t.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && ru != nil {
				// Validation lets maxUnavailable be non-zero only without surge; the controller
				// then replaces the pods of that many nodes at once, a percentage rounded up.
				if p, ok := intOrPercent(ru.MaxUnavailable); ok && p >= 100 {
					ctx.Fail("", "rollingUpdate maxUnavailable %s stops the daemon on every node at once", ru.MaxUnavailable.String())
					return
				}
			}
			judgeOnDelete(ctx, string(t.Spec.UpdateStrategy.Type), o.APIVersion == "extensions/v1beta1")
		case *appsv1.ReplicaSet, *corev1.ReplicationController:
			// The replica set and replication managers (pkg/controller/replicaset) only count
			// pods: they create or delete some to reach replicas, and never replace one whose
			// spec differs from the template.
			ctx.Fail("", "a %s has no update strategy: a change to its template reaches only the pods created after it, as OnDelete", o.Kind)
		default:
			ctx.NotApplicable("", "not an apps Deployment, StatefulSet or DaemonSet")
		}
	},
}

// defaultReplicas is what the API server sets an unset spec.replicas of a Deployment or
// StatefulSet to (SetDefaults_Deployment, SetDefaults_StatefulSet).
var defaultReplicas int32 = 1

// replicasUnset says why a rollout that holds back or stops every pod at the default replica
// count cannot be judged: an autoscaler may set replicas, and the check reads the workload alone
// (the compact form of a workload that checks reading other objects see keeps no strategy).
func replicasUnset(why string) string {
	return "spec.replicas is unset, which the API server defaults to 1, and then " + why +
		"; unless an autoscaler sets replicas, which this check does not read"
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
// the count to judge in its place.
func stopsAllAtOnce(o *engine.Object, d *appsv1.Deployment, replicasField *int32) string {
	def := intstr.FromString("25%")
	if o.APIVersion == "extensions/v1beta1" {
		def = intstr.FromInt32(1)
	}
	maxSurge, maxUnavailable := &def, &def
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		maxSurge, maxUnavailable = intstr.ValueOrDefault(ru.MaxSurge, def), intstr.ValueOrDefault(ru.MaxUnavailable, def)
	}
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
		return fmt.Sprintf("maxUnavailable %s (maxSurge %s) stops the only pod before its replacement is ready", maxUnavailable.String(), maxSurge.String())
	}
	return fmt.Sprintf("maxUnavailable %s stops all %d pods before any replacement is ready", maxUnavailable.String(), replicas)
}

// statefulSetHoldsBack says how a StatefulSet's update strategy stops every pod at once or
// updates none, or "" when it does neither (OnDelete is judgeOnDelete's). Recreate (alpha,
// StatefulSetRecreateStrategy) terminates every pod before the new revision starts. A rolling
// update replaces only the pods whose ordinal index is at least the partition, and as many at
// once as maxUnavailable (MaxUnavailableStatefulSet, on by default since 1.37), resolved as
// getStatefulSetMaxUnavailable does: a percentage of the replicas rounded down, at least 1
// (pkg/controller/statefulset). Both are judged only when spec.replicas is set (replicasField,
// or the count to judge in its place), and maxUnavailable only from two replicas (one replica
// is always replaced in place).
func statefulSetHoldsBack(o *engine.Object, s *appsv1.StatefulSet, replicasField *int32) string {
	switch t := s.Spec.UpdateStrategy.Type; {
	case t == appsv1.RecreateStatefulSetStrategyType:
		return "updateStrategy Recreate stops every pod before starting the new version"
	case t == appsv1.RollingUpdateStatefulSetStrategyType, t == "" && o.APIVersion != "apps/v1beta1":
	default:
		return ""
	}
	ru := s.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || replicasField == nil || *replicasField <= 0 {
		return ""
	}
	replicas := *replicasField
	if ru.Partition != nil && *ru.Partition >= replicas {
		return fmt.Sprintf("rollingUpdate partition %d updates none of its %s: changes to the template never reach them",
			*ru.Partition, countNoun(replicas, "pod"))
	}
	if ru.MaxUnavailable == nil || replicas < 2 {
		return ""
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, int(replicas), false)
	if err != nil || max(n, 1) < int(replicas) {
		return ""
	}
	return fmt.Sprintf("rollingUpdate maxUnavailable %s stops all %d pods at once, as Recreate does", ru.MaxUnavailable.String(), replicas)
}

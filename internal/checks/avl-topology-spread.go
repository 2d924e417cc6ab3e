package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlTopologySpread = &engine.Check{
	ID:    "avl-topology-spread",
	Title: "Replicas are spread across nodes or zones",
	Description: "Replicas that the scheduler packs onto one node or one zone all fail together when it " +
		"does, and the redundancy the replica count promises is not there (A1.2). A workload with more " +
		"than one replica (or an autoscaler that may give it more) needs topologySpreadConstraints or " +
		"a pod anti-affinity." + supporting,
	Remediation: "Add topologySpreadConstraints over kubernetes.io/hostname and topology.kubernetes.io/zone " +
		"(whenUnsatisfiable: ScheduleAnyway is enough to start), or a preferred podAntiAffinity on the pods' own labels.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  replicatedKinds,
	Reads:    []string{"HorizontalPodAutoscaler"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Workload == nil {
			ctx.NotApplicable("", "no pod template")
			return
		}
		h := autoscalerOf(ctx.Inventory, o)
		if replicasOf(o) <= 1 && (h == nil || h.Spec.MaxReplicas <= 1) {
			ctx.NotApplicable("", "a single replica has nothing to spread")
			return
		}
		pod := o.Workload.Pod()
		if len(pod.TopologySpreadConstraints) > 0 {
			ctx.Pass("")
			return
		}
		if a := pod.PodAntiAffinity; a != nil &&
			len(a.RequiredDuringSchedulingIgnoredDuringExecution)+len(a.PreferredDuringSchedulingIgnoredDuringExecution) > 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "neither topologySpreadConstraints nor a podAntiAffinity spreads its replicas: they may all land on one node")
	},
}

package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlMemoryLimit = &engine.Check{
	ID:    "avl-memory-limit",
	Title: "Containers have a memory limit",
	Description: "A container without a memory limit can consume the node's memory until the kernel kills " +
		"other pods or the kubelet evicts them: one leak takes down its neighbours (A1.1). CPU limits " +
		"are deliberately not required: CPU is compressible, and a CPU limit throttles a container " +
		"even when the node has idle CPU, which hurts latency more than it protects capacity. A limit " +
		"of 0 is no limit: the kubelet sets none. In the cluster a LimitRange's Container default (or max) counts for the " +
		"containers that leave the limit out, except in a Pod, which holds what LimitRanger " +
		"filled in when it was created and is judged by that alone; and in the cluster a controller's template that " +
		"leaves the limit to a LimitRange fails while a Pod it runs, created before the LimitRange, holds none. A scan counts no LimitRange in its files: " +
		"only cluster administrators may write one, so the team whose files are judged could not apply it." + supporting,
	Remediation: "Set resources.limits.memory (in the container or at pod level), usually equal to the memory " +
		"request so the pod is not overcommitted; or give the namespace a LimitRange whose Container " +
		"default (or max) memory fills it in at admission.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  workload,
	Reads:    []string{"LimitRange", engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachResourcedContainer(ctx, o, func(c engine.Container) string {
			if ok, without := declaresResource(ctx, o, c, corev1.ResourceMemory, true); !ok {
				return resourceMissing("no memory limit", without) + limitRangeInFiles(ctx, o.Namespace)
			}
			return ""
		})
	},
}

package checks

import (
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPdbZeroDisruptions = &engine.Check{
	ID:    "avl-pdb-zero-disruptions",
	Title: "PodDisruptionBudgets allow at least one disruption",
	Description: "A budget that allows no voluntary disruption (maxUnavailable 0, minAvailable 100%, or a " +
		"minAvailable as high as the pods it covers) blocks every node drain: cluster upgrades and " +
		"node repairs stall, or an operator forces them through and the budget protects nothing " +
		"(A1.2). For a workload scaled by a HorizontalPodAutoscaler, its minReplicas is the pod count " +
		"judged. A budget that selects pods another budget selects too fails as well: the eviction " +
		"API refuses to evict a pod that more than one budget selects." + supporting,
	Remediation: "Use maxUnavailable: 1 (or a percentage above 0), or a minAvailable below the number of pods the " +
		"budget covers; raise the replicas if one pod may not be spared.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  []string{"PodDisruptionBudget"},
	Reads:    []string{engine.KindWorkload, "HorizontalPodAutoscaler"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		b := budgetOf(ctx.Inventory, o)
		if b == nil {
			ctx.NotApplicable("", "not a policy PodDisruptionBudget")
			return
		}
		if w, other := sharedBudget(ctx.Inventory, b); w != nil {
			ctx.Fail("", "the pods of %s are also selected by PodDisruptionBudget %q: the eviction API refuses to evict a pod that more than one budget selects, so node drains block",
				describeWorkloads([]*engine.Object{w}), other)
			return
		}
		spec := b.pdb.Spec
		if mu := spec.MaxUnavailable; mu != nil {
			if p, ok := intOrPercent(mu); (ok && p == 0) || (mu.Type == intstr.Int && mu.IntVal == 0) {
				ctx.Fail("", "maxUnavailable is %s: no pod may ever be evicted, so node drains block", mu.String())
				return
			}
			ctx.Pass("")
			return
		}
		ma := spec.MinAvailable
		if ma == nil {
			ctx.NotApplicable("", "the budget sets neither minAvailable nor maxUnavailable")
			return
		}
		if p, ok := intOrPercent(ma); ok && p >= 100 {
			ctx.Fail("", "minAvailable is %s: no pod may ever be evicted, so node drains block", ma.String())
			return
		}
		ws := selectedWorkloads(ctx.Inventory, b)
		if len(ws) == 0 {
			if ctx.Inventory.Complete {
				ctx.Pass("")
			} else {
				ctx.NotAssessed("", "the budget selects no workload in the scanned input")
			}
			return
		}
		var pods int32
		for _, w := range ws {
			n, known := podCount(ctx.Inventory, w)
			if !known {
				ctx.NotAssessed("", "the budget selects "+describeWorkloads([]*engine.Object{w})+", whose pod count depends on the nodes")
				return
			}
			pods += n
		}
		need := ma.IntVal
		if p, ok := intOrPercent(ma); ok {
			// The disruption controller rounds a percentage of minAvailable up.
			need = int32((int64(p)*int64(pods) + 99) / 100)
		}
		if pods > 0 && need >= pods {
			ctx.Fail("", "minAvailable %s leaves no pod of %s (%s) free to evict, so node drains block",
				ma.String(), describeWorkloads(ws), countNoun(pods, "pod"))
			return
		}
		ctx.Pass("")
	},
}

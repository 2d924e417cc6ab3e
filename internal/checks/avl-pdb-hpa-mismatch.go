package checks

import (
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPdbHpaMismatch = &engine.Check{
	ID:    "avl-pdb-hpa-mismatch",
	Title: "PodDisruptionBudgets do not require more pods than autoscaling keeps",
	Description: "When a HorizontalPodAutoscaler scales a workload down to its minReplicas, a budget whose " +
		"minAvailable is higher than that count can never be met: evictions are refused, drains " +
		"block, and the capacity plan written in the autoscaler and the budget disagree (A1.1). The " +
		"check compares an integer minAvailable with the pods the selected workloads keep at their " +
		"autoscalers' minReplicas (several autoscalers of one workload keep it within the highest minReplicas and the lowest maxReplicas, as avl-replicas reads them). A budget in a manifest that the API server refuses (minAvailable and maxUnavailable both set, a " +
		"negative value, a percentage above 100% or a string that is not a percentage, an unknown unhealthyPodEvictionPolicy, policy/v1beta1) " +
		"is never created, and is NotApplicable." + argoRolloutPodsText + supporting,
	Remediation: "Lower minAvailable below the autoscaler's minReplicas (or use maxUnavailable), or raise the " +
		"autoscaler's minReplicas.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  []string{"PodDisruptionBudget"},
	Reads:    []string{engine.KindWorkload, "HorizontalPodAutoscaler", kedaScaledObjectKind, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		b := budgetOf(ctx.Inventory, o)
		if b == nil {
			ctx.NotApplicable("", "not a policy PodDisruptionBudget")
			return
		}
		if b.refused != "" {
			ctx.NotApplicable("", "the API server refuses the budget ("+b.refused+"): it is never created")
			return
		}
		ma := b.pdb.Spec.MinAvailable
		if ma == nil || ma.Type != intstr.Int {
			ctx.NotApplicable("", "the budget sets no integer minAvailable")
			return
		}
		ws := selectedWorkloads(ctx.Inventory, b)
		if len(ws) == 0 && !ctx.Inventory.Complete {
			ctx.NotAssessed("", "the budget selects no workload in the scanned input")
			return
		}
		var pods int32
		var scaled, uncounted []*engine.Object
		var autoscalers []string
		shared := false
		for _, w := range ws {
			// A Deployment whose template Argo Rollouts run has the Rollouts' autoscalers.
			isScaled := false
			for _, as := range scaledAs(ctx.Inventory, w) {
				if h := autoscalerOf(ctx.Inventory, as); h != nil {
					isScaled = true
					autoscalers = append(autoscalers, h.Name)
				} else if _, names, ok := sharedAutoscaling(ctx.Inventory, as); ok {
					// Several autoscalers keep it within their bounds (sharedAutoscaling).
					isScaled, shared = true, true
					autoscalers = append(autoscalers, names...)
				}
			}
			if isScaled {
				scaled = append(scaled, w)
			}
			n, known := podCount(ctx.Inventory, w)
			if !known {
				uncounted = append(uncounted, w)
				continue
			}
			pods += n
		}
		// Without an autoscaler there is nothing to compare the budget with, whether or not
		// every selected pod can be counted.
		if len(autoscalers) == 0 {
			ctx.NotApplicable("", "no HorizontalPodAutoscaler scales a workload the budget selects")
			return
		}
		if len(uncounted) > 0 {
			ctx.NotAssessed("", "the budget selects "+describeWorkloads(uncounted)+", whose pod count "+uncountedWhy(uncounted[0]))
			return
		}
		if ma.IntVal > pods && shared {
			ctx.Fail("", "minAvailable %d is greater than the %s left when HorizontalPodAutoscalers %s keep %s at their fewest (several autoscalers of one workload "+
				"scale it by no metric, AmbiguousSelector, but bring its replicas within their minReplicas and maxReplicas): evictions are then refused",
				ma.IntVal, countNoun(pods, "pod"), quoteList(autoscalers), describeWorkloads(scaled))
			return
		}
		if ma.IntVal > pods {
			ctx.Fail("", "minAvailable %d is greater than the %s left when HorizontalPodAutoscaler %s scales %s down to minReplicas: evictions are then refused",
				ma.IntVal, countNoun(pods, "pod"), quoteList(autoscalers), describeWorkloads(scaled))
			return
		}
		ctx.Pass("")
	},
}

// uncountedWhy says why podCount cannot count a workload's pods.
func uncountedWhy(w *engine.Object) string {
	if w.Kind == "DaemonSet" {
		return "depends on the nodes"
	}
	return "depends on the Job's parallelism and progress"
}

package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPriorityClass = &engine.Check{
	ID:    "avl-priority-class",
	Title: "Long-running workloads set a priority class",
	Description: "When a cluster runs short of capacity the scheduler preempts and the kubelet evicts pods by " +
		"priority; without a priorityClassName a critical service has the same priority as any batch " +
		"job and may be the one that goes (A1.1). Jobs, CronJobs and pods that run to completion are " +
		"NotApplicable." + supporting,
	Remediation: "Define PriorityClasses for the cluster's tiers and set spec.priorityClassName in the pod template.",
	Severity:    low,
	Criteria:    []v1alpha1.Criterion{a11},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if !o.Workload.LongRunning {
			ctx.NotApplicable("", "the workload runs to completion")
			return
		}
		if o.Workload.PodSpec.PriorityClassName == "" {
			ctx.Fail("", "no priorityClassName: the pods have the default priority")
			return
		}
		ctx.Pass("")
	},
}

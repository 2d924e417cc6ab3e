package checks

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlBarePod = &engine.Check{
	ID:    "avl-bare-pod",
	Title: "Pods are managed by a controller",
	Description: "A pod created on its own is not recreated when its node fails, is drained or is " +
		"upgraded, and cannot be rolled out or scaled: the service is gone until someone notices " +
		"(A1.2). Pods made by Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs " +
		"are judged through their controller and never reach this check; a pod whose controller is " +
		"of another kind (an operator's custom resource, the kubelet for a static pod) passes." + supporting,
	Remediation: "Run the pod from a Deployment (or a StatefulSet, DaemonSet or Job, as fits the workload).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{a12},
	Targets:     []string{"Pod"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if metav1.GetControllerOf(o.Obj) != nil {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "a bare pod is not recreated if its node fails")
	},
}

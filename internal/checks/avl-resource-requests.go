package checks

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlResourceRequests = &engine.Check{
	ID:    "avl-resource-requests",
	Title: "Containers request CPU and memory",
	Description: "Requests are what the scheduler reserves for a container: without them pods are placed on " +
		"nodes that cannot hold them, are the first evicted under pressure (BestEffort), and capacity " +
		"cannot be planned (A1.1). Every container that can declare resources (regular, init and " +
		"sidecar containers) needs cpu and memory requests, in the container, at pod level, or, in the cluster, from a " +
		"LimitRange of the namespace whose Container defaults fill in what a container leaves out at " +
		"admission (a scan counts no LimitRange in its files: only cluster administrators may write one, so the team whose files are judged could not apply it); a limit alone counts, since Kubernetes copies it into the request. A request of 0 reserves nothing " +
		"and does not count. A pod-level limit without a pod-level request counts as the request only where no container names " +
		"one: where a container names the request (or a limit), the API server makes the pod-level request the containers' requests " +
		"aggregated, which containers that all ask 0 leave at 0. A Pod in the cluster holds what LimitRanger filled in when it was created and is " +
		"judged by that alone (one created before the LimitRange has nothing from it); and in the cluster a controller's " +
		"template that leaves a request to a LimitRange fails while a Pod it runs, created before the LimitRange, holds none." + supporting,
	Remediation: "Set resources.requests.cpu and resources.requests.memory from observed usage (a " +
		"VerticalPodAutoscaler in recommendation mode helps).",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  workload,
	Reads:    []string{"LimitRange", engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachResourcedContainer(ctx, o, func(c engine.Container) string {
			var missing []string
			var without *engine.Object // a Pod created before a LimitRange gave it a request
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if ok, w := declaresResource(ctx, o, c, r, false); !ok {
					missing = append(missing, string(r))
					if without == nil {
						without = w
					}
				}
			}
			if len(missing) == 0 {
				return ""
			}
			return resourceMissing("no "+strings.Join(missing, " or ")+" request", without) + limitRangeInFiles(ctx, o.Namespace)
		})
	},
}

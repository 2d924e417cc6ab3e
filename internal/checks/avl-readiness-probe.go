package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlReadinessProbe = &engine.Check{
	ID:    "avl-readiness-probe",
	Title: "Long-running containers have a readiness probe",
	Description: "Without a readiness probe a pod receives traffic as soon as its containers start, and " +
		"keeps receiving it while it is overloaded or has lost a dependency; rollouts proceed past " +
		"replicas that do not work (A1.2). The check covers the regular containers and native " +
		"sidecars of long-running workloads; init containers, ephemeral containers and " +
		"workloads that run to completion are NotApplicable: Jobs, CronJobs and Pods whose restartPolicy is not Always, unless a regular container is restarted after it exits 0 (its own restartPolicy Always, or a restartPolicyRules rule that restarts on exit code 0, Kubernetes 1.35+), and Pods whose regular containers' own restartPolicy (Never, OnFailure) lets every one of them complete. A probe that runs only a no-op (exec true or echo, or a shell " +
		"whose -c script, with -c alone or among other one-letter options, is only true, :, echo or exit 0) succeeds whatever the container's state, and an " +
		"HTTP or TCP probe that names a host the kubelet reaches instead of the pod tests something else: " +
		"both count as none, and so does an HTTP or TCP probe of a port name the container does not declare, which the kubelet " +
		"cannot resolve and fails every time. A probe that asks by number a port only another container of the pod declares " +
		"is answered by that container, which may or may not ask this one: NotAssessed. In a scan, a probe the API server refuses (no handler or more than " +
		"one, an exec without a command, a port out of range, a negative number, a successThreshold other than 1 on a liveness " +
		"probe, terminationGracePeriodSeconds on a readiness probe) fails: the workload is never created." + supporting,
	Remediation: "Add a readinessProbe (httpGet on a health endpoint, tcpSocket or grpc) that fails while the " +
		"container cannot serve.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachServingContainer(ctx, o, func(c engine.Container) (string, string) {
			return judgeProbeIn(ctx, o, c, "readinessProbe", c.ReadinessProbe)
		})
	},
}

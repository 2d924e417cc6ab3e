package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlLivenessProbe = &engine.Check{
	ID:    "avl-liveness-probe",
	Title: "Long-running containers have a liveness probe",
	Description: "Without a liveness probe a container that deadlocks or hangs keeps running and is never " +
		"restarted, so the capacity it stands for is silently lost (A1.2). The check covers the " +
		"regular containers and native sidecars of long-running workloads; init containers, " +
		"ephemeral containers and " +
		"workloads that run to completion are NotApplicable: Jobs, CronJobs and Pods whose restartPolicy is not Always, unless a regular container is restarted after it exits 0 (its own restartPolicy Always, or a restartPolicyRules rule that restarts on exit code 0, Kubernetes 1.35+), and Pods whose regular containers' own restartPolicy (Never, OnFailure) lets every one of them complete. A probe that runs only a no-op (exec true or echo, or a shell " +
		"whose -c script, with -c alone or among other one-letter options, is only true, :, echo or exit 0) succeeds whatever the container's state, and an " +
		"HTTP or TCP probe that names a host the kubelet reaches instead of the pod tests something else: " +
		"both count as none, and so does an HTTP or TCP probe of a port name the container does not declare, which the kubelet " +
		"cannot resolve and fails every time. A probe that asks by number a port only another container of the pod declares " +
		"is answered by that container, which may or may not ask this one: NotAssessed. In a scan, a probe the API server refuses (no handler or more than " +
		"one, an exec without a command, a port out of range, a negative number, a successThreshold other than 1 on a liveness " +
		"probe, terminationGracePeriodSeconds on a readiness probe) fails: the workload is never created." + supporting,
	Remediation: "Add a livenessProbe that fails only when the process cannot recover on its own (not when a " +
		"dependency is down), with a startupProbe or initialDelaySeconds for slow starts.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachServingContainer(ctx, o, func(c engine.Container) (string, string) {
			return judgeProbeIn(ctx, o, c, "livenessProbe", c.LivenessProbe)
		})
	},
}

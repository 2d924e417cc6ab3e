package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacWorkloadCreate = &engine.Check{
	ID:    "rbac-workload-create",
	Title: "Roles do not grant creating or changing workloads",
	Description: "Whoever can create or change pods (adding ephemeral containers included) or the controllers that make them (Deployments, " +
		"StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, ReplicationControllers) runs code " +
		"of their choosing as any ServiceAccount of the namespace, with its Secrets mounted " +
		"(CC6.1), outside the change process (CC8.1). So does whoever can create or change the custom " +
		"resources that widely used controllers run pods or VMs from, as the author writes them: Argo Workflows' " +
		"workflows and cronworkflows, Argo Rollouts' rollouts, experiments and analysisruns, Tekton's taskruns and " +
		"pipelineruns, KubeVirt's virtualmachines, virtualmachineinstances, their replica sets and pools, Knative " +
		"Serving's services, configurations and revisions, Kubeflow's training jobs (tfjobs, pytorchjobs, mpijobs, " +
		"xgboostjobs, paddlejobs, mxjobs, jaxjobs, trainjobs) and notebooks, Ray's rayclusters, rayjobs and " +
		"rayservices, the Spark operator's sparkapplications and scheduledsparkapplications, OpenShift's " +
		"deploymentconfigs, JobSet's jobsets, LeaderWorkerSet's leaderworkersets, and OpenKruise's workloads and " +
		"sidecarsets (which inject containers into other pods), and Kyverno's namespaced policies, whose mutate " +
		"rules rewrite the namespace's pods as they are admitted. Templates such " +
		"runs only refer to (WorkflowTemplates, Tekton Tasks and Pipelines) do not count, nor do update and patch " +
		"on taskruns, pipelineruns, revisions and virtualmachineinstances, whose spec their webhooks keep immutable." + supporting,
	Remediation: "Grant create, update and patch on workloads and on these custom resources only to the deployment pipeline's ServiceAccount; give people read access.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61, cc81},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can create or change workloads", func(p *rolePerms) []string { return p.workloadCreate })
	},
}

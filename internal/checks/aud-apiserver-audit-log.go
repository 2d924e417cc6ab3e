package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var audApiserverAuditLog = &engine.Check{
	ID:    "aud-apiserver-audit-log",
	Title: "The API server writes and retains an audit log",
	Description: "The API server's audit log is the record of who changed what in the cluster: without an " +
		"audit policy, a log backend and retention, anomalies cannot be detected or investigated " +
		"(CC7.2) and unauthorised changes cannot be traced (CC6.8). No Kubernetes object is evidence " +
		"of the API server's audit policy or log settings: a kube-apiserver static Pod (kubeadm) shows " +
		"flags but not the policy's rules, anyone who may create Pods can create one so named with " +
		"any flags, and managed control planes (EKS, GKE, AKS) show neither. The check says " +
		"NotAssessed, and the settings need separate evidence." + supporting,
	Remediation: "Set --audit-policy-file with a policy that records at least Metadata for every request and " +
		"RequestResponse for Secrets, RBAC and workload changes, and a log or webhook backend with retention " +
		"(--audit-log-maxage), or enable the managed service's control plane audit logs; keep that configuration as evidence.",
	Severity:     high,
	Criteria:     []v1alpha1.Criterion{cc72, cc68},
	Targets:      []string{engine.TargetCluster},
	Requires:     "the API server's audit policy and log settings",
	Unassessable: true,
	Evaluate: func(ctx *engine.Context, _ *engine.Object) {
		ctx.NotAssessed("", "needs the API server's audit policy and log settings, which no Kubernetes object shows")
	},
}

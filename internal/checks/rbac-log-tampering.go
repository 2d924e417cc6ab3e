package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacLogTampering = &engine.Check{
	ID:    "rbac-log-tampering",
	Title: "Roles do not grant deleting events",
	Description: "Deleting Events (core or events.k8s.io) removes the record of what " +
		"happened in the cluster, so anomalies go unnoticed and an intruder covers their tracks. " +
		"Keeping that record intact supports monitoring (CC7.2). delete on pods/log does not count: " +
		"the API server serves a pod's log for reading alone and has no way to delete it." + supporting,
	Remediation: "Remove delete and deletecollection on events; let Events expire on their own.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc72},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can delete events", func(p *rolePerms) []string { return p.logTampering })
	},
}

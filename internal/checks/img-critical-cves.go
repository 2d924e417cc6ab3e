package checks

import (
	"fmt"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// vulnerabilityReportMaxAge is how old a VulnerabilityReport may be and still pass a container:
// Trivy Operator scans every image again at least daily by default (scannerReportTTL 24h), so a
// week leaves room for a scanner down over a long weekend, not for scans that have stopped.
const vulnerabilityReportMaxAge = 7 * 24 * time.Hour

var imgCriticalCVEs = &engine.Check{
	ID:    "img-critical-cves",
	Title: "Running images have no critical vulnerabilities",
	Description: "Identifying known vulnerabilities in what runs, and fixing the critical ones, is the " +
		"core of vulnerability management (CC7.1). The check reads the VulnerabilityReports Trivy " +
		"Operator keeps for each workload and container (a Deployment's through its ReplicaSets) and " +
		"fails on any critical vulnerability; without a report for the image the container runs (a " +
		"report for an earlier tag or digest is not one, and a Pod or ReplicaSet that runs the " +
		"template's image pinned to another digest than the one scanned runs an image no report " +
		"describes) it cannot decide, nor for an image volume " +
		"(volumes[].image), which Trivy Operator does not scan. A clean report counts only where none of the namespace's own may write it: a report says nothing of who wrote it, so one that a RoleBinding of the namespace (or a ClusterRoleBinding to every user or ServiceAccount) lets its subjects create or change, as the edit and admin roles do where Trivy Operator's chart aggregates write access to its reports into them, leaves the container NotAssessed. Nor does a clean report written more than 7 days before the " +
		"evaluation (report.updateTimestamp), or one without that date: a scan knows only the vulnerabilities " +
		"published before it, and Trivy Operator scans every image again at least daily by default (scannerReportTTL 24h). " +
		"In a scan a clean report among the files counts for nothing (NotAssessed): they are the judged team's, not Trivy Operator's." + supporting,
	Remediation: "Rebuild the image on a patched base image or upgrade the vulnerable packages, then redeploy; " +
		"install Trivy Operator where containers have no report, and keep it rescanning (scannerReportTTL) where reports are old.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc71},
	Targets:  workload,
	Reads:    []string{trivyVulnerabilityKind, "RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeByTrivyReports(ctx, o, trivyVulnerabilityKind,
			"no vulnerability scan report for this container (Trivy Operator VulnerabilityReport)", vulnerabilityReportMaxAge,
			func(c engine.Container, reports []*trivyReport) string {
				r := worstTrivyReport(reports, "criticalCount", "highCount")
				if r.summary["criticalCount"] == 0 {
					return ""
				}
				msg := fmt.Sprintf("image %q has %d critical and %d high vulnerabilities (VulnerabilityReport %q)",
					c.Image, r.summary["criticalCount"], r.summary["highCount"], r.name)
				if r.fixableCritical >= 0 {
					msg += fmt.Sprintf("; %d critical with a fix available", r.fixableCritical)
				}
				return msg
			})
	},
}

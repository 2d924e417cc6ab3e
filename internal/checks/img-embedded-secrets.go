package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgEmbeddedSecrets = &engine.Check{
	ID:    "img-embedded-secrets",
	Title: "Images contain no secrets",
	Description: "A credential baked into an image layer is readable by anyone who can pull the image, " +
		"cannot be rotated without a rebuild, and escapes the controls on Secrets, which defeats " +
		"the protection of confidential information (C1.1) and of keys (CC6.1). The check reads " +
		"the ExposedSecretReports Trivy Operator keeps for each workload and container (a " +
		"Deployment's through its ReplicaSets); without a report for the image the container " +
		"runs (a report for an earlier tag or digest is not one, nor for a Pod or ReplicaSet that " +
		"runs the template's image pinned to another digest) it cannot decide, nor for an image " +
		"volume (volumes[].image), which Trivy Operator does not scan. A clean report counts only where none of the namespace's own may write it: a report says nothing of who wrote it, so one that a RoleBinding of the namespace (or a ClusterRoleBinding to every user or ServiceAccount) lets its subjects create or change, as the edit and admin roles do where Trivy Operator's chart aggregates write access to its reports into them, leaves the container NotAssessed. In a scan a clean report among the files counts for nothing (NotAssessed): they are the judged team's, not Trivy Operator's." + supporting,
	Remediation: "Remove the secret from the image and its build history (rebuild without it), rotate the exposed " +
		"credential, and supply it at runtime from a Secret or an external secret store.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  workload,
	Reads:    []string{trivyExposedSecretKind, "RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeByTrivyReports(ctx, o, trivyExposedSecretKind,
			"no secret scan report for this container (Trivy Operator ExposedSecretReport)", 0,
			func(c engine.Container, reports []*trivyReport) string {
				r := worstTrivyReport(reports, "criticalCount", "highCount", "mediumCount", "lowCount")
				s := r.summary
				total := s["criticalCount"] + s["highCount"] + s["mediumCount"] + s["lowCount"]
				if total == 0 {
					return ""
				}
				noun := "secrets"
				if total == 1 {
					noun = "secret"
				}
				return fmt.Sprintf("image %q contains %d %s (%d critical, %d high, %d medium, %d low; ExposedSecretReport %q)",
					c.Image, total, noun, s["criticalCount"], s["highCount"], s["mediumCount"], s["lowCount"], r.name)
			})
	},
}

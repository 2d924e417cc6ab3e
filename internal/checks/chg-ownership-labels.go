package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var chgOwnershipLabels = &engine.Check{
	ID:    "chg-ownership-labels",
	Title: "Workloads carry the required ownership labels",
	Description: "Labels that name the application, its owner and what manages it tie a running workload " +
		"to the team and the change process responsible for it, so every change can be traced and " +
		"approved by its owner (CC8.1). The profile's parameters.requiredLabels lists the keys " +
		"(default app.kubernetes.io/name); they must be on the workload's own metadata with a " +
		"non-empty value." + supporting,
	Remediation: "Add the missing labels to the workload's metadata.labels, ideally from a shared template " +
		"(a Helm helper or a kustomize commonLabels) so that every workload gets them.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{cc81},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		have := o.Labels()
		var missing []string
		for _, key := range ctx.Params.RequiredLabels {
			if have[key] == "" {
				missing = append(missing, key)
			}
		}
		if len(missing) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "missing required labels %s", quoteList(missing))
	},
}

package checks

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

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
		"non-empty value the API server accepts as a label value (a blank or an unrendered " +
		"template value is refused, and the workload as deployed carries no such label)." + supporting,
	Remediation: "Add the missing labels to the workload's metadata.labels, ideally from a shared template " +
		"(a Helm helper or a kustomize commonLabels) so that every workload gets them.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{cc81},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		have := o.Labels()
		var missing, invalid []string
		for _, key := range ctx.Params.RequiredLabels {
			switch v := have[key]; {
			case v == "":
				missing = append(missing, key)
			case len(validation.IsValidLabelValue(v)) > 0:
				// Only a manifest can hold one: the API server refuses the object.
				invalid = append(invalid, key)
			}
		}
		var why []string
		if len(missing) > 0 {
			why = append(why, "missing required labels "+quoteList(missing))
		}
		if len(invalid) > 0 {
			why = append(why, fmt.Sprintf("labels %s have values that are not label values, which the API server refuses", quoteList(invalid)))
		}
		judgeObject(ctx, strings.Join(why, "; "))
	},
}

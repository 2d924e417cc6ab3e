package checks

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlRollingUpdate = &engine.Check{
	ID:    "avl-rolling-update",
	Title: "Controllers replace pods with rolling updates",
	Description: "A Deployment with the Recreate strategy stops every pod before starting the new version, " +
		"so each release is an outage; StatefulSets and DaemonSets with OnDelete never roll out a " +
		"change until someone deletes the pods by hand, so fixes do not reach them (A1.2). The old " +
		"API versions whose default was OnDelete (extensions/v1beta1 DaemonSets, apps/v1beta1 " +
		"StatefulSets) fail when they set no strategy." + supporting,
	Remediation: "Use strategy.type RollingUpdate (Deployments) or updateStrategy.type RollingUpdate " +
		"(StatefulSets, DaemonSets); if a volume allows one writer only, record why Recreate is needed.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  []string{"Deployment", "StatefulSet", "DaemonSet"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch t := o.Obj.(type) {
		case *appsv1.Deployment:
			if t.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
				ctx.Fail("", "strategy Recreate stops every pod before starting the new version")
				return
			}
			ctx.Pass("")
		case *appsv1.StatefulSet:
			judgeOnDelete(ctx, string(t.Spec.UpdateStrategy.Type), o.APIVersion == "apps/v1beta1")
		case *appsv1.DaemonSet:
			judgeOnDelete(ctx, string(t.Spec.UpdateStrategy.Type), o.APIVersion == "extensions/v1beta1")
		default:
			ctx.NotApplicable("", "not an apps Deployment, StatefulSet or DaemonSet")
		}
	},
}

// judgeOnDelete fails the OnDelete update strategy, set or defaulted by an old API version.
func judgeOnDelete(ctx *engine.Context, strategy string, onDeleteByDefault bool) {
	switch {
	case strategy == string(appsv1.OnDeleteStatefulSetStrategyType):
		ctx.Fail("", "updateStrategy OnDelete rolls out nothing until pods are deleted by hand")
	case strategy == "" && onDeleteByDefault:
		ctx.Fail("", "no updateStrategy: this API version defaults to OnDelete, which rolls out nothing until pods are deleted by hand")
	default:
		ctx.Pass("")
	}
}

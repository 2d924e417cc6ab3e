package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgPullPolicy = &engine.Check{
	ID:    "img-pull-policy",
	Title: "Images are pulled on every start",
	Description: "With imagePullPolicy Always the kubelet checks with the registry, using the pod's pull " +
		"credentials, each time a container starts; with IfNotPresent any pod on the node can run an " +
		"image another pod pulled with credentials it does not have itself (CC6.1). Unset, the " +
		"policy is Always only for an image tagged latest or not tagged at all." + supporting,
	Remediation: "Set imagePullPolicy: Always on every container (or enable the AlwaysPullImages admission plugin).",
	Severity:    low,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			switch c.ImagePullPolicy {
			case corev1.PullAlways:
				return ""
			case "":
				// The API server's default: Always for :latest or no tag and no digest.
				_, tag, digest := imageParts(c.Image)
				if tag == "latest" || (tag == "" && digest == "") {
					return ""
				}
				return "imagePullPolicy is unset, which is IfNotPresent for an image with a tag or digest"
			}
			return "imagePullPolicy is " + string(c.ImagePullPolicy)
		})
	},
}

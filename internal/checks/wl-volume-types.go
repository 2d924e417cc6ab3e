package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlVolumeTypes = &engine.Check{
	ID:    "wl-volume-types",
	Title: "Pods use only restricted volume types",
	Description: "The Pod Security Standards' restricted level allows configMap, csi, downwardAPI, " +
		"emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes; other " +
		"types reach the node or storage directly, around access control (CC6.1). " +
		"Pod Security Standards control: Volume Types (restricted)." + pssDecided + supporting,
	Remediation: "Replace the volume with a PersistentVolumeClaim or one of the allowed types.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssVolumeTypes)
	},
}

// pssVolumeTypes decides wl-volume-types: the Pod Security Standards control Volume Types
// (restricted).
var pssVolumeTypes = &pssControl{checks: []policy.CheckID{"restrictedVolumes"}, podLevel: true}

package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlVolumeTypes = &engine.Check{
	ID:    "wl-volume-types",
	Title: "Pods use only restricted volume types",
	Description: "The Pod Security Standards' restricted level allows configMap, csi, downwardAPI, " +
		"emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes; other " +
		"types reach the node or storage directly, around access control (CC6.1)." + supporting,
	Remediation: "Replace the volume with a PersistentVolumeClaim or one of the allowed types.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		var bad []string
		for _, v := range o.Workload.PodSpec.Volumes {
			if t := restrictedViolation(&v); t != "" {
				bad = append(bad, fmt.Sprintf("%s (%s)", v.Name, t))
			}
		}
		if len(bad) > 0 {
			ctx.Fail("", "uses volumes outside the restricted set: %s", few(bad, ", "))
			return
		}
		ctx.Pass("")
	},
}

// restrictedViolation names the volume's type when the restricted level does not allow it.
func restrictedViolation(v *corev1.Volume) string {
	s := &v.VolumeSource
	if *s == (corev1.VolumeSource{}) {
		return "" // the API server defaults a volume with no source to emptyDir
	}
	switch {
	case s.ConfigMap != nil, s.CSI != nil, s.DownwardAPI != nil, s.EmptyDir != nil, s.Ephemeral != nil,
		s.PersistentVolumeClaim != nil, s.Projected != nil, s.Secret != nil, s.Image != nil:
		return ""
	case s.HostPath != nil:
		return "hostPath"
	case s.NFS != nil:
		return "nfs"
	case s.ISCSI != nil:
		return "iscsi"
	case s.GitRepo != nil:
		return "gitRepo"
	case s.RBD != nil:
		return "rbd"
	case s.FlexVolume != nil:
		return "flexVolume"
	case s.Glusterfs != nil:
		return "glusterfs"
	case s.CephFS != nil:
		return "cephfs"
	case s.FC != nil:
		return "fc"
	case s.AWSElasticBlockStore != nil:
		return "awsElasticBlockStore"
	case s.GCEPersistentDisk != nil:
		return "gcePersistentDisk"
	case s.AzureDisk != nil:
		return "azureDisk"
	case s.AzureFile != nil:
		return "azureFile"
	}
	return "a non-restricted type"
}

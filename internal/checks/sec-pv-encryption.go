package checks

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// encryptedByDefault are provisioners whose volumes the cloud encrypts at rest whatever the
// StorageClass says (with provider-managed keys unless a customer key is configured). An in-tree
// provisioner is here with the CSI driver it is migrated to (k8s.io/csi-translation-lib): its
// classes provision the same volumes. Azure Storage encrypts every storage account (those of
// Azure Files shares and Blob containers) at rest, and cannot be told not to.
var encryptedByDefault = map[string]string{
	"pd.csi.storage.gke.io":        "Google Compute Engine persistent disks",
	"kubernetes.io/gce-pd":         "Google Compute Engine persistent disks",
	"filestore.csi.storage.gke.io": "Google Cloud Filestore instances",
	"lustre.csi.storage.gke.io":    "Google Cloud Managed Lustre instances",
	"disk.csi.azure.com":           "Azure managed disks",
	"kubernetes.io/azure-disk":     "Azure managed disks",
	"file.csi.azure.com":           "Azure Files shares",
	"kubernetes.io/azure-file":     "Azure Files shares",
	"blob.csi.azure.com":           "Azure Blob Storage containers",
}

// ebsProvisioners take an "encrypted" parameter; without it a volume is encrypted only if the
// AWS account turned on EBS encryption by default, which nothing in the cluster shows. EKS Auto
// Mode provisions EBS volumes as ebs.csi.eks.amazonaws.com, with the same parameter (Amazon EKS
// user guide, "Create a storage class": optional, but recommended).
var ebsProvisioners = map[string]bool{"ebs.csi.aws.com": true, "kubernetes.io/aws-ebs": true, "ebs.csi.eks.amazonaws.com": true}

var secPvEncryption = &engine.Check{
	ID:    "sec-pv-encryption",
	Title: "StorageClasses and PersistentVolumes encrypt volumes at rest",
	Description: "Persistent volumes hold application data; encryption at rest protects it when disks, " +
		"snapshots or backups leave the provider's control (C1.1, CC6.1). AWS EBS classes (EKS Auto Mode's " +
		"included) must set " +
		"parameters.encrypted: \"true\" (account-level default encryption is not visible from the " +
		"cluster); GCE persistent disks, Filestore and Managed Lustre instances, and Azure disks, files and " +
		"blob containers are encrypted by the provider. For other provisioners (EFS, Ceph, local volumes, ...) encryption is " +
		"configured outside the StorageClass and the check says NotAssessed. A PersistentVolume is judged " +
		"too, since a class vouches only for the volumes it provisions: one of those providers' volumes passes; " +
		"an EBS volume is judged by the class that provisioned it (annotated pv.kubernetes.io/provisioned-by) " +
		"while that class is still the one of its name (created no later than the volume), and is NotAssessed " +
		"when it was made by hand or its class is gone or was created again since: the volume's own encryption " +
		"is not in the PersistentVolume. In a scan the creation times are those the files wrote, which the API " +
		"server sets: an encrypting class does not pass a volume there (NotAssessed), and one that does not " +
		"encrypt still fails it." + supporting,
	Remediation: "For EBS, set parameters.encrypted: \"true\" (and kmsKeyId for a customer-managed key) on a new " +
		"StorageClass and migrate volumes to it: parameters of an existing class cannot change. For other " +
		"provisioners, and volumes made by hand, keep evidence of the backend's encryption with the exception that records it.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  []string{"StorageClass", "PersistentVolume"},
	Reads:    []string{"StorageClass"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "PersistentVolume" {
			judgeVolumeEncryption(ctx, o)
			return
		}
		sc, ok := o.Obj.(*storagev1.StorageClass)
		if !ok {
			ctx.NotApplicable("", "not a storage.k8s.io/v1 StorageClass")
			return
		}
		p := sc.Provisioner
		judgeBackend(ctx, p, "StorageClass", "provisioner "+p, func() {
			enc, set := ebsEncryptedParameter(sc.Parameters)
			switch {
			case enc == "true":
				ctx.Pass("")
			case !set:
				ctx.Fail("", "%s volumes are not encrypted by the StorageClass: parameters.encrypted is not set", p)
			default:
				ctx.Fail("", "%s volumes are not encrypted: parameters.encrypted is %q", p, enc)
			}
		})
	},
}

// judgeBackend judges the encryption at rest of volumes of backend b (a provisioner or CSI
// driver) from what (a StorageClass or a PersistentVolume), which names it as whose: EBS by ebs,
// the backends that always encrypt Pass, EFS and the others NotAssessed.
func judgeBackend(ctx *engine.Context, b, what, whose string, ebs func()) {
	switch {
	case ebsProvisioners[b]:
		ebs()
	case b == "efs.csi.aws.com":
		ctx.NotAssessed("", "EFS encryption at rest is set on the file system, not in the "+what)
	case encryptedByDefault[b] != "":
		ctx.Pass("")
	default:
		ctx.NotAssessed("", fmt.Sprintf("encryption at rest of %s cannot be judged from the %s", whose, what))
	}
}

// provisionedByAnnotation is the annotation the provisioner that made a PersistentVolume sets
// on it, naming itself (the class's provisioner): the PV controller's
// annDynamicallyProvisioned, k8s.io/kubernetes v1.37.2 pkg/controller/volume/persistentvolume.
const provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"

// volumeBackend names what a PersistentVolume is stored on as a StorageClass would: its CSI
// driver, or the in-tree provisioner of an in-tree cloud volume (which csi-translation-lib
// migrates to that driver); "" with the volume source's name for any other source.
func volumeBackend(pv *corev1.PersistentVolume) (provisioner, source string) {
	s := &pv.Spec.PersistentVolumeSource
	switch {
	case s.CSI != nil:
		return s.CSI.Driver, ""
	case s.AWSElasticBlockStore != nil:
		return "kubernetes.io/aws-ebs", ""
	case s.GCEPersistentDisk != nil:
		return "kubernetes.io/gce-pd", ""
	case s.AzureDisk != nil:
		return "kubernetes.io/azure-disk", ""
	case s.AzureFile != nil:
		return "kubernetes.io/azure-file", ""
	}
	// The JSON name of the source set (hostPath, nfs, local, iscsi, ...; the API server
	// admits exactly one).
	var fields map[string]json.RawMessage
	if raw, err := json.Marshal(s); err == nil && json.Unmarshal(raw, &fields) == nil && len(fields) > 0 {
		return "", slices.Sorted(maps.Keys(fields))[0]
	}
	return "", "unknown"
}

// judgeVolumeEncryption judges a PersistentVolume. A StorageClass vouches only for the volumes it
// provisions, and only while it is the class its name names: parameters cannot change, but a
// class can be deleted and created again, and the volumes of the old one stay as they were made.
func judgeVolumeEncryption(ctx *engine.Context, o *engine.Object) {
	pv, ok := o.Obj.(*corev1.PersistentVolume)
	if !ok {
		ctx.NotApplicable("", "not a v1 PersistentVolume")
		return
	}
	b, source := volumeBackend(pv)
	if b == "" {
		ctx.NotAssessed("", fmt.Sprintf("encryption at rest of this %s volume cannot be judged from the PersistentVolume", source))
		return
	}
	judgeBackend(ctx, b, "PersistentVolume", "a volume of "+b, func() { judgeEBSVolume(ctx, pv, b) })
}

// judgeEBSVolume judges an EBS PersistentVolume of backend b by the StorageClass that provisioned
// it: whether the EBS volume itself is encrypted is not in the PersistentVolume.
func judgeEBSVolume(ctx *engine.Context, pv *corev1.PersistentVolume, b string) {
	const unseen = "whether the EBS volume is encrypted is not in the PersistentVolume"
	by, name := pv.Annotations[provisionedByAnnotation], pv.Spec.StorageClassName
	if beta, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		// Kubernetes reads the volume's class from the beta annotation first
		// (GetPersistentVolumeClass, k8s.io/component-helpers v0.37.2 storage/volume); older
		// provisioners wrote only it. Two different names say nothing of which one made it.
		if name != "" && beta != name {
			ctx.NotAssessed("", fmt.Sprintf("the volume names StorageClass %s in spec.storageClassName and %s in its %s annotation: which class provisioned it cannot be told, and %s",
				name, beta, corev1.BetaStorageClassAnnotation, unseen))
			return
		}
		name = beta
	}
	if !ebsProvisioners[by] || name == "" {
		ctx.NotAssessed("", fmt.Sprintf("the %s volume was not provisioned by a StorageClass of the EBS driver (made by hand, or by another provisioner): %s", b, unseen))
		return
	}
	var sc *storagev1.StorageClass
	refused := ""
	if so := ctx.Inventory.Get("StorageClass", "", name); so != nil {
		sc, _ = so.Obj.(*storagev1.StorageClass)
		if sc != nil && !ctx.Inventory.Complete {
			refused = refusedMeta(&sc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain)
		}
	}
	switch {
	case sc == nil && ctx.Inventory.Complete:
		ctx.NotAssessed("", fmt.Sprintf("StorageClass %s does not exist any more: %s", name, unseen))
		return
	case sc == nil:
		ctx.NotAssessed("", fmt.Sprintf("StorageClass %s is not in the scanned input: %s", name, unseen))
		return
	case refused != "":
		ctx.NotAssessed("", fmt.Sprintf("StorageClass %s is refused by the API server (%s), so never created: %s", name, refused, unseen))
		return
	case !ebsProvisioners[sc.Provisioner]:
		ctx.NotAssessed("", fmt.Sprintf("StorageClass %s's provisioner is %s, not the EBS driver that provisioned the volume: the class was created again since, and %s", name, sc.Provisioner, unseen))
		return
	case sc.CreationTimestamp.IsZero() || pv.CreationTimestamp.IsZero():
		ctx.NotAssessed("", fmt.Sprintf("without the creation times of both, the input cannot tell whether StorageClass %s is the class that provisioned it or one created again since under its name: %s", name, unseen))
		return
	case pv.CreationTimestamp.Before(&sc.CreationTimestamp):
		ctx.NotAssessed("", fmt.Sprintf("StorageClass %s was created after the volume, so another class of that name provisioned it: %s", name, unseen))
		return
	}
	switch enc, set := ebsEncryptedParameter(sc.Parameters); {
	case enc == "true" && !ctx.Inventory.Complete:
		// The creation times that tie the class to the volume are the files' author's: the API
		// server sets them (rest.BeforeCreate, k8s.io/apiserver v0.37.2; an update keeps the
		// stored ones), and a class deleted and created again with encrypted "true" since the
		// volume was provisioned is written back-dated as easily. A class that does not
		// encrypt still fails the volume the files say it provisioned.
		ctx.NotAssessed("", fmt.Sprintf("the creation times in the scanned files are not the cluster's (the API server sets creation times), so whether StorageClass %s is the class that provisioned the volume or one created again since under its name cannot be told: %s", name, unseen))
	case enc == "true":
		ctx.Pass("")
	case !set:
		ctx.Fail("", "the volume was provisioned by StorageClass %s, which does not encrypt: parameters.encrypted is not set", name)
	default:
		ctx.Fail("", "the volume was provisioned by StorageClass %s, which does not encrypt: parameters.encrypted is %q", name, enc)
	}
}

// ebsEncryptedParameter reads the "encrypted" parameter. The EBS CSI driver (which in-tree
// kubernetes.io/aws-ebs classes are migrated to, their parameters passed through) reads parameter
// names without regard to case and encrypts only when the value is exactly "true" ("True" and "1"
// are false). Should several spellings of the name be set, the outcome depends on the driver's
// version: from case-insensitive names (2019, aws-ebs-csi-driver#283) each spelling set or cleared
// encryption in map order, so the last one read won and the class's volumes differed; later code
// only turns it on, so any "true" wins. value is "true" only when every spelling is (encrypted
// whatever the driver); else the first other value, in name order. EKS Auto Mode's provisioner,
// whose code is not public, is read the same way: its guide writes encrypted: "true".
func ebsEncryptedParameter(params map[string]string) (value string, set bool) {
	var keys []string
	for k := range params {
		if strings.EqualFold(k, "encrypted") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if value, set = params[k], true; value != "true" {
			return value, true
		}
	}
	return value, set
}

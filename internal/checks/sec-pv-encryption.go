package checks

import (
	"fmt"
	"sort"
	"strings"

	storagev1 "k8s.io/api/storage/v1"

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
	Title: "StorageClasses provision volumes encrypted at rest",
	Description: "Persistent volumes hold application data; encryption at rest protects it when disks, " +
		"snapshots or backups leave the provider's control (C1.1, CC6.1). AWS EBS classes (EKS Auto Mode's " +
		"included) must set " +
		"parameters.encrypted: \"true\" (account-level default encryption is not visible from the " +
		"cluster); GCE persistent disks, Filestore and Managed Lustre instances, and Azure disks, files and " +
		"blob containers are encrypted by the provider. For other provisioners (EFS, Ceph, local volumes, ...) encryption is " +
		"configured outside the StorageClass and the check says NotAssessed." + supporting,
	Remediation: "For EBS, set parameters.encrypted: \"true\" (and kmsKeyId for a customer-managed key) on a new " +
		"StorageClass and migrate volumes to it: parameters of an existing class cannot change. For other " +
		"provisioners, keep evidence of the backend's encryption with the exception that records it.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  []string{"StorageClass"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		sc, ok := o.Obj.(*storagev1.StorageClass)
		if !ok {
			ctx.NotApplicable("", "not a storage.k8s.io/v1 StorageClass")
			return
		}
		switch p := sc.Provisioner; {
		case ebsProvisioners[p]:
			enc, set := ebsEncryptedParameter(sc.Parameters)
			switch {
			case enc == "true":
				ctx.Pass("")
			case !set:
				ctx.Fail("", "%s volumes are not encrypted by the StorageClass: parameters.encrypted is not set", p)
			default:
				ctx.Fail("", "%s volumes are not encrypted: parameters.encrypted is %q", p, enc)
			}
		case p == "efs.csi.aws.com":
			ctx.NotAssessed("", "EFS encryption at rest is set on the file system, not in the StorageClass")
		case encryptedByDefault[p] != "":
			ctx.Pass("")
		default:
			ctx.NotAssessed("", fmt.Sprintf("encryption at rest of provisioner %s cannot be judged from the StorageClass", p))
		}
	},
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

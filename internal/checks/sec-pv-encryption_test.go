package checks

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// ebsClass is a StorageClass of the EBS CSI driver named gp3, created at created ("" for no
// creationTimestamp), with parameters.encrypted set to encrypted ("" for unset).
func ebsClass(created, encrypted string) string {
	s := "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: gp3\n"
	if created != "" {
		s += "  creationTimestamp: \"" + created + "\"\n"
	}
	s += "provisioner: ebs.csi.aws.com\n"
	if encrypted != "" {
		s += "parameters:\n  encrypted: \"" + encrypted + "\"\n"
	}
	return s
}

// ebsVolume is a PersistentVolume of the EBS CSI driver created at created, of StorageClass gp3
// and annotated as provisioned by provisionedBy ("" for neither: a volume made by hand).
func ebsVolume(created, provisionedBy string) string {
	s := "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-0b4c\n"
	if created != "" {
		s += "  creationTimestamp: \"" + created + "\"\n"
	}
	if provisionedBy != "" {
		s += "  annotations: {pv.kubernetes.io/provisioned-by: " + provisionedBy + "}\n"
	}
	s += "spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: gp3\n" +
		"  csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0123456789abcdef0}\n"
	return s
}

// TestPersistentVolumesAreJudgedByWhatProvisionedThem: sec-pv-encryption judged StorageClasses
// only, so a volume that holds data was never judged: one made by hand (static provisioning),
// or provisioned by a class since deleted, or by a class later recreated under the same name
// with encrypted: "true" (the remediation: a new class, since parameters cannot change), left
// the check passing while its data sat on an unencrypted disk. A PersistentVolume is judged
// now: by its backend when the provider encrypts every volume of it, by the class that
// provisioned it when that class is still the one (same name, an EBS provisioner, created no
// later than the volume), and NotAssessed otherwise.
func TestPersistentVolumesAreJudgedByWhatProvisionedThem(t *testing.T) {
	const before, after = "2026-01-10T08:00:00Z", "2026-03-02T09:30:00Z"
	for name, tc := range map[string]struct {
		docs     string
		complete bool
		want     engine.Status
		message  string
	}{
		"an EBS volume provisioned by the encrypting class that is still there passes": {
			docs: ebsClass(before, "true") + "---\n" + ebsVolume(after, "ebs.csi.aws.com"), complete: true, want: engine.StatusPass,
		},
		"an EBS volume provisioned by a class that does not encrypt fails": {
			docs: ebsClass(before, "") + "---\n" + ebsVolume(after, "ebs.csi.aws.com"), complete: true, want: engine.StatusFail,
			message: "provisioned by StorageClass gp3, which does not encrypt: parameters.encrypted is not set",
		},
		"an EBS volume older than its encrypting class was provisioned by another class of that name": {
			docs: ebsClass(after, "true") + "---\n" + ebsVolume(before, "ebs.csi.aws.com"), complete: true, want: engine.StatusNotAssessed,
			message: "StorageClass gp3 was created after the volume",
		},
		"an EBS volume whose class is gone is not assessed": {
			docs: ebsVolume(after, "ebs.csi.aws.com"), complete: true, want: engine.StatusNotAssessed,
			message: "StorageClass gp3 does not exist",
		},
		"an EBS volume made by hand is not assessed, whatever class it names": {
			docs: ebsClass(before, "true") + "---\n" + ebsVolume(after, ""), complete: true, want: engine.StatusNotAssessed,
			message: "not provisioned by a StorageClass",
		},
		"an EBS volume another provisioner made is not assessed by an EBS class": {
			docs: ebsClass(before, "true") + "---\n" + ebsVolume(after, "example.com/copier"), complete: true, want: engine.StatusNotAssessed,
			message: "not provisioned by a StorageClass",
		},
		"in a scan, a volume and class without creation times cannot be tied": {
			docs: ebsClass("", "true") + "---\n" + ebsVolume("", "ebs.csi.aws.com"), want: engine.StatusNotAssessed,
			message: "cannot tell whether StorageClass gp3 is the class that provisioned it",
		},
		"in a scan, creation times written in the files do not tie a volume to an encrypting class": {
			docs: ebsClass(before, "true") + "---\n" + ebsVolume(after, "ebs.csi.aws.com"), want: engine.StatusNotAssessed,
			message: "the API server sets creation times",
		},
		"in a scan, a class that does not encrypt still fails the volume the files say it provisioned": {
			docs: ebsClass(before, "") + "---\n" + ebsVolume(after, "ebs.csi.aws.com"), want: engine.StatusFail,
			message: "provisioned by StorageClass gp3, which does not encrypt",
		},
		"in a scan, a class the input does not hold is not assessed": {
			docs: ebsVolume(after, "ebs.csi.aws.com"), want: engine.StatusNotAssessed,
			message: "StorageClass gp3 is not in the scanned input",
		},
		"an in-tree EBS volume of an in-tree class that encrypts passes": {
			docs: strings.Replace(ebsClass(before, "true"), "ebs.csi.aws.com", "kubernetes.io/aws-ebs", 1) + "---\n" +
				"apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pvc-0b4c\n  creationTimestamp: \"" + after + "\"\n" +
				"  annotations: {pv.kubernetes.io/provisioned-by: kubernetes.io/aws-ebs}\n" +
				"spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: gp3\n" +
				"  awsElasticBlockStore: {volumeID: vol-0123456789abcdef0}\n",
			complete: true, want: engine.StatusPass,
		},
		"an EBS volume whose class is only in the beta annotation is judged by that class": {
			docs: ebsClass(before, "") + "---\n" + strings.Replace(strings.Replace(ebsVolume(after, "ebs.csi.aws.com"),
				"  storageClassName: gp3\n", "", 1), "{pv.kubernetes.io/provisioned-by: ebs.csi.aws.com}",
				"{pv.kubernetes.io/provisioned-by: ebs.csi.aws.com, volume.beta.kubernetes.io/storage-class: gp3}", 1),
			complete: true, want: engine.StatusFail, message: "provisioned by StorageClass gp3, which does not encrypt",
		},
		"an EBS volume whose beta annotation names another class than its spec is not assessed": {
			docs: ebsClass(before, "true") + "---\n" + strings.Replace(ebsVolume(after, "ebs.csi.aws.com"),
				"{pv.kubernetes.io/provisioned-by: ebs.csi.aws.com}",
				"{pv.kubernetes.io/provisioned-by: ebs.csi.aws.com, volume.beta.kubernetes.io/storage-class: gp2}", 1),
			complete: true, want: engine.StatusNotAssessed, message: "volume.beta.kubernetes.io/storage-class",
		},
		"a GCE persistent disk made by hand passes: the provider encrypts every one": {
			docs: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk}\n" +
				"spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteOnce]\n  gcePersistentDisk: {pdName: data-disk}\n",
			want: engine.StatusPass,
		},
		"an Azure disk of the CSI driver passes": {
			docs: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk}\n" +
				"spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteOnce]\n" +
				"  csi: {driver: disk.csi.azure.com, volumeHandle: /subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d}\n",
			want: engine.StatusPass,
		},
		"an NFS volume is not assessed": {
			docs: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: share}\n" +
				"spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteMany]\n  nfs: {server: 10.0.0.2, path: /exports}\n",
			want: engine.StatusNotAssessed, message: "this nfs volume",
		},
		"an EFS volume is not assessed": {
			docs: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: share}\n" +
				"spec:\n  capacity: {storage: 10Gi}\n  accessModes: [ReadWriteMany]\n  csi: {driver: efs.csi.aws.com, volumeHandle: fs-0123}\n",
			want: engine.StatusNotAssessed, message: "EFS encryption at rest is set on the file system",
		},
	} {
		t.Run(name, func(t *testing.T) {
			ev := judgeDocs(t, secPvEncryption, tc.docs, tc.complete)
			var got []*engine.Result
			for i := range ev.Results {
				if r := &ev.Results[i]; r.Object != nil && r.Object.Kind == "PersistentVolume" {
					got = append(got, r)
				}
			}
			if len(got) != 1 {
				t.Fatalf("want one result on the PersistentVolume, got %d", len(got))
			}
			if got[0].Status != tc.want || !strings.Contains(got[0].Message, tc.message) {
				t.Errorf("got %s %q, want %s with %q", got[0].Status, got[0].Message, tc.want, tc.message)
			}
		})
	}
}

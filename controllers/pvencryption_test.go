package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAVolumeIsJudgedByTheClassThatProvisionedIt shows sec-pv-encryption judging the cluster's
// PersistentVolumes, not only its StorageClasses, on the API server's own creation times. A
// volume the EBS driver provisioned from a class that does not encrypt is listed among the
// profile's cluster findings. The class is then deleted and created again, encrypting, under
// the same name (what the remediation asks: parameters cannot change): the class passes now,
// but the volume still sits on the disk the old class made, and the check must not pass it on
// the new class's word. It is no longer a failure (nothing says what the old class was): the
// findings on the class and the volume go. The profile's status lists failures only, so this
// test cannot tell the volume's NotAssessed from a Pass; TestPersistentVolumesAreJudgedByWhatProvisionedThem
// (internal/checks) holds that verdict in the operator's complete view.
func TestAVolumeIsJudgedByTheClassThatProvisionedIt(t *testing.T) {
	ctx := context.Background()
	const class, volume = "pvenc-gp3", "pvenc-pvc-0b4c"
	newClass := func(params map[string]string) *storagev1.StorageClass {
		return &storagev1.StorageClass{ObjectMeta: objectMeta(class), Provisioner: "ebs.csi.aws.com", Parameters: params}
	}
	sc := newClass(nil)
	if err := k8s.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), newClass(nil)) })
	// The API server's creation times have a resolution of a second: the volume is made a
	// second after the class, and the second class a second after the volume.
	time.Sleep(1100 * time.Millisecond)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: volume, Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-0123456789abcdef0"}},
		},
	}
	if err := k8s.Create(ctx, pv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pv) })
	createProfile(t, "pvenc", "pvenc", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-pv-encryption") })
	findings := func(kind, name string) ([]v1alpha1.Finding, error) {
		_, p, err := profileReady(ctx, "pvenc")
		if err != nil {
			return nil, err
		}
		var out []v1alpha1.Finding
		for _, f := range p.Status.ClusterFindings {
			if f.Check == "sec-pv-encryption" && f.Resource.Kind == kind && f.Resource.Name == name {
				out = append(out, f)
			}
		}
		return out, nil
	}
	eventually(t, 20*time.Second, "the volume's finding, naming the class", func() error {
		fs, err := findings("PersistentVolume", volume)
		if err != nil {
			return err
		}
		if len(fs) != 1 || !strings.Contains(fs[0].Message, "provisioned by StorageClass "+class+", which does not encrypt") {
			return fmt.Errorf("want one finding on PersistentVolume %s naming its class, have %+v", volume, fs)
		}
		return nil
	})

	if err := k8s.Delete(ctx, sc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the class gone", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: class}, &storagev1.StorageClass{}); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	time.Sleep(1100 * time.Millisecond)
	if err := k8s.Create(ctx, newClass(map[string]string{"encrypted": "true"})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "neither the class nor the volume failing", func() error {
		for _, kind := range []string{"StorageClass", "PersistentVolume"} {
			name := class
			if kind == "PersistentVolume" {
				name = volume
			}
			if fs, err := findings(kind, name); err != nil {
				return err
			} else if len(fs) > 0 {
				return fmt.Errorf("%s %s still listed: %+v", kind, name, fs)
			}
		}
		return nil
	})
}

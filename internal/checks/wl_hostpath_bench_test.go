package checks

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// BenchmarkHostPathDetailOfManyVolumes words wl-hostpath's finding for a Pod whose author chose
// its size: 2,000 containers, each mounting a hostPath volume of its own writable.
func BenchmarkHostPathDetailOfManyVolumes(b *testing.B) {
	const n = 2000
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "many", Namespace: "shop"}}
	for i := range n {
		name := "v" + strconv.Itoa(i)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data/" + name}}})
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "c" + strconv.Itoa(i), Image: "busybox",
			VolumeMounts: []corev1.VolumeMount{{Name: name, MountPath: "/data"}}})
	}
	o := engine.NewObject(pod, "v1", "Pod")
	b.ReportAllocs()
	for b.Loop() {
		if hostPathDetail(o) == "" {
			b.Fatal("no detail")
		}
	}
}

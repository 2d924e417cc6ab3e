package engine_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// manyContainers is a Pod of n containers, each mounting a volume of its own at the automatic
// token's path when tokenMounts is set: about 60 bytes of JSON a container, so a dry-run
// create, which etcd's limit does not bound, may hold 50,000 of them.
func manyContainers(n int, tokenMounts bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "wide", Namespace: "tenant"}}
	for i := range n {
		c := corev1.Container{Name: fmt.Sprintf("c%d", i), Image: "app:1"}
		if tokenMounts {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: fmt.Sprintf("v%d", i),
				VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: fmt.Sprintf("s%d", i)}}})
			c.VolumeMounts = []corev1.VolumeMount{{Name: fmt.Sprintf("v%d", i), MountPath: engine.ServiceAccountTokenPath}}
		}
		p.Spec.Containers = append(p.Spec.Containers, c)
	}
	return p
}

// TestJudgingAPodOfManyContainersIsLinear: the checks read a workload's PodFields once per
// container (the resource checks' declaresResource), and each read walked every container
// again, so judging a Pod of n containers cost n^2: 2,000 containers allocated 625 MB, 20,000
// (1.7 MB of JSON) 90 GB and two minutes of CPU, which the webhook, giving up at its deadline,
// went on spending after it answered, and the operator on each evaluation of the namespace.
// The test counts the bytes allocated judging 2,000 containers with the whole catalogue.
func TestJudgingAPodOfManyContainersIsLinear(t *testing.T) {
	pod := manyContainers(2000, false)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o := engine.NewObject(pod, "v1", "Pod")
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, engine.Options{Now: now, SkipClusterScoped: true, Only: o})
	runtime.ReadMemStats(&after)
	if len(ev.Results) < 2000 {
		t.Fatalf("judging a Pod of 2,000 containers gave %d results, want one at least per container", len(ev.Results))
	}
	// About 17 KB a container (results, messages); 50 KB a container is linear with room.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 100<<20 {
		t.Errorf("judging a Pod of 2,000 containers allocated %d MB, want at most 100 MB", allocated>>20)
	}
}

// BenchmarkWrappingAPodOfManyTokenMounts wraps a Pod of 2,000 containers, each mounting a Secret
// volume of its own at the automatic token's path: whether each masks the token was found by a
// walk of every volume (n^2; 1,000 containers took 29 s to judge, 2,000 three minutes).
func BenchmarkWrappingAPodOfManyTokenMounts(b *testing.B) {
	pod := manyContainers(2000, true)
	b.ReportAllocs()
	for b.Loop() {
		engine.NewObject(pod, "v1", "Pod")
	}
}

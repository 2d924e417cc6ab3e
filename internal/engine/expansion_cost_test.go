package engine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// referenceChain is a Pod whose container takes V0 from the ConfigMap settings and defines
// V1 to Vdepth, each as refs references to the one before ("$(V0)$(V0)..."): a few kilobytes,
// whose last variable the kubelet expands to refs^depth copies of the ConfigMap's value.
func referenceChain(depth, refs int) *corev1.Pod {
	env := []corev1.EnvVar{{Name: "V0", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "token"}}}}
	for i := 1; i <= depth; i++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("V%d", i), Value: strings.Repeat(fmt.Sprintf("$(V%d)", i-1), refs)})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "chain", Namespace: "tenant"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: env}}},
	}
}

// TestConfigMapEnvOfAReferenceChainIsLinear: the ConfigMap values a container's variables hold
// are followed through $(VAR) references once per variable and reference, not once per path
// from the ConfigMap to the variable. A Pod of five variables of twenty references each (about
// 2 KB) made the list of what V5 holds 20^4 = 160,000 entries long before its duplicates were
// dropped (and six variables of a hundred, 6 KB, ten billion: the operator and the webhook ran
// out of memory wrapping the Pod). The test counts the bytes allocated wrapping the Pod.
func TestConfigMapEnvOfAReferenceChainIsLinear(t *testing.T) {
	pod := referenceChain(5, 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o := engine.NewObject(pod, "v1", "Pod")
	runtime.ReadMemStats(&after)
	var got []string
	for _, e := range o.Workload.Containers()[0].ConfigMapEnv {
		got = append(got, e.Name+"<-"+e.Ref)
	}
	if want := "V0<-,V1<-V0,V2<-V1,V3<-V2,V4<-V3,V5<-V4"; strings.Join(got, ",") != want {
		t.Errorf("the variables holding settings/token: got %s, want %s", strings.Join(got, ","), want)
	}
	// The Pod's env is about 2 KB; following it may cost a few times that, not 160,000 entries
	// of 64 bytes (10 MB).
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 256<<10 {
		t.Errorf("wrapping a Pod of a 2 KB reference chain allocated %d bytes, want at most %d", allocated, 256<<10)
	}
}

// BenchmarkConfigMapEnvOfAReferenceChain wraps the Pod of TestConfigMapEnvOfAReferenceChainIsLinear.
func BenchmarkConfigMapEnvOfAReferenceChain(b *testing.B) {
	pod := referenceChain(5, 20)
	b.ReportAllocs()
	for b.Loop() {
		engine.NewObject(pod, "v1", "Pod")
	}
}

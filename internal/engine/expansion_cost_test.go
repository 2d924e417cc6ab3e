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

// fanOut is a Pod whose container takes K1 to Kn from n keys of the ConfigMap settings, sets
// ALL to "$(K1)...$(Kn)", and W1 to Wn each to "$(ALL)": each W holds every key's value.
func fanOut(n int) *corev1.Pod {
	var env []corev1.EnvVar
	var all strings.Builder
	for i := 1; i <= n; i++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("K%d", i), ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: fmt.Sprintf("k%d", i)}}})
		fmt.Fprintf(&all, "$(K%d)", i)
	}
	env = append(env, corev1.EnvVar{Name: "ALL", Value: all.String()})
	for i := 1; i <= n; i++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("W%d", i), Value: "$(ALL)"})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "fan-out", Namespace: "tenant"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: env}}},
	}
}

// TestConfigMapEnvOfAFanOutIsBounded: n variables from ConfigMap keys, one referring to them
// all and n referring to it hold n*n keys: 1,000 of each, a Pod of about 100 KB, listed a
// million entries (12 s and 1.6 GB to wrap). The list is bounded by the container's size and
// says that it is incomplete (Unfollowed) for the ConfigMap it leaves out. The test counts
// the entries listed and the bytes allocated.
func TestConfigMapEnvOfAFanOutIsBounded(t *testing.T) {
	const n = 300
	pod := fanOut(n)
	var o *engine.Object
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o = engine.NewObject(pod, "v1", "Pod")
	runtime.ReadMemStats(&after)
	env := o.Workload.Containers()[0].ConfigMapEnv
	// The n variables that take a key each, what references may add, and settings Unfollowed.
	if bound := n + 4*(2*n+1) + 256 + 1; len(env) > bound {
		t.Errorf("listed %d entries for a container of %d variables, want at most %d", len(env), 2*n+1, bound)
	}
	if last := env[len(env)-1]; !last.Unfollowed || last.ConfigMap != "settings" {
		t.Errorf("the last entry is %+v, want settings Unfollowed", last)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
		t.Errorf("wrapping a Pod of %d variables allocated %d bytes, want at most %d", 2*n+1, allocated, 8<<20)
	}
	// Small, it is listed whole.
	env = engine.NewObject(fanOut(3), "v1", "Pod").Workload.Containers()[0].ConfigMapEnv
	if len(env) != 3+3+9 || env[len(env)-1].Unfollowed {
		t.Errorf("three of each: %d entries (last %+v), want 15, none Unfollowed", len(env), env[len(env)-1])
	}
}

// BenchmarkConfigMapEnvFanOut wraps a Pod of 1,000 variables from ConfigMap keys and 1,000
// that each hold them all (about 100 KB).
func BenchmarkConfigMapEnvFanOut(b *testing.B) {
	pod := fanOut(1000)
	b.ReportAllocs()
	for b.Loop() {
		engine.NewObject(pod, "v1", "Pod")
	}
}

// manySources is a Pod whose container takes every key of f ConfigMaps (envFrom) and sets e
// variables of its own.
func manySources(f, e int) *corev1.Pod {
	c := corev1.Container{Name: "app", Image: "app:1"}
	for i := range f {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: fmt.Sprintf("cm-%d", i)}}})
	}
	for i := range e {
		c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("V%d", i), Value: "x"})
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sources", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
}

// TestConfigMapEnvOfManySourcesIsLinear: each envFrom ConfigMap lists the variables env surely
// sets that its prefix begins (Replaced); each list was searched for every variable before it
// was added, so 200 sources beside 2,000 variables (a Pod of 50 KB) took 1.2 s and 20 MB to
// wrap. The lists are made once per prefix. The test counts the bytes allocated.
func TestConfigMapEnvOfManySourcesIsLinear(t *testing.T) {
	pod := manySources(200, 2000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o := engine.NewObject(pod, "v1", "Pod")
	runtime.ReadMemStats(&after)
	env := o.Workload.Containers()[0].ConfigMapEnv
	if len(env) != 200 || len(env[0].Replaced) != 2000 || len(env[199].Replaced) != 2000 || env[0].Replaced[1999] != "V1999" {
		t.Fatalf("want 200 sources each replaced by V0 to V1999, got %d", len(env))
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 2<<20 {
		t.Errorf("wrapping a Pod of 200 sources and 2,000 variables allocated %d bytes, want at most %d", allocated, 2<<20)
	}
}

// BenchmarkConfigMapEnvManySources wraps a Pod of 200 envFrom ConfigMaps and 2,000 variables
// (about 50 KB).
func BenchmarkConfigMapEnvManySources(b *testing.B) {
	pod := manySources(200, 2000)
	b.ReportAllocs()
	for b.Loop() {
		engine.NewObject(pod, "v1", "Pod")
	}
}

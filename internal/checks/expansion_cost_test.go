package checks

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// chainEnv is an environment whose V0 is value and V1 to Vdepth each refs references to the
// one before ("$(V0)$(V0)..."): the kubelet expands Vdepth to refs^depth copies of value.
func chainEnv(value string, depth, refs int) []corev1.EnvVar {
	env := []corev1.EnvVar{{Name: "V0", Value: value}}
	for i := 1; i <= depth; i++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("V%d", i), Value: strings.Repeat(fmt.Sprintf("$(V%d)", i-1), refs)})
	}
	return env
}

// allocatedBy is the number of bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAReferenceChainIsNotExpandedWithoutBound: the kubelet expands $(VAR) with the values of
// the variables before it, so a chain of variables each referring twenty times to the one
// before grows twenty-fold at each link: a Pod of 2 KB whose V4 the kubelet makes 1.6 MB
// (and V6, 3 KB more, 640 MB) was expanded in full and each value read by the gitleaks rules,
// in the webhook and in each evaluation of its namespace. Expansion now stops once the
// container's references have added more than its own text and expansionAllowance: what is
// left is NotAssessed, saying so, unless what was read already fails. The test counts the
// bytes allocated judging the Pod.
func TestAReferenceChainIsNotExpandedWithoutBound(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "chain", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "small", Image: "app:1", Env: chainEnv("abcdefghij", 2, 3), Args: []string{"--name=$(V2)"}},
			{Name: "chain", Image: "app:1", Env: chainEnv("abcdefghij", 4, 20), Args: []string{"$(V4)"}},
			{Name: "leaky", Image: "app:1", Env: append(chainEnv("abcdefghij", 4, 20), corev1.EnvVar{Name: "DB_PASSWORD", Value: "Orders-2024!"})},
		}},
	}
	objs := []*engine.Object{engine.NewObject(pod, "v1", "Pod")}
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	// Once before, for what the gitleaks rules compile on first use.
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	allocated := allocatedBy(func() {
		ev = plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	})
	got := map[string]*engine.Result{}
	for i := range ev.Results {
		got[ev.Results[i].Container] = &ev.Results[i]
	}
	if r := got["chain"]; r == nil || r.Status != engine.StatusNotAssessed || !strings.Contains(r.Message, "$(VAR) references") {
		t.Errorf("container chain: %+v, want NotAssessed saying its $(VAR) references expand beyond the bound", r)
	}
	if r := got["leaky"]; r == nil || r.Status != engine.StatusFail || !strings.Contains(r.Message, "DB_PASSWORD") {
		t.Errorf("container leaky: %+v, want Fail naming DB_PASSWORD", r)
	}
	if r := got["small"]; r == nil || r.Status != engine.StatusPass {
		t.Errorf("container small: %+v, want Pass (its references expand to 90 bytes)", r)
	}
	// The Pod's text is about 2 KB; its chains, expanded, about 3.4 MB.
	if allocated > 1<<20 {
		t.Errorf("judging a Pod of 2 KB allocated %d bytes, want at most %d", allocated, 1<<20)
	}
}

// BenchmarkAReferenceChain judges a container whose V5, twenty references to V4 and so on,
// the kubelet expands to 32 MB (a 2 KB Pod).
func BenchmarkAReferenceChain(b *testing.B) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "chain", Namespace: "tenant"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "chain", Image: "app:1", Env: chainEnv("key=key=ke", 5, 20)}}},
	}
	objs := []*engine.Object{engine.NewObject(pod, "v1", "Pod")}
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	b.ReportAllocs()
	for b.Loop() {
		plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow})
	}
}

package checks

import (
	"encoding/json"
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
	if r := got["chain"]; r == nil || r.Status != engine.StatusNotAssessed || !r.Unread || !strings.Contains(r.Message, "$(VAR) references") {
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

// manyReferences is a ConfigMap whose key greeting holds value, and a Pod whose SETTINGS refers
// refs times to X, the key's value ("$(X)$(X)...").
func manyReferences(value string, refs int) []*engine.Object {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "tenant"}, Data: map[string]string{"greeting": value}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "refs", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: []corev1.EnvVar{
			{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "greeting"}}},
			{Name: "SETTINGS", Value: strings.Repeat("$(X)", refs)},
		}}}},
	}
	return []*engine.Object{engine.NewObject(cm, "v1", "ConfigMap"), engine.NewObject(pod, "v1", "Pod")}
}

// TestAKeyReferredToManyTimesIsNotExpandedWithoutBound: sec-configmap-credentials expands a
// workload's value that refers to a key to see whether the key's value becomes a URL's
// password or a setting's. A value of 2,000 references to a key of 10 KB (8 KB of Pod) was
// 20 MB, read for URLs and settings on every evaluation of the namespace (and 200,000 to a key
// of 1 MB, 100 GB). Expansion now stops past the values, the ConfigMap's data and
// expansionAllowance, and the ConfigMap is NotAssessed, saying so. The test counts the bytes
// allocated judging the ConfigMap.
func TestAKeyReferredToManyTimesIsNotExpandedWithoutBound(t *testing.T) {
	objs := manyReferences(strings.Repeat("abcdefghij", 1000), 2000)
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	allocated := allocatedBy(func() {
		ev = plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	})
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !strings.Contains(ev.Results[0].Message, "$(VAR) references") {
		t.Errorf("ConfigMap settings: %+v, want NotAssessed saying the references expand beyond the bound", ev.Results)
	}
	if allocated > 1<<20 {
		t.Errorf("judging a ConfigMap of 10 KB taken by a Pod of 8 KB allocated %d bytes, want at most %d", allocated, 1<<20)
	}
	// A few references to a small key are read whole.
	ev = plan.Evaluate(engine.NewInventory(manyReferences("abcdefghij", 3), true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusPass {
		t.Errorf("ConfigMap settings taken three times: %+v, want Pass", ev.Results)
	}
}

// BenchmarkAKeyReferredToManyTimes judges the ConfigMap of
// TestAKeyReferredToManyTimesIsNotExpandedWithoutBound.
func BenchmarkAKeyReferredToManyTimes(b *testing.B) {
	objs := manyReferences(strings.Repeat("abcdefghij", 1000), 2000)
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	b.ReportAllocs()
	for b.Loop() {
		plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow})
	}
}

// TestAConfigMapWhoseKeysAreNotAllFollowedIsNotAssessed: when a container takes more of a
// ConfigMap's keys through $(VAR) references than the engine lists (engine.ConfigMapEnv
// Unfollowed), the ConfigMap is NotAssessed, naming the container, rather than Pass on the keys
// listed.
func TestAConfigMapWhoseKeysAreNotAllFollowedIsNotAssessed(t *testing.T) {
	const n = 300
	data := map[string]string{}
	env := []corev1.EnvVar{}
	var all strings.Builder
	for i := 1; i <= n; i++ {
		data[fmt.Sprintf("k%d", i)] = "abcdefghij"
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("K%d", i), ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: fmt.Sprintf("k%d", i)}}})
		fmt.Fprintf(&all, "$(K%d)", i)
	}
	env = append(env, corev1.EnvVar{Name: "ALL", Value: all.String()})
	for i := 1; i <= n; i++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("W%d", i), Value: "$(ALL)"})
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "tenant"}, Data: data}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "fan-out", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: env}}}}
	objs := []*engine.Object{engine.NewObject(cm, "v1", "ConfigMap"), engine.NewObject(pod, "v1", "Pod")}
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !ev.Results[0].Unread || !strings.Contains(ev.Results[0].Message, "Pod/fan-out container app") {
		t.Errorf("ConfigMap settings: %+v, want NotAssessed and unread (a bound the Pod's author reaches), naming Pod/fan-out container app", ev.Results)
	}
}

// TestInjectedKeysCompareEachKeyWithItsOwnInjections: a key is compared with the injections
// that name it and the envFrom ones, not with every injection of the ConfigMap (a ConfigMap of
// 5,000 keys, each taken by one of 5,000 variables, was 25 million comparisons, 550 ms per
// evaluation). The test counts the comparisons, and that what is found stays the same.
func TestInjectedKeysCompareEachKeyWithItsOwnInjections(t *testing.T) {
	const n = 2000
	data := map[string]string{}
	var injections []envInjection
	w := &engine.Object{Kind: "Pod", Name: "p"}
	for i := range n {
		data[fmt.Sprintf("k%d", i)] = "Zq8wLm3r"
		injections = append(injections, envInjection{ConfigMapEnv: engine.ConfigMapEnv{ConfigMap: "settings", Key: fmt.Sprintf("k%d", i), Name: fmt.Sprintf("V%d", i)}, workload: w, container: "app"})
	}
	// Two envFrom sources, one whose variables an env entry replaces.
	injections = append(injections,
		envInjection{ConfigMapEnv: engine.ConfigMapEnv{ConfigMap: "settings", Name: "DB_", Replaced: []string{"DB_k7"}}, workload: w, container: "app"},
		envInjection{ConfigMapEnv: engine.ConfigMapEnv{ConfigMap: "settings", Name: "X_"}, workload: w, container: "app"},
		envInjection{ConfigMapEnv: engine.ConfigMapEnv{ConfigMap: "settings", Key: "k7", Name: "API_TOKEN"}, workload: w, container: "app"})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "tenant"}, Data: data}
	work := 0
	out, _ := injectedKeys(injections, cm, nil, []string{`"k3" (gitleaks rule x)`}, &expansion{left: expansionAllowance}, &work)
	if len(out) != 1 || !strings.HasPrefix(out[0], `"k7" (injected as API_TOKEN`) {
		t.Errorf("found %q, want k7 injected as API_TOKEN", out)
	}
	// Each key but k3, found already: its own injections (k7 two) and the two envFrom ones.
	if want := (n-1)*3 + 1; work > want {
		t.Errorf("compared keys with injections %d times, want at most %d", work, want)
	}
}

// BenchmarkKeysTakenOneEach judges a ConfigMap of 5,000 keys taken one each by a Pod of 5,000
// variables.
func BenchmarkKeysTakenOneEach(b *testing.B) {
	const n = 5000
	data := map[string]string{}
	var env []corev1.EnvVar
	for i := range n {
		data[fmt.Sprintf("k%d", i)] = "x"
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("V%d", i), ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: fmt.Sprintf("k%d", (i+1)%n)}}})
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "tenant"}, Data: data}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: env}}}}
	objs := []*engine.Object{engine.NewObject(cm, "v1", "ConfigMap"), engine.NewObject(pod, "v1", "Pod")}
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	b.ReportAllocs()
	for b.Loop() {
		plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow})
	}
}

// TestAnAnnotationsReferenceChainBeyondTheBoundIsNotAssessed: the env kubectl's
// last-applied-configuration annotation holds and the live spec does not is read as the
// container's own is, with its $(VAR) references expanded within a bound. A chain that
// expanded past it left the rest unread and the container passed, though what was not read
// may be a credential; it is NotAssessed, saying the annotation's references were not read,
// as the live spec's are.
func TestAnAnnotationsReferenceChainBeyondTheBoundIsNotAssessed(t *testing.T) {
	applied := map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "chain", "namespace": "tenant"},
		"spec": map[string]any{"containers": []any{
			map[string]any{"name": "small", "image": "app:1", "env": chainEnv("abcdefghij", 2, 3)},
			map[string]any{"name": "chain", "image": "app:1", "env": chainEnv("abcdefghij", 4, 20)},
		}}}
	raw, err := json.Marshal(applied)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "chain", Namespace: "tenant",
			Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: string(raw)}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "small", Image: "app:1"}, {Name: "chain", Image: "app:1"}}},
	}
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(pod, "v1", "Pod")}, true), nil,
		engine.Options{Now: fixtureNow, KeepPassing: true})
	got := map[string]*engine.Result{}
	for i := range ev.Results {
		got[ev.Results[i].Container] = &ev.Results[i]
	}
	if r := got["chain"]; r == nil || r.Status != engine.StatusNotAssessed || !r.Unread || !strings.Contains(r.Message, "last-applied-configuration") {
		t.Errorf("container chain: %+v, want NotAssessed saying the annotation's $(VAR) references expand beyond the bound", r)
	}
	if r := got["small"]; r == nil || r.Status != engine.StatusPass {
		t.Errorf("container small: %+v, want Pass (its annotation's references expand to 90 bytes)", r)
	}

	// kubectl edit took the container chain out of the template: the annotation still holds it.
	pod.Spec.Containers = pod.Spec.Containers[:1]
	ev = plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(pod, "v1", "Pod")}, true), nil,
		engine.Options{Now: fixtureNow, KeepPassing: true})
	var workload *engine.Result
	for i := range ev.Results {
		if ev.Results[i].Container == "" {
			workload = &ev.Results[i]
		}
	}
	if workload == nil || workload.Status != engine.StatusNotAssessed || !workload.Unread || !strings.Contains(workload.Message, "containers chain, no longer in the pod template") {
		t.Errorf("the Pod, whose annotation alone holds container chain: %+v, want NotAssessed naming it", workload)
	}
}

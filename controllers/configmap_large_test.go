package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// TestTenantConfigMapsDoNotGrowTheCache: the operator's informer cache kept every ConfigMap
// with its data, so a namespace admin sized the operator's memory: 200 ConfigMaps of 512 KiB
// held 103 MiB of its heap (BenchmarkOperatorBesideTenantConfigMaps), 500 of 1 MiB were past
// the Deployment's 512 MiB limit, and an OOM-killed operator writes no report for anyone. The
// cache now keeps of a ConfigMap over 16 KiB a digest of what the credential check reads: the
// bytes it holds of 24 ConfigMaps of 512 KiB (12 MiB, 12.3 MiB as JSON before) stay under 32
// KiB each, and the credentials among them are still found, in a key of the data and in a key
// a Pod takes as DB_PASSWORD, while a large ConfigMap without one passes.
func TestTenantConfigMapsDoNotGrowTheCache(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "cm-large", "cmlarge"
	createNamespace(t, ns, map[string]string{"cmlarge": "true"})
	random := rand.New(rand.NewPCG(5, 6))
	const count, size = 24, 512 << 10
	for i := range count {
		cm := testgen.HarmlessConfigMap(ns, fmt.Sprintf("settings-%d", i), size, random)
		switch i {
		case 0:
			cm.Name = "leak"
			cm.Data["database.properties"] = "db.user=orders\ndb.password=Orders-2024-x9Kq\n"
		case 1:
			cm.Name = "injected"
			cm.Data["orders"] = "Orders-2024"
		}
		if err := k8s.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Image: "registry.example/orders:1.0",
		Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "injected"}, Key: "orders"}}}},
	}}}}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "cmlarge", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-configmap-credentials") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "leak", `"database.properties"`)
	eventuallyFinding(t, 20*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "injected",
		`"orders" (injected as DB_PASSWORD into Pod/orders container app)`)
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 2 {
		t.Errorf("want the 2 ConfigMaps with credentials failing and %d large ones passing, got %d failing findings: %+v", count-2, got, rep.Status.Findings)
	}

	// What the cache holds of the ConfigMaps, as JSON.
	list := &corev1.ConfigMapList{}
	sizes, total := cachedJSON(t, list, ns, count)
	for i, n := range sizes {
		if n > 32<<10 {
			t.Errorf("the cache holds %d KiB of ConfigMap %s, whose data is %d KiB: want at most 32 KiB", n>>10, list.Items[i].Name, size>>10)
		}
	}
	t.Logf("the cache holds %d KiB of %d ConfigMaps of %d KiB", total>>10, count, size>>10)
}

// TestNoConfigMapCarriesADigest: the operator's cache keeps, of a ConfigMap it does not keep
// whole, a digest in an annotation the credential check trusts. The API server refuses the
// annotation's key, so that a tenant cannot write a digest that says their ConfigMap holds no
// credential.
func TestNoConfigMapCarriesADigest(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "forged-digest",
		Annotations: map[string]string{checks.ConfigMapDigestAnnotation: `{"bytes":1}`}},
		Data: map[string]string{"DB_PASSWORD": "Orders-2024-x9Kq"}}
	err := k8s.Create(context.Background(), cm)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want the API server to refuse a ConfigMap with the digest's annotation, got %v", err)
	}
}

// cachedJSON waits until the operator's cache holds count objects of list's kind in namespace ns
// (list is filled) and returns the bytes of each one's JSON, in list's order, and their sum:
// what the cache keeps of them, whatever the machine and the garbage collector.
func cachedJSON(t *testing.T, list client.ObjectList, ns string, count int) (sizes []int, total int) {
	t.Helper()
	var items []runtime.Object
	eventually(t, 20*time.Second, "the cache holds every object", func() error {
		if err := operatorCache.List(context.Background(), list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
			return err
		}
		var err error
		if items, err = meta.ExtractList(list); err != nil {
			return err
		}
		if n := len(items); n < count {
			return fmt.Errorf("it holds %d of %d", n, count)
		}
		return nil
	})
	for _, o := range items {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(data))
		total += len(data)
	}
	return sizes, total
}

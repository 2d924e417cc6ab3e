package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
)

// tenantBlobAnnotations are 64 annotations of 4000 bytes each: 252 KiB, just under the API
// server's 256 KiB bound on an object's annotations, which a namespace admin may put on any
// object they may write.
func tenantBlobAnnotations() map[string]string {
	a := map[string]string{}
	for i := range 64 {
		a[fmt.Sprintf("tenant.example.com/blob-%02d", i)] = strings.Repeat(string(rune('a'+i%26)), 4000)
	}
	return a
}

// TestTenantAnnotationsDoNotGrowTheCache: the operator's informer cache kept every annotation of
// every Service, ServiceAccount, Role, RoleBinding and workload it reads, and a namespace admin
// decides how many bytes those are (up to 256 KiB an object): 500 Services so annotated are
// about 125 MiB of the operator's 512 MiB limit, and an OOM-killed operator writes no report for
// anyone. No built-in check reads an annotation of these kinds (but kubectl's
// last-applied-configuration, which stays); the cache now keeps them whole up to 16 KiB, and
// past that only the smallest within 4 KiB and a marker, so each object costs a few KiB whatever
// its annotations. A custom check reading the annotations of such an object is NotAssessed,
// naming them, never judged on what is left (it would pass where scan and the webhook fail),
// and unread: listed among the findings, its criterion failing closed on it;
// one reading those of an object kept whole is judged as before. (Before the fix: the custom
// check failed Service big, and the cache held all 252 KiB of each object's annotations.)
func TestTenantAnnotationsDoNotGrowTheCache(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "annotations-large", "annotationslarge"
	createNamespace(t, ns, map[string]string{"annotationslarge": "true"})
	big := tenantBlobAnnotations()
	objs := []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big", Annotations: big},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "small",
			Annotations: map[string]string{"tenant.example.com/blob-63": "x"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big", Annotations: big}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big", Annotations: big}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big", Annotations: big},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "big"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "big", Namespace: ns}}},
	}
	d := deployment(ns, "big", false)
	d.Annotations = big
	objs = append(objs, d)
	for _, o := range objs {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "annotationslarge", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "custom-no-blob")
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-blob", Title: "no blob annotation",
			Kinds: []string{"Service"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "!has(object.metadata.annotations) || !('tenant.example.com/blob-63' in object.metadata.annotations)"}}
	})
	// Service small fails, big is NotAssessed and unread (listed: its author chose the size of
	// its annotations; before the cache's trim both failed), none passes.
	eventually(t, 30*time.Second, "custom-no-blob NotAssessed on big", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "custom-no-blob", "small", ""); f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("small, whose annotations the cache keeps: want a Fail finding, have %+v", f)
		}
		if f := finding(rep, "custom-no-blob", "big", ""); f == nil || f.Result != v1alpha1.ResultNotAssessed || !strings.Contains(f.Message, "metadata.annotations") {
			return fmt.Errorf("big: want it listed NotAssessed (unread), naming metadata.annotations, have %+v", f)
		}
		if c := criterionOf(rep, "PI1.1"); c == nil || c.Status != v1alpha1.CriterionFail || c.Unread != 1 || c.Failed != 1 {
			return fmt.Errorf("PI1.1: want Fail with 1 failed and 1 unread, have %+v", c)
		}
		if s := rep.Status.Summary; s.Failing != 1 || s.NotAssessed != 1 || s.Passed != 0 {
			return fmt.Errorf("want 1 failing, 1 not assessed, none passed; have %+v", s)
		}
		return nil
	})

	// What the cache holds of each object's annotations, as JSON: the bytes it keeps, whatever
	// the machine and the garbage collector.
	for _, o := range objs {
		key := client.ObjectKeyFromObject(o)
		got := o.DeepCopyObject().(client.Object)
		eventually(t, 20*time.Second, fmt.Sprintf("%T %s in the cache", o, key), func() error {
			return operatorCache.Get(ctx, key, got)
		})
		raw, err := json.Marshal(got.GetAnnotations())
		if err != nil {
			t.Fatal(err)
		}
		if o.GetName() == "small" {
			if got.GetAnnotations()["tenant.example.com/blob-63"] != "x" {
				t.Errorf("%T %s: the cache changed annotations of 2 bytes: %s", o, key, raw)
			}
			continue
		}
		if len(raw) > 8<<10 {
			t.Errorf("%T %s: the cache keeps %d bytes of its annotations (%d sent), want at most 8 KiB", o, key, len(raw), annotationBytes(big))
		}
		if _, ok := got.GetAnnotations()[inventory.AnnotationsWithheldAnnotation]; !ok {
			t.Errorf("%T %s: no %q marker on an object whose annotations the cache did not keep", o, key, inventory.AnnotationsWithheldAnnotation)
		}
	}
}

func annotationBytes(a map[string]string) int {
	n := 0
	for k, v := range a {
		n += len(k) + len(v)
	}
	return n
}

// TestTenantPodAnnotationsDoNotGrowTheCache: the cache kept every annotation of every Pod, 256
// KiB a Pod at a tenant's choice. It now keeps of a Pod's annotations, past 16 KiB, those the
// checks read (AppArmor and seccomp, the mirror Pod's, and those an env var of the Pod takes
// through the downward API, whose values sec-literal-env-credentials judges), the smallest others
// within 4 KiB and the marker: the credential DB_PASSWORD takes from annotation
// tenant.example.com/db is still found though 250 smaller annotations fill what is kept of the
// others, and the AppArmor annotation stays. (Before the fix: the cache held all 254 KiB.)
func TestTenantPodAnnotationsDoNotGrowTheCache(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "pod-annotations-large", "podannotationslarge"
	createNamespace(t, ns, map[string]string{"podannotationslarge": "true"})
	a := tenantBlobAnnotations()
	delete(a, "tenant.example.com/blob-62") // room for the others under the API server's bound
	delete(a, "tenant.example.com/blob-63")
	for i := range 250 {
		a[fmt.Sprintf("t.example.com/a%03d", i)] = "1"
	}
	a["tenant.example.com/db"] = "Orders-2024-x9Kq"
	apparmor := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app"
	a[apparmor] = "localhost/k8s-apparmor-example-deny-write"
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: a},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/orders:1.0",
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['tenant.example.com/db']"}}}}}}}}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "podannotationslarge", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	const want = "literal credentials in env DB_PASSWORD (credential-like name, from the pod's annotation tenant.example.com/db)"
	eventually(t, 30*time.Second, "the credential finding on Pod orders", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "sec-literal-env-credentials", "orders", "app"); f == nil || f.Result != v1alpha1.ResultFail || f.Message != want {
			return fmt.Errorf("want a Fail finding %q, have %+v", want, f)
		}
		return nil
	})

	got := &corev1.Pod{}
	if err := operatorCache.Get(ctx, client.ObjectKeyFromObject(pod), got); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(got.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 8<<10 {
		t.Errorf("the cache keeps %d bytes of the Pod's annotations (%d sent), want at most 8 KiB", len(raw), annotationBytes(a))
	}
	for _, k := range []string{inventory.AnnotationsWithheldAnnotation, "tenant.example.com/db", apparmor} {
		if _, ok := got.Annotations[k]; !ok {
			t.Errorf("the cache left out annotation %q", k)
		}
	}
}

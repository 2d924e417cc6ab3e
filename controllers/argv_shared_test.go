package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestCacheKeepsADeploymentsCommandLinesOnce (real API server): the operator's informer cache
// kept a copy of a workload's command lines in the Deployment, each of its ReplicaSets and each
// of their Pods, so a tenant's 500 KiB of args took 500 KiB of its heap once for the Deployment
// and again for every ReplicaSet and Pod. Now the cached Deployment, ReplicaSet and Pod share
// the bytes of each long argument (and of a long literal env value), and the judgement is the
// whole Deployment's: it still fails for the password among its args, with the message the
// engine gives the Deployment as the API server serves it.
func TestCacheKeepsADeploymentsCommandLinesOnce(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "argv-shared", "argvshared"
	createNamespace(t, ns, map[string]string{"argvshared": "true"})
	var args []string
	for j := range 8 {
		args = append(args, fmt.Sprintf("--note-%d=%s", j, strings.Repeat(fmt.Sprint(j%10)+" ", 4000)))
	}
	args = append(args, "--db-password=Orders-2024-x9Kq")
	d := argvDeployment(ns, "web", args)
	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "BANNER", Value: strings.Repeat("welcome ", 200)}}
	whole := d.DeepCopy()
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	owner := func(kind, name string, uid types.UID) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-6b7f", Labels: d.Spec.Template.Labels,
		OwnerReferences: owner("Deployment", d.Name, d.UID)},
		Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: *d.Spec.Template.DeepCopy()}}
	if err := k8s.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-6b7f-x2x9z", Labels: d.Spec.Template.Labels,
		OwnerReferences: owner("ReplicaSet", rs.Name, rs.UID)}, Spec: *d.Spec.Template.Spec.DeepCopy()}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}

	// What the cache holds of the three.
	cached := []client.Object{&appsv1.Deployment{}, &appsv1.ReplicaSet{}, &corev1.Pod{}}
	eventually(t, 20*time.Second, "the cache holds the Deployment, its ReplicaSet and its Pod", func() error {
		for i, name := range []string{d.Name, rs.Name, pod.Name} {
			if err := operatorCache.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cached[i], client.UnsafeDisableDeepCopy); err != nil {
				return err
			}
		}
		return nil
	})
	containers := []corev1.Container{cached[0].(*appsv1.Deployment).Spec.Template.Spec.Containers[0],
		cached[1].(*appsv1.ReplicaSet).Spec.Template.Spec.Containers[0], cached[2].(*corev1.Pod).Spec.Containers[0]}
	for i, c := range containers[1:] {
		kind := []string{"ReplicaSet", "Pod"}[i]
		if !slices.Equal(c.Args, args) {
			t.Fatalf("the cached %s's args are not the Deployment's", kind)
		}
		for j, a := range c.Args {
			if len(a) >= 1<<10 && unsafe.StringData(a) != unsafe.StringData(containers[0].Args[j]) {
				t.Errorf("the cached %s holds a copy of the Deployment's args[%d] (%d bytes), not the same bytes", kind, j, len(a))
			}
		}
		if unsafe.StringData(c.Env[0].Value) != unsafe.StringData(containers[0].Env[0].Value) {
			t.Errorf("the cached %s holds a copy of the Deployment's env BANNER, not the same bytes", kind)
		}
	}

	// The judgement is the whole Deployment's.
	want := envCredentialFailure(whole)
	if want == "" {
		t.Fatal("the whole Deployment does not fail sec-literal-env-credentials: the test tests nothing")
	}
	createProfile(t, profile, "argvshared", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	eventually(t, 60*time.Second, "the Deployment's finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "sec-literal-env-credentials", "web", "app")
		if f == nil {
			return fmt.Errorf("not yet")
		}
		if f.Message != want || f.Resource.Kind != "Deployment" {
			return fmt.Errorf("the finding on %s says %q, the whole Deployment %q", f.Resource.Kind, f.Message, want)
		}
		if s := rep.Status.Summary; s.Failing != 1 {
			return fmt.Errorf("want the Deployment alone failing (its ReplicaSet and Pod judged through it), have %+v", s)
		}
		return nil
	})
}

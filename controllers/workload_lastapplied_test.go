package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestStaleLastAppliedWorkloadEnvIsJudged: a Deployment whose literal DB_PASSWORD was taken out
// of env with kubectl set env (the password now from a Secret) still holds it in kubectl's
// last-applied-configuration annotation, readable by whoever can get the Deployment; the
// operator's cache keeps that annotation (it drops it where it holds no env the spec does not)
// for sec-literal-env-credentials to find it. Applied again without the literal, it passes.
func TestStaleLastAppliedWorkloadEnvIsJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "wl-last-applied", "wllastapplied"
	createNamespace(t, ns, map[string]string{"wllastapplied": "true"})
	applied := func(env string) string {
		return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"orders","namespace":"wl-last-applied"},"spec":{"selector":{"matchLabels":{"app":"orders"}},"template":{"metadata":{"labels":{"app":"orders"}},"spec":{"containers":[{"env":` + env + `,"image":"registry.example.com/shop/orders:1.4.2","name":"orders"}]}}}}`
	}
	labels := map[string]string{"app": "orders"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: applied(`[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","value":"Orders-2024"}]`),
		}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "orders", Image: "registry.example.com/shop/orders:1.4.2",
					Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
						SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "orders-db"}, Key: "password"}}}},
				}}},
			},
		},
	}
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "wllastapplied", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	const want = `literal credentials in env DB_PASSWORD in kubectl's last-applied-configuration annotation (credential-like name)`
	eventually(t, 20*time.Second, "the finding on Deployment orders container orders", ordersFindingIs(ns, profile, want))

	d.Annotations[corev1.LastAppliedConfigAnnotation] = applied(`[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"orders-db","key":"password"}}}]`)
	if err := k8s.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")
}

// TestStaleLastAppliedWorkloadArgsAreJudged: a Deployment whose literal --db-password was
// taken out of its container's args with kubectl edit (the password now from a Secret through
// $(DB_PASSWORD)) still holds it in kubectl's last-applied-configuration annotation; the
// operator's cache keeps that annotation (it holds a command line the spec does not) for
// sec-literal-env-credentials to find it. Applied again without the literal, it passes.
func TestStaleLastAppliedWorkloadArgsAreJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "wl-last-applied-args", "wllastappliedargs"
	createNamespace(t, ns, map[string]string{"wllastappliedargs": "true"})
	applied := func(args string) string {
		return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"orders","namespace":"wl-last-applied-args"},"spec":{"selector":{"matchLabels":{"app":"orders"}},"template":{"metadata":{"labels":{"app":"orders"}},"spec":{"containers":[{"args":` + args + `,"env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"orders-db","key":"password"}}}],"image":"registry.example.com/shop/orders:1.4.2","name":"orders"}]}}}}`
	}
	labels := map[string]string{"app": "orders"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: applied(`["--db-password=Orders-2024","--log-level=info"]`),
		}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "orders", Image: "registry.example.com/shop/orders:1.4.2",
					Args: []string{"--db-password=$(DB_PASSWORD)", "--log-level=info"},
					Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{
						SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "orders-db"}, Key: "password"}}}},
				}}},
			},
		},
	}
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "wllastappliedargs", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	const want = `literal credentials in args[0] in kubectl's last-applied-configuration annotation (sets --db-password)`
	eventually(t, 20*time.Second, "the finding on Deployment orders container orders", ordersFindingIs(ns, profile, want))

	d.Annotations[corev1.LastAppliedConfigAnnotation] = applied(`["--db-password=$(DB_PASSWORD)","--log-level=info"]`)
	if err := k8s.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")
}

// ordersFindingIs is a condition for eventually: the report of profile in ns holds a
// sec-literal-env-credentials finding on Deployment orders, container orders, whose message is
// want.
func ordersFindingIs(ns, profile, want string) func() error {
	return func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "sec-literal-env-credentials", "orders", "orders")
		if f == nil || f.Resource.Kind != "Deployment" || f.Message != want {
			return fmt.Errorf("finding %+v, want %q", f, want)
		}
		return nil
	}
}

// TestACustomCheckSeesTheLastAppliedAnnotationTheCacheDrops: the operator's cache dropped the
// last-applied-configuration annotation (where it holds nothing the spec does not), so a custom
// check that no Deployment is applied by hand with client-side kubectl apply
// (`!('kubectl.kubernetes.io/last-applied-configuration' in object.metadata.annotations)`, a
// change-management check of CC8.1) passed Deployment web, which kubectl apply wrote, in the
// report, where scan and the admission webhook, which see the annotation, fail it. The cache now
// keeps the annotation's key with an empty value: the expression sees it there.
func TestACustomCheckSeesTheLastAppliedAnnotationTheCacheDrops(t *testing.T) {
	ctx := context.Background()
	const ns = "custom-last-applied"
	createNamespace(t, ns, map[string]string{ns: "true"})
	web := deployment(ns, "web", false)
	web.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"custom-last-applied"}}`}
	if err := k8s.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, deployment(ns, "api", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, ns, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-client-side-apply", Title: "not applied by hand",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "!has(object.metadata.annotations) || !('kubectl.kubernetes.io/last-applied-configuration' in object.metadata.annotations)"}}
	})
	eventually(t, 20*time.Second, "the custom finding on web", func() error {
		rep, err := getReport(ns, ns)
		if err != nil {
			return err
		}
		if f := finding(rep, "custom-no-client-side-apply", "web", ""); f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("web: want a Fail finding, have %+v (report %s, %d findings)", f, rep.Status.Result, len(rep.Status.Findings))
		}
		if f := finding(rep, "custom-no-client-side-apply", "api", ""); f != nil {
			return fmt.Errorf("api, which kubectl apply did not write, is listed: %+v", f)
		}
		return nil
	})
}

package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestStaleLastAppliedConfigMapCredentialsAreJudged: a ConfigMap whose password was taken out
// of the data with kubectl edit still holds it in kubectl's last-applied-configuration
// annotation, and the operator's cache keeps that annotation (it drops the annotation of every
// other object, and a ConfigMap's that holds its data as it is) for sec-configmap-credentials
// to find it. Applied again without the password, the ConfigMap passes.
func TestStaleLastAppliedConfigMapCredentialsAreJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "cm-last-applied", "cmlastapplied"
	createNamespace(t, ns, map[string]string{"cmlastapplied": "true"})
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-config", Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"v1","data":{"DB_PASSWORD":"Orders-2024","LOG_LEVEL":"info"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"orders-config","namespace":"cm-last-applied"}}`,
		}},
		Data: map[string]string{"LOG_LEVEL": "info"},
	}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "cmlastapplied", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-configmap-credentials") })
	eventuallyFinding(t, 20*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "orders-config",
		`"DB_PASSWORD" in kubectl's last-applied-configuration annotation (credential-like key)`)

	cm.Annotations[corev1.LastAppliedConfigAnnotation] = `{"apiVersion":"v1","data":{"LOG_LEVEL":"info"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"orders-config","namespace":"cm-last-applied"}}`
	if err := k8s.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")
}

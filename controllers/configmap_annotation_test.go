package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestConfigMapAnnotationCredentialsAreJudged: a password written into an annotation of a
// ConfigMap whose data holds none fails sec-configmap-credentials in the operator (its cache
// keeps a ConfigMap's annotations, and a change of them alone is evaluated), and the
// ConfigMap passes once the annotation is gone.
func TestConfigMapAnnotationCredentialsAreJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "cm-annotation", "cmannotation"
	createNamespace(t, ns, map[string]string{"cmannotation": "true"})
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-config"},
		Data:       map[string]string{"LOG_LEVEL": "info"},
	}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "cmannotation", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-configmap-credentials") })
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")

	cm.Annotations = map[string]string{"shop.example.com/db-password": "Orders-2024!"}
	if err := k8s.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventuallyFinding(t, 20*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "orders-config",
		`annotation "shop.example.com/db-password" (credential-like key)`)

	cm.Annotations = nil
	if err := k8s.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")
}

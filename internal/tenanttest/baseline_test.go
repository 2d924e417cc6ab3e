package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTenantIsBoundAsANamespaceAdmin holds the suite's premise: the tenant can run workloads
// in their own namespace and nowhere else, and their report tells the truth about them.
func TestTenantIsBoundAsANamespaceAdmin(t *testing.T) {
	ctx := context.Background()
	a := newTenant(t, "premise", nil)
	other := newTenant(t, "premise-other", nil)

	if err := a.Client.Create(ctx, privilegedDeployment(other.Namespace, "intruder")); !apierrors.IsForbidden(err) {
		t.Fatalf("creating a Deployment in another tenant's namespace: want Forbidden, got %v", err)
	}
	if err := a.Client.Create(ctx, privilegedDeployment(a.Namespace, "web")); err != nil {
		t.Fatalf("creating a Deployment in the tenant's own namespace: %v", err)
	}
	a.waitReport(t, "NonCompliant with wl-privileged failing", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %q", rep.Status.Result)
		}
		for _, f := range rep.Status.Findings {
			if f.Check == "wl-privileged" && f.Resource.Name == "web" {
				return nil
			}
		}
		return errors.New("no wl-privileged finding on Deployment web")
	})
}

// privilegedDeployment runs one privileged container: a Critical finding (wl-privileged).
func privilegedDeployment(ns, name string) *appsv1.Deployment {
	yes := true
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:            "app",
					Image:           "registry.example.com/app:1.0",
					SecurityContext: &corev1.SecurityContext{Privileged: &yes},
				}}},
			},
		},
	}
}

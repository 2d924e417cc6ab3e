package testenv

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PrivilegedAgent is the Deployment "agent" in namespace whose one container runs privileged:
// one Critical wl-privileged finding, so a profile selecting the namespace reports it
// NonCompliant and alerts fire. The monitoring scrape test and the fault tests start from it.
func PrivilegedAgent(namespace string) *appsv1.Deployment {
	yes := true
	labels := map[string]string{"app": "agent"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "registry.example.com/agent:1.0.0",
					SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}},
			},
		},
	}
}

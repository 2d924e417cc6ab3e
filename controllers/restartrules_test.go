package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestContainerRestartPoliciesDecideWhatRunsToCompletion: the API server (k8s v1.37.2, where
// ContainerRestartRules is on by default) accepts a regular container's own restartPolicy and
// restartPolicyRules, and the kubelet restarts a container by them before the pod's
// restartPolicy. A Pod of restartPolicy Never whose container restarts Always, and a Job whose
// container a rule restarts on exit code 0, never complete: avl-readiness-probe fails their
// containers without a probe (they were NotApplicable, "the workload runs to completion"). A Pod
// of restartPolicy Always whose only container's own policy is Never runs once and completes:
// NotApplicable, no finding (it failed).
func TestContainerRestartPoliciesDecideWhatRunsToCompletion(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "restart-rules", "restart-rules"
	createNamespace(t, ns, map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-readiness-probe") })
	policy := func(p corev1.ContainerRestartPolicy) *corev1.ContainerRestartPolicy { return &p }
	server := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "server", Namespace: ns},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "api", Image: "registry.example.com/shop/api:2.4.1", RestartPolicy: policy(corev1.ContainerRestartPolicyAlways)}}},
	}
	once := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "restore", Image: "registry.example.com/shop/db-restore:1.0.3", RestartPolicy: policy(corev1.ContainerRestartPolicyNever)}}},
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "worker", Namespace: ns},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "worker", Image: "registry.example.com/shop/worker:1.9.0",
				RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestart,
					ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpNotIn, Values: []int32{3}}}}}}}}},
	}
	for _, o := range []client.Object{server, once, job} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatalf("the API server refuses %s: %v", o.GetName(), err)
		}
	}
	// What the API server kept: the container policies were not dropped.
	if got := server.Spec.Containers[0].RestartPolicy; got == nil || *got != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("Pod server's container restartPolicy is %v after create", got)
	}
	if got := job.Spec.Template.Spec.Containers[0].RestartPolicyRules; len(got) != 1 {
		t.Fatalf("Job worker's container restartPolicyRules are %v after create", got)
	}
	eventually(t, 30*time.Second, "the containers that never complete fail", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		for _, w := range []struct{ name, container string }{{"server", "api"}, {"worker", "worker"}} {
			if f := finding(rep, "avl-readiness-probe", w.name, w.container); f == nil || f.Result != v1alpha1.ResultFail {
				return fmt.Errorf("%s: %s", w.name, describeFinding(rep, "avl-readiness-probe", w.name))
			}
		}
		return nil
	})
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if d := describeFinding(rep, "avl-readiness-probe", "once"); d != "none listed" {
		t.Errorf("Pod once runs to completion, but the report lists: %s", d)
	}
}

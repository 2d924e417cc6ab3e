package engine_test

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestLongRunningFollowsContainerRestartPolicies: a Pod or Job runs to completion unless the
// kubelet restarts one of its regular containers after it exits 0, which a container's own
// restartPolicy and restartPolicyRules (Kubernetes 1.35+) decide before the pod's
// (ContainerShouldRestart, k8s v1.37.2 pkg/api/v1/pod/util.go).
func TestLongRunningFollowsContainerRestartPolicies(t *testing.T) {
	policy := func(p corev1.ContainerRestartPolicy) *corev1.ContainerRestartPolicy { return &p }
	rule := func(action corev1.ContainerRestartRuleAction, op corev1.ContainerRestartRuleOnExitCodesOperator, codes ...int32) corev1.ContainerRestartRule {
		return corev1.ContainerRestartRule{Action: action, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: op, Values: codes}}
	}
	restart, all := corev1.ContainerRestartRuleActionRestart, corev1.ContainerRestartRuleActionRestartAllContainers
	in, notIn := corev1.ContainerRestartRuleOnExitCodesOpIn, corev1.ContainerRestartRuleOnExitCodesOpNotIn
	tests := map[string]struct {
		pod        corev1.RestartPolicy
		containers []corev1.Container
		want       bool
	}{
		"a pod that restarts its containers, which set no policy, runs forever": {
			pod: "", containers: []corev1.Container{{Name: "a"}}, want: true},
		"a pod that never restarts them runs to completion": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a"}}, want: false},
		"a container whose own policy is Always runs forever in a pod that never restarts": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a"}, {Name: "b", RestartPolicy: policy(corev1.ContainerRestartPolicyAlways)}}, want: true},
		"containers whose own policy is Never or OnFailure run to completion in a pod that always restarts": {
			pod: corev1.RestartPolicyAlways, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever)},
				{Name: "b", RestartPolicy: policy(corev1.ContainerRestartPolicyOnFailure)}}, want: false},
		"a rule that restarts on exit code 0 runs forever": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule(restart, in, 0)}}}, want: true},
		"a rule that restarts on every code but others runs forever": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule(restart, notIn, 1, 2)}}}, want: true},
		"a rule that restarts every container on exit code 0 runs forever": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule(all, in, 0)}}}, want: true},
		"a rule for a retriable exit code only runs to completion": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule(restart, in, 42)}}}, want: false},
		"the first rule that matches decides, and an unknown action leaves it to the policy": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyNever),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule("Ignore", in, 0), rule(restart, in, 0)}}}, want: false},
		"a rule on OnFailure that restarts on exit code 0 runs forever": {
			pod: corev1.RestartPolicyOnFailure, containers: []corev1.Container{{Name: "a", RestartPolicy: policy(corev1.ContainerRestartPolicyOnFailure),
				RestartPolicyRules: []corev1.ContainerRestartRule{rule(restart, notIn, 7)}}}, want: true},
		"a sidecar that always restarts does not keep the pod running": {
			pod: corev1.RestartPolicyNever, containers: []corev1.Container{{Name: "a"}}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := corev1.PodSpec{RestartPolicy: tc.pod, Containers: tc.containers,
				InitContainers: []corev1.Container{{Name: "proxy", RestartPolicy: policy(corev1.ContainerRestartPolicyAlways)}}}
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: spec}
			if got := engine.NewObject(pod, "v1", "Pod").Workload.LongRunning; got != tc.want {
				t.Errorf("Pod: LongRunning %v, want %v", got, tc.want)
			}
			if tc.pod == "" || tc.pod == corev1.RestartPolicyAlways {
				return // no Job holds such a template
			}
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns"}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
			if got := engine.NewObject(job, "batch/v1", "Job").Workload.LongRunning; got != tc.want {
				t.Errorf("Job: LongRunning %v, want %v", got, tc.want)
			}
			cron := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"},
				Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}}}
			if got := engine.NewObject(cron, "batch/v1", "CronJob").Workload.LongRunning; got != tc.want {
				t.Errorf("CronJob: LongRunning %v, want %v", got, tc.want)
			}
		})
	}
}

// TestJobWithoutAValidRestartPolicyIsNotLongRunning: a Job template whose restartPolicy is unset
// or Always, which the API server refuses, is judged as Never (as before).
func TestJobWithoutAValidRestartPolicyIsNotLongRunning(t *testing.T) {
	for _, p := range []corev1.RestartPolicy{"", corev1.RestartPolicyAlways} {
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: p, Containers: []corev1.Container{{Name: "a"}}}}}}
		if engine.NewObject(job, "batch/v1", "Job").Workload.LongRunning {
			t.Errorf("restartPolicy %q: LongRunning", p)
		}
	}
}

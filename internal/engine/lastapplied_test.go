package engine

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRemovedEnvReadsEachKindsTemplate: the env a CronJob's and a Pod's last-applied
// annotation holds and the live spec does not is found where each kind keeps its pod
// template; an entry the spec holds as it is, or a Secret reference, is not.
func TestRemovedEnvReadsEachKindsTemplate(t *testing.T) {
	annotated := func(raw string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "orders", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: raw}}
	}
	live := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}}}}}
	env := `[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","value":"Orders-2024"},{"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]`
	cronJob := &batchv1.CronJob{ObjectMeta: annotated(`{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"app","env":` + env + `}]}}}}}}`)}
	cronJob.Spec.JobTemplate.Spec.Template.Spec = live
	pod := &corev1.Pod{ObjectMeta: annotated(`{"spec":{"containers":[{"name":"app","env":` + env + `}]}}`), Spec: live}
	for _, obj := range []KubeObject{cronJob, pod} {
		got := RemovedEnv(obj)
		if len(got) != 1 || got[0].Container != "app" || !got[0].Live || len(got[0].Removed) != 1 || got[0].Env[got[0].Removed[0]].Name != "DB_PASSWORD" {
			t.Errorf("%T: RemovedEnv = %+v, want DB_PASSWORD of the live container app only", obj, got)
		}
	}
}

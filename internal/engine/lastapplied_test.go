package engine

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStaleAppliedReadsEachKindsTemplate: the env a CronJob's and a Pod's last-applied
// annotation holds and the live spec does not is found where each kind keeps its pod
// template; an entry the spec holds as it is, or a Secret reference, is not.
func TestStaleAppliedReadsEachKindsTemplate(t *testing.T) {
	annotated := func(raw string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "orders", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: raw}}
	}
	live := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}}}}}
	env := `[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","value":"Orders-2024"},{"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]`
	cronJob := &batchv1.CronJob{ObjectMeta: annotated(`{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"app","env":` + env + `}]}}}}}}`)}
	cronJob.Spec.JobTemplate.Spec.Template.Spec = live
	pod := &corev1.Pod{ObjectMeta: annotated(`{"spec":{"containers":[{"name":"app","env":` + env + `}]}}`), Spec: live}
	for _, obj := range []KubeObject{cronJob, pod} {
		got := StaleApplied(obj)
		if len(got) != 1 || got[0].Container != "app" || !got[0].Live || len(got[0].Removed) != 1 || got[0].Env[got[0].Removed[0]].Name != "DB_PASSWORD" {
			t.Errorf("%T: StaleApplied = %+v, want DB_PASSWORD of the live container app only", obj, got)
		}
	}
}

// TestStaleAppliedComparesCommandLines: a container whose command or args the annotation
// holds otherwise than the live pod template (kubectl edit changed them), or that the
// template no longer has, is listed with the annotation's command line; one whose command line
// is the live one, or that had none, is not.
func TestStaleAppliedComparesCommandLines(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{"containers":[` +
			`{"name":"changed","args":["--db-password=Orders-2024"]},` +
			`{"name":"same","command":["orders"],"args":["--log-level=info"]},` +
			`{"name":"none"},` +
			`{"name":"gone","command":["mysql","-pOrders-2024"]}]}}`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "changed", Args: []string{"--db-password=$(DB_PASSWORD)"}},
			{Name: "same", Command: []string{"orders"}, Args: []string{"--log-level=info"}},
			{Name: "none", Args: []string{"--log-level=debug"}},
		}},
	}
	got := StaleApplied(pod)
	if len(got) != 2 {
		t.Fatalf("StaleApplied = %+v, want the containers changed and gone", got)
	}
	if a := got[0]; a.Container != "changed" || !a.Live || !a.ArgvChanged || len(a.Args) != 1 || a.Args[0] != "--db-password=Orders-2024" {
		t.Errorf("StaleApplied[0] = %+v, want the live container changed with the annotation's args", a)
	}
	if a := got[1]; a.Container != "gone" || a.Live || !a.ArgvChanged || len(a.Command) != 2 {
		t.Errorf("StaleApplied[1] = %+v, want the container gone, no longer live, with the annotation's command", a)
	}
}

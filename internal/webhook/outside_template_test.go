package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAnUpdateUnderAControllerReferenceCannotChangeWhatACustomCheckReadsOutsideTheTemplate: an
// update of an object that names as its controller a built-in controller creating its kind (a
// Job naming a CronJob, a ReplicaSet naming a Deployment) was admitted unjudged when it kept the
// pod template, the labels and the annotations and did not add replicas, whatever it did to the
// rest of the spec. A custom check may read any of it: here the platform team bounds every
// Job's activeDeadlineSeconds and requires every ReplicaSet's minReadySeconds. A namespace admin
// creates a Job that sets a deadline under a CronJob reference (a CronJob that does not exist:
// the API server checks no owner reference), and in an update drops the deadline or raises it
// to a day; or lowers a ReplicaSet's minReadySeconds under its Deployment's reference. The
// reports judge both and fail them; the webhook admitted them. No built-in controller writes
// these fields on an object it controls (the CronJob controller never updates a Job; the
// Deployment controller writes minReadySeconds only on the ReplicaSet its template explains,
// with the annotations it copies), so they are judged.
func TestAnUpdateUnderAControllerReferenceCannotChangeWhatACustomCheckReadsOutsideTheTemplate(t *testing.T) {
	const ns = "enforce-outside-template"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{
			{ID: "custom-job-deadline", Title: "Jobs stop within an hour", Kinds: []string{"Job"},
				Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityCritical,
				Expression: "has(object.spec.activeDeadlineSeconds) && object.spec.activeDeadlineSeconds <= 3600"},
			{ID: "custom-rs-min-ready", Title: "ReplicaSets wait before counting a Pod available", Kinds: []string{"ReplicaSet"},
				Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityCritical,
				Expression: "has(object.spec.minReadySeconds) && object.spec.minReadySeconds >= 10"},
		}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	d := deployment(ns, "orders", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	cronJob := metav1.OwnerReference{APIVersion: "batch/v1", Kind: "CronJob", Name: "nightly",
		UID: "66666666-6666-6666-6666-666666666666", Controller: &yes, BlockOwnerDeletion: &yes}
	hour := int64(3600)
	job := func(name string) *batchv1.Job {
		tmpl := d.Spec.Template.DeepCopy()
		tmpl.Labels = nil
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: []metav1.OwnerReference{cronJob}},
			Spec: batchv1.JobSpec{ActiveDeadlineSeconds: &hour, Template: *tmpl}}
	}
	testenv.Eventually(t, 10*time.Second, "the custom checks enforced", func() error {
		probe := job("probe")
		probe.Spec.ActiveDeadlineSeconds = nil
		if err := k.Create(ctx, probe, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-job-deadline") {
			return fmt.Errorf("a Job without a deadline: %v", err)
		}
		return nil
	})

	j := job("nightly-29000000")
	if err := k.Create(ctx, j); err != nil {
		t.Fatalf("a Job with a deadline of an hour was denied: %v", err)
	}
	updateJob := func(change func(j *batchv1.Job)) error {
		cur := &batchv1.Job{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(j), cur); err != nil {
			return err
		}
		change(cur)
		return k.Update(ctx, cur, client.DryRunAll)
	}
	day := int64(86400)
	for what, change := range map[string]func(j *batchv1.Job){
		"raising its deadline to a day": func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = &day },
		"dropping its deadline":         func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = nil },
	} {
		if err := updateJob(change); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-job-deadline") {
			t.Errorf("a Job under a CronJob reference %s: want denied naming custom-job-deadline, got %v", what, err)
		}
	}
	// What changes nothing a check reads is admitted still: a finalizer added (lifecycleOnly).
	if err := updateJob(func(j *batchv1.Job) { j.Finalizers = append(j.Finalizers, "example.com/hold") }); err != nil {
		t.Errorf("adding a finalizer to the Job was denied: %v", err)
	}

	three := int32(3)
	rs := replicaSetOf(d, "orders-other")
	rs.Spec.Replicas = &three
	rs.Spec.MinReadySeconds = 30
	// Another image than the Deployment's: no template explains it, the ReplicaSet is judged itself.
	rs.Spec.Template.Spec.Containers[0].Image = "registry.example.com/app:2.0.0"
	if err := k.Create(ctx, rs); err != nil {
		t.Fatalf("a ReplicaSet with minReadySeconds 30 was denied: %v", err)
	}
	updateRS := func(change func(r *appsv1.ReplicaSet)) error {
		cur := &appsv1.ReplicaSet{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(rs), cur); err != nil {
			return err
		}
		change(cur)
		return k.Update(ctx, cur, client.DryRunAll)
	}
	if err := updateRS(func(r *appsv1.ReplicaSet) { r.Spec.MinReadySeconds = 0 }); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-rs-min-ready") {
		t.Errorf("a ReplicaSet under a Deployment reference dropping its minReadySeconds: want denied naming custom-rs-min-ready, got %v", err)
	}
	// The Deployment controller's scale-down (replicas and its scale annotations) is admitted still.
	if err := updateRS(func(r *appsv1.ReplicaSet) {
		one := int32(1)
		r.Spec.Replicas = &one
		r.Annotations = map[string]string{"deployment.kubernetes.io/desired-replicas": "1", "deployment.kubernetes.io/max-replicas": "2"}
	}); err != nil {
		t.Errorf("the Deployment controller scaling the ReplicaSet down was denied: %v", err)
	}
}

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestACustomCheckOfTheControllersKindJudgesWhatTheTemplateDoesNotDecide: a custom check that
// names the controller's kind too (Workload; CronJob and Job) judged a Pod or Job its
// controller's template explains through that controller alone, though the template does not
// decide every field it reads. A namespace admin's Pod naming their ReplicaSet with hostAliases,
// and Job naming their CronJob without the CronJob's activeDeadlineSeconds, passed: the report
// listed neither. Both are now listed, failing, while the ReplicaSet's and the CronJob's own
// Pod and Job are not listed with their controllers.
func TestACustomCheckOfTheControllersKindJudgesWhatTheTemplateDoesNotDecide(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "explained-custom", "explained-custom"
	createNamespace(t, ns, map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{
			{ID: "custom-no-host-aliases", Title: "no hostAliases", Kinds: []string{"Workload"},
				Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityCritical,
				Expression: "!has(podSpec.hostAliases)"},
			{ID: "custom-job-deadline", Title: "Jobs stop within an hour", Kinds: []string{"CronJob", "Job"},
				Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityCritical,
				Expression: "object.kind == 'CronJob' ? has(object.spec.jobTemplate.spec.activeDeadlineSeconds) : has(object.spec.activeDeadlineSeconds)"},
		}
	})
	yes := true
	d := deployment(ns, "web", false)
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-6f4", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template}}
	if err := k8s.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
			Spec: *rs.Spec.Template.Spec.DeepCopy()}
	}
	aliased := pod("web-6f4-aliased")
	aliased.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	for _, p := range []*corev1.Pod{pod("web-6f4-a"), aliased} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	hour := int64(3600)
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = nil
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns}, Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{ActiveDeadlineSeconds: &hour, Template: *tmpl}}}}
	if err := k8s.Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	job := func(name string) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}},
			Spec: *cj.Spec.JobTemplate.Spec.DeepCopy()}
	}
	forged := job("nightly-forever")
	forged.Spec.ActiveDeadlineSeconds = nil
	for _, j := range []*batchv1.Job{job("nightly-29000000"), forged} {
		if err := k8s.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
	}

	eventually(t, 30*time.Second, "the aliased Pod and the forged Job listed", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "custom-no-host-aliases", aliased.Name, ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Pod" {
			return fmt.Errorf("Pod %s: %s", aliased.Name, describeFinding(rep, "custom-no-host-aliases", aliased.Name))
		}
		if f := finding(rep, "custom-job-deadline", forged.Name, ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Job" {
			return fmt.Errorf("Job %s: %s", forged.Name, describeFinding(rep, "custom-job-deadline", forged.Name))
		}
		for _, f := range rep.Status.Findings {
			if (f.Check == "custom-no-host-aliases" || f.Check == "custom-job-deadline") && f.Resource.Name != aliased.Name && f.Resource.Name != forged.Name {
				return fmt.Errorf("%s is listed on %s %s: %s", f.Check, f.Resource.Kind, f.Resource.Name, f.Message)
			}
		}
		if rep.Status.Result == v1alpha1.Compliant {
			return fmt.Errorf("the report is Compliant with the findings listed")
		}
		return nil
	})
}

// TestAKindBranchedCustomCheckListsThePodsItsDeploymentsBranchPasses: a custom check of kinds
// [Pod, Deployment] that judges each kind by its own branch passed a Deployment whose template
// makes Pods that fail the Pod branch, and dropped each of those Pods' failures (and its
// ReplicaSet's) as one the Deployment answers for: the report listed nothing and was Compliant,
// and a namespace admin's Pod naming the ReplicaSet with hostAliases went unlisted. The
// ReplicaSet, judged as the Pods it makes, is now listed for them, and its Pods are not listed
// again.
func TestAKindBranchedCustomCheckListsThePodsItsDeploymentsBranchPasses(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "branched-custom", "branched-custom"
	createNamespace(t, ns, map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-pod-branch", Title: "Pods set no hostAliases", Kinds: []string{"Pod", "Deployment"},
			Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.kind == 'Pod' ? !has(object.spec.hostAliases) : has(object.spec.selector)"}}
	})
	yes := true
	d := deployment(ns, "web", false)
	d.Spec.Template.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-6f4", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template}}
	if err := k8s.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web-6f4-a", "web-6f4-b"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
			Spec: *rs.Spec.Template.Spec.DeepCopy()}
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the ReplicaSet listed for its Pods", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "custom-pod-branch", rs.Name, ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "ReplicaSet" {
			return fmt.Errorf("ReplicaSet %s: %s", rs.Name, describeFinding(rep, "custom-pod-branch", rs.Name))
		}
		for _, f := range rep.Status.Findings {
			if f.Check == "custom-pod-branch" && f.Resource.Name != rs.Name {
				return fmt.Errorf("custom-pod-branch is listed on %s %s: %s", f.Resource.Kind, f.Resource.Name, f.Message)
			}
		}
		if rep.Status.Result == v1alpha1.Compliant {
			return fmt.Errorf("the report is Compliant with the ReplicaSet failing")
		}
		return nil
	})
}

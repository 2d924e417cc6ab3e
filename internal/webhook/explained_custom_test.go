package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestACustomCheckOfTheControllersKindJudgesWhatTheTemplateDoesNotDecide: a custom check that
// names the controller's kind too (Workload; CronJob and Job) judged a Pod or Job its
// controller's template explains through that controller alone, though the template does not
// decide every field it reads. A namespace admin created, under Enforce, a Pod naming their
// ReplicaSet with hostAliases that send a name to an address of their choosing, and a Job naming
// their CronJob without the CronJob's activeDeadlineSeconds: both admitted. They are now denied,
// naming the check, while the Pod and Job their controllers would make are admitted.
func TestACustomCheckOfTheControllersKindJudgesWhatTheTemplateDoesNotDecide(t *testing.T) {
	const ns = "enforce-explained-custom"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{
			{ID: "custom-no-host-aliases", Title: "no hostAliases", Kinds: []string{"Workload"},
				Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityCritical,
				Expression: "!has(podSpec.hostAliases)"},
			{ID: "custom-job-deadline", Title: "Jobs stop within an hour", Kinds: []string{"CronJob", "Job"},
				Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityCritical,
				Expression: "object.kind == 'CronJob' ? has(object.spec.jobTemplate.spec.activeDeadlineSeconds) : has(object.spec.activeDeadlineSeconds)"},
		}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "shop", false)
	testenv.Eventually(t, 10*time.Second, "the custom checks enforced", func() error {
		probe := d.DeepCopy()
		probe.Spec.Template.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
		if err := k.Create(ctx, probe, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-no-host-aliases") {
			return fmt.Errorf("a Deployment with hostAliases: %v", err)
		}
		return nil
	})
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "shop-6f4")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, podOf(rs, "shop-6f4-a"), client.DryRunAll); err != nil {
		t.Errorf("the ReplicaSet's own Pod was denied: %v", err)
	}
	aliased := podOf(rs, "shop-6f4-b")
	aliased.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	if err := k.Create(ctx, aliased, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-no-host-aliases") {
		t.Errorf("a Pod naming the ReplicaSet with hostAliases: want denied naming custom-no-host-aliases, got %v", err)
	}

	hour := int64(3600)
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = nil
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns}, Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{ActiveDeadlineSeconds: &hour, Template: *tmpl}}}}
	if err := k.Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	yes := true
	job := func(name string) *batchv1.Job {
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}},
			Spec: *cj.Spec.JobTemplate.Spec.DeepCopy()}
	}
	if err := k.Create(ctx, job("nightly-29000000"), client.DryRunAll); err != nil {
		t.Errorf("the CronJob's own Job was denied: %v", err)
	}
	forged := job("nightly-forever")
	forged.Spec.ActiveDeadlineSeconds = nil
	if err := k.Create(ctx, forged, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-job-deadline") {
		t.Errorf("a Job naming the CronJob without its deadline: want denied naming custom-job-deadline, got %v", err)
	}
}

// TestAPodOfAnExplainedReplicaSetIsJudgedWithItsReplicaSet: a ReplicaSet naming its Deployment,
// whose template is the Deployment's in all the built-in checks read but sets hostAliases, was
// admitted before the profile enforced (it is refused now: the test above). Its Pods, which its
// template explains, fail a custom check of every workload as their ReplicaSet does, and were
// admitted under Enforce on the Deployment's judgement, which passes: the webhook judged the
// Pod and the Deployment, not the ReplicaSet between them. It judges every object of the chain.
func TestAPodOfAnExplainedReplicaSetIsJudgedWithItsReplicaSet(t *testing.T) {
	const ns = "enforce-explained-rs"
	setup(t, ns, v1alpha1.EnforcementWarn)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-host-aliases", Title: "no hostAliases", Kinds: []string{"Workload"},
			Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityCritical, Expression: "!has(podSpec.hostAliases)"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "shop", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "shop-6f4")
	rs.Spec.Template.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	err := k.Create(ctx, podOf(rs, "shop-6f4-a"), client.DryRunAll)
	const want = "custom-no-host-aliases (Critical) ReplicaSet enforce-explained-rs/shop-6f4: no hostAliases (judged on its own: it fails the check where what Deployment shop's template makes passes it)"
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("a Pod of the ReplicaSet with hostAliases: want denied saying %q, got %v", want, err)
	}
}

// TestAKindBranchedCustomCheckDeniesThePodsItsDeploymentsBranchPasses: a custom check of kinds
// [Pod, Deployment] that judges each kind by a branch of its own dropped a Pod's failure of the
// Pod branch wherever what its controller's template makes failed it too, as one the controller
// answers for, though the Deployment, judged by its own branch, passed: under Enforce, a Pod
// naming the ReplicaSet (whose template sets hostAliases, admitted before the profile enforced)
// with those hostAliases was admitted. It is now denied, naming the ReplicaSet, which is judged
// as the Pods it makes and which nothing above it answers for.
func TestAKindBranchedCustomCheckDeniesThePodsItsDeploymentsBranchPasses(t *testing.T) {
	const ns = "enforce-branched-custom"
	setup(t, ns, v1alpha1.EnforcementWarn)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-pod-branch", Title: "Pods set no hostAliases", Kinds: []string{"Pod", "Deployment"},
			Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.kind == 'Pod' ? !has(object.spec.hostAliases) : has(object.spec.selector)"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "shop", false)
	d.Spec.Template.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "shop-6f4")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	// The Deployment passes its own branch.
	if err := k.Create(ctx, deployment(ns, "shop-2", false), client.DryRunAll); err != nil {
		t.Fatalf("a Deployment was denied: %v", err)
	}
	err := k.Create(ctx, podOf(rs, "shop-6f4-a"), client.DryRunAll)
	const want = "custom-pod-branch (Critical) ReplicaSet enforce-branched-custom/shop-6f4: Pods set no hostAliases (judged on its own: it fails the check as what Deployment shop's template makes does, and Deployment shop passes it)"
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("a Pod of the ReplicaSet with hostAliases: want denied saying %q, got %v", want, err)
	}
}

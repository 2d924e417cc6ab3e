package engine_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestACustomCheckOfTheControllersKindStillJudgesWhatItsTemplateDoesNotDecide: a Pod, a
// ReplicaSet or a Job its controller's template explains was judged through that controller by
// every custom check that names the controller's kind too (or Workload), though the template
// decides only what the built-in checks read. A namespace admin who writes such an object
// naming their controller (its UID is readable) with a field of their choosing that the
// comparison leaves out (hostAliases, a ReplicaSet's minReadySeconds, a Job's
// activeDeadlineSeconds) passed the check. Such an object is now judged itself by such a check
// where it fails it and what its controller makes of its template does not; the ordinary
// objects a controller makes, and those that fail as their template does, are not listed again.
func TestACustomCheckOfTheControllersKindStillJudgesWhatItsTemplateDoesNotDecide(t *testing.T) {
	check := func(id, expression string, kinds ...string) v1alpha1.CustomCheck {
		return v1alpha1.CustomCheck{ID: id, Title: id, Kinds: kinds, Criteria: []v1alpha1.Criterion{"CC6.1"}, Expression: expression}
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{
			check("workload-host-aliases", "!has(podSpec.hostAliases)", engine.KindWorkload),
			check("pod-host-aliases", "!has(podSpec.hostAliases)", "Pod", "Deployment"),
			check("pod-own-annotations", "!has(object.metadata.annotations) || !('debug' in object.metadata.annotations)", "Pod", "ReplicaSet"),
			check("min-ready", "has(object.spec.minReadySeconds) && object.spec.minReadySeconds >= 10", "ReplicaSet", "Deployment"),
			check("job-deadline", "object.kind == 'CronJob' ? has(object.spec.jobTemplate.spec.activeDeadlineSeconds) : has(object.spec.activeDeadlineSeconds)", "CronJob", "Job"),
		}}}

	deployment := webDeployment()
	deployment.Spec.MinReadySeconds = 10
	rs := webReplicaSet()
	rs.Spec.MinReadySeconds = 10
	// A ReplicaSet a namespace admin writes naming the Deployment, its template the
	// Deployment's, its minReadySeconds not.
	forgedRS := webReplicaSet()
	forgedRS.Name, forgedRS.UID = "web-forged", "uid-web-forged"
	var objs []*engine.Object
	pods := map[string]*corev1.Pod{}
	for _, name := range []string{"web-abc-x1", "web-abc-x2", "web-abc-x3"} {
		p := webPod()
		p.Name = name
		pods[name] = p
	}
	// Pods a namespace admin writes naming the ReplicaSet: each explained by its template in
	// everything the built-in checks read.
	aliased := webPod()
	aliased.Name = "web-abc-aliased"
	aliased.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	pods[aliased.Name] = aliased
	annotated := webPod()
	annotated.Name = "web-abc-annotated"
	annotated.Annotations = map[string]string{"debug": "true"}
	pods[annotated.Name] = annotated

	// A Deployment whose own template sets hostAliases: it fails the checks of them, once, and
	// its Pods, which fail as their template does, are not listed with it.
	legacy := webDeployment()
	legacy.Name, legacy.UID = "legacy", "uid-legacy"
	legacy.Spec.MinReadySeconds = 10
	legacy.Spec.Template.Spec.HostAliases = aliased.Spec.HostAliases
	legacyRS := webReplicaSet()
	legacyRS.Name, legacyRS.UID = "legacy-abc", "uid-legacy-abc"
	legacyRS.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "Deployment", "legacy", "uid-legacy")}
	legacyRS.Spec.MinReadySeconds = 10
	legacyRS.Spec.Template.Spec.HostAliases = aliased.Spec.HostAliases
	for _, name := range []string{"legacy-abc-x1", "legacy-abc-x2"} {
		p := webPod()
		p.Name = name
		p.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "legacy-abc", "uid-legacy-abc")}
		p.Spec.HostAliases = aliased.Spec.HostAliases
		pods[name] = p
	}

	cronJob := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "shop", UID: "uid-cron"}}
	cronJob.Spec.JobTemplate.Spec.Template = webTemplate()
	cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds = ptr.To[int64](600)
	job := func(name string, deadline *int64) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name),
			OwnerReferences: []metav1.OwnerReference{ref("batch/v1", "CronJob", "nightly", "uid-cron")}}}
		j.Spec.Template = webTemplate()
		j.Spec.ActiveDeadlineSeconds = deadline
		j.Spec.BackoffLimit = ptr.To[int32](6)
		return j
	}

	objs = append(objs,
		engine.NewObject(deployment, "apps/v1", "Deployment"), engine.NewObject(rs, "apps/v1", "ReplicaSet"),
		engine.NewObject(forgedRS, "apps/v1", "ReplicaSet"),
		engine.NewObject(legacy, "apps/v1", "Deployment"), engine.NewObject(legacyRS, "apps/v1", "ReplicaSet"),
		engine.NewObject(cronJob, "batch/v1", "CronJob"),
		engine.NewObject(job("nightly-1", ptr.To[int64](600)), "batch/v1", "Job"),
		// A Job a namespace admin writes naming the CronJob, without its deadline.
		engine.NewObject(job("nightly-forged", nil), "batch/v1", "Job"))
	for _, p := range pods {
		objs = append(objs, engine.NewObject(p, "v1", "Pod"))
	}
	inv := engine.NewInventory(objs, true)
	for _, o := range objs {
		if o.Kind != "Deployment" && o.Kind != "CronJob" && !inv.JudgedThroughController(o) {
			t.Fatalf("%s %s is not explained by its controller: %s", o.Kind, o.Name, inv.Provenance(o).Reason)
		}
	}
	plan := engine.Compile(nil, profile)
	if len(plan.Problems) > 0 {
		t.Fatal(plan.Problems)
	}
	ev := plan.Evaluate(inv, nil, engine.Options{Now: time.Now()})
	got := notPassing(ev)
	want := []string{
		"job-deadline Fail Job nightly-forged",
		"min-ready Fail ReplicaSet web-forged",
		"pod-host-aliases Fail Deployment legacy",
		"pod-host-aliases Fail Pod web-abc-aliased",
		"pod-own-annotations Fail Pod web-abc-annotated",
		"workload-host-aliases Fail Deployment legacy",
		"workload-host-aliases Fail Pod web-abc-aliased",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results other than Pass:\n got %q\nwant %q", got, want)
	}
	failureEndsIn(t, ev, "web-abc-aliased", "(judged on its own: it fails the check where what ReplicaSet web-abc's template makes passes it)")
}

// TestAnExplainedPodIsNotAnsweredForByAnExpressionThatRanOutOfTime: a custom check that ran out
// of time in an evaluation is not run on the objects after it, each of them undecided and
// failing (FailedOnObject); on what a controller makes neither, so that the controller's
// template cannot vouch for an explained Pod: the Pod is listed, undecided, as a bare one is,
// and an exception must waive the check on it itself.
func TestAnExplainedPodIsNotAnsweredForByAnExpressionThatRanOutOfTime(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{{ID: "slow", Title: "slow", Kinds: []string{engine.KindWorkload}, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Expression: "lists.range(1000).all(i, i >= 0) && !has(podSpec.hostAliases)"}}}}
	pod := engine.NewObject(webPod(), "v1", "Pod")
	inv := engine.NewInventory([]*engine.Object{engine.NewObject(webDeployment(), "apps/v1", "Deployment"),
		engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"), pod}, true)
	if !inv.JudgedThroughController(pod) {
		t.Fatalf("the Pod is not explained: %s", inv.Provenance(pod).Reason)
	}
	// A timeout every evaluation of the expression outruns: it is checked within the loop.
	ev := engine.Compile(nil, profile).Evaluate(inv, nil, engine.Options{Now: time.Now(), CustomCheckTimeout: time.Nanosecond})
	for _, r := range ev.Results {
		if r.Object == pod {
			if !r.FailedOnObject() || !strings.HasPrefix(r.Message, engine.ExpressionStopped) {
				t.Errorf("the Pod's result: %s %q, want undecided, the expression stopped", r.Status, r.Message)
			}
			return
		}
	}
	t.Errorf("the Pod is not listed: %d results", len(ev.Results))
}

// notPassing lists the results of ev other than Pass as "check status kind name", sorted.
func notPassing(ev *engine.Evaluation) []string {
	var got []string
	for _, r := range ev.Results {
		if r.Status != engine.StatusPass {
			got = append(got, r.Check.ID+" "+r.Status.String()+" "+r.Object.Kind+" "+r.Object.Name)
		}
	}
	slices.Sort(got)
	return got
}

// failureEndsIn checks that every failing result of the object named name says suffix last.
func failureEndsIn(t *testing.T, ev *engine.Evaluation, name, suffix string) {
	t.Helper()
	for _, r := range ev.Results {
		if r.Object.Name == name && r.Status == engine.StatusFail && !strings.HasSuffix(r.Message, suffix) {
			t.Errorf("message %q does not end in %q", r.Message, suffix)
		}
	}
}

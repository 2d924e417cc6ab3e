package engine_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// legacyWorkload is Deployment name with replicas, its ReplicaSet name-abc and Pods of it,
// every one of them with hostAliases in its template (and so in its spec).
func legacyWorkload(name string, replicas int32, pods ...string) []*engine.Object {
	aliases := []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault.internal"}}}
	d := webDeployment()
	d.Name, d.UID = name, types.UID("uid-"+name)
	d.Spec.Replicas = ptr.To(replicas)
	d.Spec.Template.Spec.HostAliases = aliases
	rs := webReplicaSet()
	rs.Name, rs.UID = name+"-abc", types.UID("uid-"+name+"-abc")
	rs.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "Deployment", d.Name, d.UID)}
	rs.Spec.Replicas = ptr.To(replicas)
	rs.Spec.Template.Spec.HostAliases = aliases
	objs := []*engine.Object{engine.NewObject(d, "apps/v1", "Deployment"), engine.NewObject(rs, "apps/v1", "ReplicaSet")}
	for _, n := range pods {
		p := webPod()
		p.Name, p.UID = n, types.UID("uid-"+n)
		p.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", rs.Name, rs.UID)}
		p.Spec.HostAliases = aliases
		objs = append(objs, engine.NewObject(p, "v1", "Pod"))
	}
	return objs
}

// TestAKindBranchedCustomCheckJudgesTheControllersPodsByTheirOwnBranch: a custom check of kinds
// [Pod, Deployment] that judges each kind by its own branch judged the Pods a Deployment's
// template explains through the Deployment alone where what the template makes failed the Pod
// branch too: their failure was dropped as one their controller answers for, though the
// Deployment, judged by its own branch, passed. Every Pod of such a Deployment failed the check
// and nothing was listed; a namespace admin's Pod naming the ReplicaSet (its UID is readable)
// with hostAliases passed in the reports and the admission webhook. The failure is now dropped
// only where the controller fails the check itself; the ReplicaSet, whose template fails the Pod
// branch, answers for its Pods, and a Deployment that fails its own branch stays one finding.
func TestAKindBranchedCustomCheckJudgesTheControllersPodsByTheirOwnBranch(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{{ID: "branched", Title: "branched", Kinds: []string{"Pod", "Deployment"}, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Expression: "object.kind == 'Pod' ? !has(object.spec.hostAliases) : object.spec.replicas >= 2"}}}}
	objs := append(legacyWorkload("legacy", 2, "legacy-abc-x1", "legacy-abc-x2"), legacyWorkload("single", 1, "single-abc-x1")...)
	inv := engine.NewInventory(objs, true)
	for _, o := range objs {
		if o.Kind != "Deployment" && !inv.JudgedThroughController(o) {
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
		// Its replicas fail the Deployment's branch: one finding, its ReplicaSet and Pods not
		// listed again.
		"branched Fail Deployment single",
		// Its Pods fail the Pod branch, as its template makes them: the ReplicaSet, judged as the
		// Pods it makes, answers for them.
		"branched Fail ReplicaSet legacy-abc",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results other than Pass:\n got %q\nwant %q", got, want)
	}
	failureEndsIn(t, ev, "legacy-abc", "(judged on its own: it fails the check as what Deployment legacy's template makes does, and Deployment legacy passes it)")
}

// TestAnExceptionForTheControllerDoesNotWaiveAnExplainedPodsOwnFailure: an exception that waives
// a custom check for a Deployment (kinds [Deployment], names [web]) covers the Deployment's
// failure, which its Pods share as its template makes them; a Pod naming the Deployment's
// ReplicaSet that fails the check where the template's Pod passes it (its own annotation) has a
// failure the Deployment does not have, and stays listed, failing, unwaived, beside the
// Deployment's excepted finding. The exception counts the one finding it covers.
func TestAnExceptionForTheControllerDoesNotWaiveAnExplainedPodsOwnFailure(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{{ID: "no-debug", Title: "no debug annotation", Kinds: []string{engine.KindWorkload}, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Expression: "!('debug' in object.metadata.?annotations.orValue({}))"}}}}
	d := webDeployment()
	d.Annotations = map[string]string{"debug": "true"}
	debug := webPod()
	debug.Name, debug.UID = "web-abc-debug", "uid-web-abc-debug"
	debug.Annotations = map[string]string{"debug": "true"}
	objs := []*engine.Object{engine.NewObject(d, "apps/v1", "Deployment"), engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"),
		engine.NewObject(webPod(), "v1", "Pod"), engine.NewObject(debug, "v1", "Pod")}
	inv := engine.NewInventory(objs, true)
	for _, o := range objs[1:] {
		if !inv.JudgedThroughController(o) {
			t.Fatalf("%s %s is not explained by its controller: %s", o.Kind, o.Name, inv.Provenance(o).Reason)
		}
	}
	ex := exception("shop", "web-debug", func(s *v1alpha1.ControlExceptionSpec) {
		s.Checks = []string{"no-debug"}
		s.Match.Kinds, s.Match.Names = []string{"Deployment"}, []string{"web"}
	})
	ev := engine.Compile(nil, profile).Evaluate(inv, []*v1alpha1.ControlException{ex},
		engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	var got []string
	for _, r := range ev.Results {
		if r.Status != engine.StatusPass {
			s := r.Check.ID + " " + r.Status.String() + " " + r.Object.Kind + " " + r.Object.Name
			if r.Exception != nil {
				s += " by " + r.Exception.Key
			}
			got = append(got, s)
		}
	}
	slices.Sort(got)
	want := []string{
		"no-debug Excepted Deployment web by shop/web-debug",
		"no-debug Fail Pod web-abc-debug",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results other than Pass:\n got %q\nwant %q", got, want)
	}
	if len(ev.Exceptions) != 1 || ev.Exceptions[0].State != v1alpha1.ExceptionActive || ev.Exceptions[0].Matched != 1 {
		t.Errorf("exceptions %+v, want shop/web-debug Active, covering 1 finding", ev.Exceptions)
	}
}

// TestACheckOfEveryWorkloadIsAnsweredByTheControllerForWhatItsTemplateMakes: a custom check of
// kinds [Workload] does not name the Pods and ReplicaSets a Deployment makes: the Deployment is
// judged for them (the owning controller, not each revision or Pod), also where its own fields
// pass and what its template makes fails (a team label on the Deployment, not on its template).
// Only a check that names the object's kind itself (kinds [Pod, Deployment], judging the
// ReplicaSet as the Pods it makes) lists what the controller's passing verdict does not answer
// for (TestAKindBranchedCustomCheckJudgesTheControllersPodsByTheirOwnBranch).
func TestACheckOfEveryWorkloadIsAnsweredByTheControllerForWhatItsTemplateMakes(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{
			{ID: "team", Title: "team", Kinds: []string{engine.KindWorkload}, Criteria: []v1alpha1.Criterion{"CC6.1"},
				Expression: "'team' in object.metadata.?labels.orValue({})"},
			{ID: "pod-team", Title: "pod-team", Kinds: []string{"Pod", "Deployment"}, Criteria: []v1alpha1.Criterion{"CC6.1"},
				Expression: "'team' in object.metadata.?labels.orValue({})"},
		}}}
	d := webDeployment()
	d.Labels = map[string]string{"team": "shop"}
	objs := []*engine.Object{engine.NewObject(d, "apps/v1", "Deployment"), engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"),
		engine.NewObject(webPod(), "v1", "Pod")}
	ev := engine.Compile(nil, profile).Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	got := notPassing(ev)
	if want := []string{"pod-team Fail ReplicaSet web-abc"}; !slices.Equal(got, want) {
		t.Errorf("results other than Pass:\n got %q\nwant %q", got, want)
	}
}

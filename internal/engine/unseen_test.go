package engine_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// isolated fails a workload no NetworkPolicy of its namespace stands beside; it reads them.
var isolated = &engine.Check{
	ID: "test-isolated", Title: "isolated", Severity: v1alpha1.SeverityHigh,
	Criteria: []v1alpha1.Criterion{"CC6.6"}, Targets: []string{engine.KindWorkload}, Reads: []string{"NetworkPolicy"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if len(ctx.Inventory.List(o.Namespace, "NetworkPolicy")) == 0 {
			ctx.Fail("", "no NetworkPolicy in the namespace")
			return
		}
		ctx.Pass("")
	},
}

// bindingsSafe fails a RoleBinding to the group system:authenticated; it judges RoleBindings.
var bindingsSafe = &engine.Check{
	ID: "test-bindings", Title: "bindings", Severity: v1alpha1.SeverityCritical,
	Criteria: []v1alpha1.Criterion{"CC6.1"}, Targets: []string{"RoleBinding"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.Pass("") },
}

// clusterBindingsSafe judges ClusterRoleBindings.
var clusterBindingsSafe = &engine.Check{
	ID: "test-cluster-bindings", Title: "cluster bindings", Severity: v1alpha1.SeverityCritical,
	Criteria: []v1alpha1.Criterion{"CC6.3"}, Targets: []string{"ClusterRoleBinding"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.Pass("") },
}

// TestWhatTheOperatorCannotReadIsNotAssessed: a kind the operator's ServiceAccount may not list
// is absent from the inventory, and its absence is no evidence. A check that reads it does not
// pass or fail on the objects it cannot see, and a check that judges it does not drop out of its
// criteria (which would then read Pass on the checks that could see): each says NotAssessed
// with the reason, in every namespace evaluated and for the cluster-scoped objects.
func TestWhatTheOperatorCannotReadIsNotAssessed(t *testing.T) {
	ns := func(name string) *engine.Object {
		return engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, "v1", "Namespace")
	}
	policy := engine.NewObject(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "shop"}}, "networking.k8s.io/v1", "NetworkPolicy")
	binding := engine.NewObject(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "shop"}}, "rbac.authorization.k8s.io/v1", "RoleBinding")
	const why = "its ServiceAccount may not list them"
	for name, tc := range map[string]struct {
		objects     []*engine.Object
		unseen      map[string]engine.Unseen
		skipCluster bool
		// want is each check's results in namespace shop ("" for none), and cluster its result
		// on the cluster-scoped objects.
		want    map[string]engine.Status
		cluster map[string]engine.Status
	}{
		"everything in view: the checks judge": {
			objects: []*engine.Object{ns("shop"), deployment("shop", "web", nil), policy, binding},
			want:    map[string]engine.Status{"test-isolated": engine.StatusPass, "test-bindings": engine.StatusPass},
		},
		"NetworkPolicies not listable: the check that reads them neither fails nor passes": {
			objects: []*engine.Object{ns("shop"), deployment("shop", "web", nil)},
			unseen:  map[string]engine.Unseen{"NetworkPolicy": {Namespaced: true, Reason: why}},
			want:    map[string]engine.Status{"test-isolated": engine.StatusNotAssessed},
		},
		"RoleBindings not listable: the check that judges them is NotAssessed in the namespace": {
			objects: []*engine.Object{ns("shop"), deployment("shop", "web", nil), policy},
			unseen:  map[string]engine.Unseen{"RoleBinding": {Namespaced: true, Reason: why}},
			want:    map[string]engine.Status{"test-isolated": engine.StatusPass, "test-bindings": engine.StatusNotAssessed},
		},
		"Deployments not listable: the workload checks are NotAssessed in the namespace": {
			objects: []*engine.Object{ns("shop"), policy},
			unseen:  map[string]engine.Unseen{"Deployment": {Namespaced: true, Reason: why}},
			want:    map[string]engine.Status{"test-isolated": engine.StatusNotAssessed, "test-privileged": engine.StatusNotAssessed},
		},
		"ClusterRoleBindings not listable: NotAssessed on the cluster-scoped objects": {
			objects: []*engine.Object{ns("shop"), deployment("shop", "web", nil), policy},
			unseen:  map[string]engine.Unseen{"ClusterRoleBinding": {Reason: why}},
			want:    map[string]engine.Status{"test-isolated": engine.StatusPass},
			cluster: map[string]engine.Status{"test-cluster-bindings": engine.StatusNotAssessed},
		},
		"ClusterRoleBindings not listable, one namespace re-evaluated: its report is not theirs": {
			objects:     []*engine.Object{ns("shop"), deployment("shop", "web", nil), policy},
			unseen:      map[string]engine.Unseen{"ClusterRoleBinding": {Reason: why}},
			skipCluster: true,
			want:        map[string]engine.Status{"test-isolated": engine.StatusPass},
		},
	} {
		t.Run(name, func(t *testing.T) {
			plan := engine.Compile([]*engine.Check{privileged, isolated, bindingsSafe, clusterBindingsSafe}, nil)
			inv := engine.NewInventory(tc.objects, true)
			inv.Unseen = tc.unseen
			ev := plan.Evaluate(inv, nil, engine.Options{Now: now, KeepPassing: true, SkipClusterScoped: tc.skipCluster})
			for _, id := range []string{"test-isolated", "test-bindings", "test-cluster-bindings"} {
				got := map[string]engine.Status{}
				for _, r := range resultsOf(ev, id) {
					if r.Status == engine.StatusNotAssessed && !strings.Contains(r.Message, why) {
						t.Errorf("%s on %s: NotAssessed %q does not say why", id, r.Namespace(), r.Message)
					}
					if prev, ok := got[r.Namespace()]; ok && prev != r.Status {
						t.Errorf("%s in %q: both %s and %s", id, r.Namespace(), prev, r.Status)
					}
					got[r.Namespace()] = r.Status
				}
				if got["shop"] != tc.want[id] {
					t.Errorf("%s in shop: %s, want %s", id, got["shop"], tc.want[id])
				}
				if got[""] != tc.cluster[id] {
					t.Errorf("%s on the cluster-scoped objects: %s, want %s", id, got[""], tc.cluster[id])
				}
			}
			if tc.want["test-privileged"] == engine.StatusNotAssessed {
				if c := criterion(ev.Summary("shop"), "CC6.1"); c.UnassessedChecks == 0 {
					t.Errorf("CC6.1 in shop %+v: the workload check that could see no workload is not counted as unassessed", c)
				}
			}
			if tc.want["test-bindings"] == engine.StatusNotAssessed {
				if c := criterion(ev.Summary("shop"), "CC6.1"); c.Status == v1alpha1.CriterionPass && c.UnassessedChecks == 0 {
					t.Errorf("CC6.1 in shop %+v: reads fully assessed though its RoleBindings were not seen", c)
				}
			}
		})
	}
}

// TestAKindNoPlannedCheckReadsLeavesTheEvaluationComplete: a cluster admin who withholds a kind
// from the operator (ConfigMaps, which may hold anything, or Trivy's reports) and turns off the
// checks that read it loses nothing: no check of the profile judges or reads that kind, so the
// evaluation is complete and says so. Every report of such a profile read Ready=False,
// KindsUnreadable, naming NetworkPolicy here, though no result rested on one: an alarm that is
// always on is one an auditor learns to ignore. A kind a planned check reads is still named.
func TestAKindNoPlannedCheckReadsLeavesTheEvaluationComplete(t *testing.T) {
	ns := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, "v1", "Namespace")
	unseen := map[string]engine.Unseen{"NetworkPolicy": {Namespaced: true, Reason: "its ServiceAccount may not list them"}}
	for name, tc := range map[string]struct {
		checks []*engine.Check
		want   string
	}{
		"no planned check reads NetworkPolicies": {checks: []*engine.Check{privileged, bindingsSafe, clusterBindingsSafe}},
		"a planned check reads them":             {checks: []*engine.Check{privileged, isolated}, want: "NetworkPolicy"},
	} {
		t.Run(name, func(t *testing.T) {
			inv := engine.NewInventory([]*engine.Object{ns, deployment("shop", "web", nil)}, true)
			inv.Unseen = unseen
			ev := engine.Compile(tc.checks, nil).Evaluate(inv, nil, engine.Options{Now: now, KeepPassing: true})
			msg := ev.UnseenMessage()
			if tc.want == "" && msg != "" {
				t.Errorf("UnseenMessage %q, though no check of the plan judges or reads what it names", msg)
			}
			if tc.want != "" && !strings.Contains(msg, tc.want) {
				t.Errorf("UnseenMessage %q does not name %s, which a check of the plan reads", msg, tc.want)
			}
			for _, r := range ev.Results {
				if r.Status == engine.StatusNotAssessed && tc.want == "" {
					t.Errorf("%s NotAssessed: %s", r.Check.ID, r.Message)
				}
			}
		})
	}
}

// TestAnUnseenKindLookedUpByNameLeavesOnlyThatObjectNotAssessed: a check that declares
// ReadsLooked reads its Reads only by name (Context.Get), for some objects: where the operator
// may not list that kind, the objects it looked one up for are NotAssessed with the reason, and
// the others keep their Pass or Fail (net-ingress-snippets' snippet findings stay failures with
// ConfigMaps withheld). A check that does not declare it stays NotAssessed on every object.
func TestAnUnseenKindLookedUpByNameLeavesOnlyThatObjectNotAssessed(t *testing.T) {
	const why = "its ServiceAccount may not list them"
	service := func(name string, a map[string]string) *engine.Object {
		return engine.NewObject(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: a}}, "v1", "Service")
	}
	for _, looked := range []bool{true, false} {
		c := &engine.Check{
			ID: "test-named-configmap", Title: "named", Severity: v1alpha1.SeverityHigh,
			Criteria: []v1alpha1.Criterion{"CC6.1"}, Targets: []string{"Service"}, Reads: []string{"ConfigMap"}, ReadsLooked: looked,
			Evaluate: func(ctx *engine.Context, o *engine.Object) {
				if name, ok := o.Annotations()["configmap"]; ok && ctx.Get("ConfigMap", o.Namespace, name) == nil {
					ctx.Pass("")
					return
				}
				if o.Annotations()["bad"] != "" {
					ctx.Fail("", "bad")
					return
				}
				ctx.Pass("")
			},
		}
		inv := engine.NewInventory([]*engine.Object{service("names", map[string]string{"configmap": "x"}),
			service("bad", map[string]string{"bad": "yes"}), service("plain", nil)}, true)
		inv.Unseen = map[string]engine.Unseen{"ConfigMap": {Namespaced: true, Reason: why}}
		ev := engine.Compile([]*engine.Check{c}, nil).Evaluate(inv, nil, engine.Options{Now: now, KeepPassing: true})
		want := map[string]engine.Status{"names": engine.StatusNotAssessed, "bad": engine.StatusFail, "plain": engine.StatusPass}
		if !looked {
			want = map[string]engine.Status{"names": engine.StatusNotAssessed, "bad": engine.StatusNotAssessed, "plain": engine.StatusNotAssessed}
		}
		for _, r := range resultsOf(ev, c.ID) {
			if r.Status != want[r.Object.Name] {
				t.Errorf("ReadsLooked %v: %s is %s (%s), want %s", looked, r.Object.Name, r.Status, r.Message, want[r.Object.Name])
			}
			if r.Status == engine.StatusNotAssessed && !strings.Contains(r.Message, why) {
				t.Errorf("ReadsLooked %v: %s NotAssessed %q does not say why", looked, r.Object.Name, r.Message)
			}
		}
		if n := len(resultsOf(ev, c.ID)); n != 3 {
			t.Errorf("ReadsLooked %v: %d results, want 3", looked, n)
		}
	}
}

// TestAFailureFoundBesideAnUnseenKindLookedUpStaysAFailure: a check that declares ReadsLooked
// and fails an object on what it read of the object itself keeps the failure when it also
// looked up an object of a kind the operator may not list (net-ingress-snippets: an Ingress
// with a real configuration snippet that also names a ConfigMap in auth-proxy-set-headers, with
// ConfigMaps withheld from the operator). Only what the object passed rests on what was not
// seen: a namespace admin who added the annotation to a failing Ingress turned its Fail into
// NotAssessed, and the failure out of the criterion's count.
func TestAFailureFoundBesideAnUnseenKindLookedUpStaysAFailure(t *testing.T) {
	const why = "its ServiceAccount may not list them"
	c := &engine.Check{
		ID: "test-named-configmap", Title: "named", Severity: v1alpha1.SeverityHigh,
		Criteria: []v1alpha1.Criterion{"CC6.1"}, Targets: []string{"Service"}, Reads: []string{"ConfigMap"}, ReadsLooked: true,
		Evaluate: func(ctx *engine.Context, o *engine.Object) {
			if name, ok := o.Annotations()["configmap"]; ok {
				_ = ctx.Get("ConfigMap", o.Namespace, name)
			}
			if o.Annotations()["bad"] != "" {
				ctx.Fail("", "bad")
				return
			}
			ctx.Pass("")
		},
	}
	service := func(name string, a map[string]string) *engine.Object {
		return engine.NewObject(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: a}}, "v1", "Service")
	}
	inv := engine.NewInventory([]*engine.Object{service("bad-and-names", map[string]string{"configmap": "x", "bad": "yes"}),
		service("names", map[string]string{"configmap": "x"})}, true)
	inv.Unseen = map[string]engine.Unseen{"ConfigMap": {Namespaced: true, Reason: why}}
	ev := engine.Compile([]*engine.Check{c}, nil).Evaluate(inv, nil, engine.Options{Now: now, KeepPassing: true})
	want := map[string]engine.Status{"bad-and-names": engine.StatusFail, "names": engine.StatusNotAssessed}
	for _, r := range resultsOf(ev, c.ID) {
		if r.Status != want[r.Object.Name] {
			t.Errorf("%s is %s (%s), want %s", r.Object.Name, r.Status, r.Message, want[r.Object.Name])
		}
	}
	if sum := ev.Summary("shop"); sum.Failing != 1 {
		t.Errorf("the namespace counts %d failing results, want 1 (bad-and-names)", sum.Failing)
	}
}

package controllers

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A full evaluation chooses the profile's namespaces first and evaluates them one at a time
// after. A namespace that left the profile in between (relabelled while an evaluation of a large
// cluster ran) was still evaluated and written by it, after the evaluation of that one namespace
// had deleted its report: a report, and a namespace counted in the profile's roll-up, for a
// namespace the profile no longer selects, which nothing updated until the next full evaluation
// (up to evaluationInterval, 24h at most; the operator's own writes evaluate nothing). Here the
// namespace is relabelled while the full evaluation reads its Deployments: the evaluation must not
// count it (nor write its report), and the profile must count the namespace that stays.
func TestANamespaceLeavingDuringAFullEvaluationIsNotCounted(t *testing.T) {
	const name = "selrace"
	stays, leaves := name+"-a", name+"-b"
	createNamespace(t, stays, map[string]string{name: "true"})
	createNamespace(t, leaves, map[string]string{name: "true"})
	if err := k8s.Create(context.Background(), deployment(stays, "web", false)); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(context.Background(), deployment(leaves, "web", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, name, name, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	status := &privateProfile{name: name}
	var relabel atomic.Bool
	c := failing(t, status.funcs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := (&client.ListOptions{}).ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); ok && lo.Namespace == leaves && relabel.CompareAndSwap(true, false) {
				// The namespace leaves the profile while the evaluation gathers it.
				ns := &corev1.Namespace{}
				if err := cl.Get(ctx, types.NamespacedName{Name: leaves}, ns); err != nil {
					return err
				}
				delete(ns.Labels, name)
				if err := cl.Update(ctx, ns); err != nil {
					return err
				}
			}
			return cl.List(ctx, list, opts...)
		},
	}))
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	relabel.Store(true)
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	if relabel.Load() {
		t.Fatal("the evaluation never read the Deployments of " + leaves)
	}
	f := &rollupFixture{status: status}
	f.want(t, "after a full evaluation during which "+leaves+" left", "READY=True STATUS=Compliant NAMESPACES=1 NON-COMPLIANT=0 REASON=Evaluated")
}

// The other way: a namespace that joins the profile while a full evaluation runs is evaluated
// at once by the evaluation of that namespace alone, which its change queued; the full
// evaluation, which chose its namespaces before, then took it for unselected and deleted its
// report and its place in the roll-up: a namespace the profile selects, with no report and not
// counted, until the next full evaluation or change in it. Here the namespace is labelled, and
// evaluated alone, while the full evaluation reads the other namespace's Deployments.
func TestANamespaceJoiningDuringAFullEvaluationKeepsItsReport(t *testing.T) {
	const name = "seljoin"
	stays, joins := name+"-a", name+"-b"
	createNamespace(t, stays, map[string]string{name: "true"})
	createNamespace(t, joins, nil)
	if err := k8s.Create(context.Background(), deployment(stays, "web", false)); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(context.Background(), deployment(joins, "web", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, name, name, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	status := &privateProfile{name: name}
	var join atomic.Bool
	var r *ComplianceProfileReconciler
	var joinErr error
	c := failing(t, status.funcs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := (&client.ListOptions{}).ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); ok && lo.Namespace == stays && join.CompareAndSwap(true, false) {
				ns := &corev1.Namespace{}
				if err := cl.Get(ctx, types.NamespacedName{Name: joins}, ns); err != nil {
					return err
				}
				ns.Labels[name] = "true"
				if err := cl.Update(ctx, ns); err != nil {
					return err
				}
				// The evaluation of the namespace alone, which the change queues.
				_, joinErr = r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name, Namespace: joins}})
			}
			return cl.List(ctx, list, opts...)
		},
	}))
	r = reconcilerOver(t, c, "Namespace", "Deployment")
	f := &rollupFixture{status: status}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a first full evaluation", "READY=True STATUS=Compliant NAMESPACES=1 NON-COMPLIANT=0 REASON=Evaluated")
	join.Store(true)
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	if join.Load() || joinErr != nil {
		t.Fatalf("the namespace did not join during the evaluation: %v", joinErr)
	}
	if rep, err := getReport(joins, name); err != nil || rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("the report of %s, which the profile selects: %v (result %q), want it NonCompliant", joins, err, rep.Status.Result)
	}
	if !slices.Contains(r.state.namespaces(r.state.lookup(name)), joins) {
		t.Errorf("the operator no longer counts %s: it holds %v", joins, r.state.namespaces(r.state.lookup(name)))
	}
	f.want(t, "after a full evaluation during which "+joins+" joined", "READY=True STATUS=NonCompliant NAMESPACES=2 NON-COMPLIANT=1 REASON=Evaluated")
}

// A full evaluation compared the profile's status it computed with the status it read when it
// began, and wrote nothing when they were the same. An evaluation of one namespace that wrote the
// status meanwhile (its privileged Deployment fixed, then made privileged again before the full
// evaluation read it) was left standing: the profile printed Compliant, for a cluster the full
// evaluation had just found NonCompliant, until some later evaluation changed the status again.
func TestAFullEvaluationOverwritesAStatusWrittenWhileItRan(t *testing.T) {
	const name = "selstatus"
	first, second := name+"-a", name+"-b"
	for _, ns := range []string{first, second} {
		createNamespace(t, ns, map[string]string{name: "true"})
		if err := k8s.Create(context.Background(), deployment(ns, "web", ns == second)); err != nil {
			t.Fatal(err)
		}
	}
	profile := createProfile(t, name, name, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	status := &privateProfile{name: name}
	var meanwhile atomic.Bool
	var r *ComplianceProfileReconciler
	var nestedErr error
	c := failing(t, status.funcs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := (&client.ListOptions{}).ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); ok && lo.Namespace == first && meanwhile.CompareAndSwap(true, false) {
				// The second namespace is fixed and evaluated alone, then turns privileged again
				// before the full evaluation reaches it.
				for _, privileged := range []bool{false, true} {
					d := &appsv1.Deployment{}
					if err := cl.Get(ctx, types.NamespacedName{Namespace: second, Name: "web"}, d); err != nil {
						return err
					}
					d.Spec.Template.Spec = deployment(second, "web", privileged).Spec.Template.Spec
					if err := cl.Update(ctx, d); err != nil {
						return err
					}
					if !privileged {
						_, nestedErr = r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name, Namespace: second}})
					}
				}
			}
			return cl.List(ctx, list, opts...)
		},
	}))
	r = reconcilerOver(t, c, "Namespace", "Deployment")
	f := &rollupFixture{status: status}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a first full evaluation", "READY=True STATUS=NonCompliant NAMESPACES=2 NON-COMPLIANT=1 REASON=Evaluated")
	meanwhile.Store(true)
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	if meanwhile.Load() || nestedErr != nil {
		t.Fatalf("the second namespace was not evaluated during the full evaluation: %v", nestedErr)
	}
	f.want(t, "after a full evaluation that found "+second+" privileged again", "READY=True STATUS=NonCompliant NAMESPACES=2 NON-COMPLIANT=1 REASON=Evaluated")
}

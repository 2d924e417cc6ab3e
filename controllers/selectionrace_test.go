package controllers

import (
	"context"
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

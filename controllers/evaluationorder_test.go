package controllers

import (
	"context"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAFullEvaluationDoesNotWriteANamespaceOverANewerEvaluationOfIt: a full evaluation reads a
// namespace's objects, judges them and writes its report; the evaluation of that namespace
// alone, which a change in it queues, runs beside it (two evaluations run at once). A tenant who
// made a Deployment privileged just after the full evaluation read their namespace had the
// change judged by the evaluation of the namespace alone, NonCompliant, and then the full
// evaluation wrote what it had read before the change over it: the report and the profile's
// roll-up said Compliant while the privileged Deployment ran, until the next full evaluation
// (up to a day), for the change's event had been used. The evaluations of one namespace now run
// one after the other, from reading its objects to writing its report, so the later read is
// written last.
func TestAFullEvaluationDoesNotWriteANamespaceOverANewerEvaluationOfIt(t *testing.T) {
	const name = "evalorder"
	ns := name + "-a"
	createNamespace(t, ns, map[string]string{name: "true"})
	if err := k8s.Create(context.Background(), deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, name, name, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	status := &privateProfile{name: name}
	var meanwhile atomic.Bool
	var r *ComplianceProfileReconciler
	alone := make(chan error, 1)
	c := failing(t, status.funcs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := (&client.ListOptions{}).ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); !ok || lo.Namespace != ns || !meanwhile.CompareAndSwap(true, false) {
				return cl.List(ctx, list, opts...)
			}
			// The full evaluation reads the Deployment as it was; then the tenant makes it
			// privileged, and the change's evaluation of the namespace alone runs beside it.
			if err := cl.List(ctx, list, opts...); err != nil {
				return err
			}
			d := &appsv1.Deployment{}
			if err := cl.Get(ctx, types.NamespacedName{Namespace: ns, Name: "web"}, d); err != nil {
				return err
			}
			d.Spec.Template.Spec = deployment(ns, "web", true).Spec.Template.Spec
			if err := cl.Update(ctx, d); err != nil {
				return err
			}
			// The full evaluation goes on once the other has ended, or waits for it.
			waits := make(chan struct{})
			r.namespaceLocks.waiting = func(string, string) { close(waits) }
			done := make(chan struct{})
			go func() {
				_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name, Namespace: ns}})
				alone <- err
				close(done)
			}()
			select {
			case <-done:
			case <-waits:
			}
			return nil
		},
	}))
	r = reconcilerOver(t, c, "Namespace", "Deployment")
	f := &rollupFixture{status: status}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a first full evaluation", "READY=True STATUS=Compliant NAMESPACES=1 NON-COMPLIANT=0 REASON=Evaluated")
	meanwhile.Store(true)
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	if meanwhile.Load() {
		t.Fatal("the full evaluation did not read the namespace's Deployments")
	}
	if err := <-alone; err != nil {
		t.Fatalf("the evaluation of %s alone: %v", ns, err)
	}
	f.want(t, "after the Deployment was made privileged during a full evaluation", "READY=True STATUS=NonCompliant NAMESPACES=1 NON-COMPLIANT=1 REASON=Evaluated")
	if got := r.state.previousResult(r.state.lookup(profile.Name), ns); got != v1alpha1.NonCompliant {
		t.Errorf("the profile's summary of %s says %q, want NonCompliant", ns, got)
	}
}

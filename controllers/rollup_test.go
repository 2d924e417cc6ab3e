package controllers

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnUnwritableReportStillCountsInTheProfile: a selected namespace whose report cannot be
// created (an admission policy or a quota of the platform refuses it, the API server is
// failing) was evaluated all the same; its verdict must count in the profile's roll-up. It used
// to be left out, so that a profile whose only failing namespace could not get a report said
// Compliant, against its own definition (NonCompliant when any selected namespace fails).
func TestAnUnwritableReportStillCountsInTheProfile(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "unwritable-ok", map[string]string{"unwritable": "true"})
	createNamespace(t, "unwritable-bad", map[string]string{"unwritable": "true"})
	for _, d := range []struct {
		ns         string
		privileged bool
	}{{"unwritable-ok", false}, {"unwritable-bad", true}} {
		if err := k8s.Create(ctx, deployment(d.ns, "web", d.privileged)); err != nil {
			t.Fatal(err)
		}
	}
	// wl-privileged alone: the hardened Deployment passes it, the privileged one fails it.
	profile := createProfile(t, "unwritable", "unwritable", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "wl-privileged")
	})
	refused := func(obj client.Object) bool {
		_, ok := obj.(*v1alpha1.ComplianceReport)
		return ok && obj.GetNamespace() == "unwritable-bad"
	}
	c := failing(t, interceptor.Funcs{
		// The report of unwritable-bad never exists (whatever the suite's own operator does) and
		// cannot be created.
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceReport); ok && key.Namespace == "unwritable-bad" {
				return apierrors.NewNotFound(v1alpha1.GroupVersion.WithResource("compliancereports").GroupResource(), key.Name)
			}
			return cl.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := cl.List(ctx, list, opts...); err != nil {
				return err
			}
			if reports, ok := list.(*v1alpha1.ComplianceReportList); ok {
				reports.Items = slices.DeleteFunc(reports.Items, func(rep v1alpha1.ComplianceReport) bool { return rep.Namespace == "unwritable-bad" })
			}
			return nil
		},
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if refused(obj) {
				return errInjected
			}
			return cl.Create(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}})
	if err == nil {
		t.Fatal("Reconcile returned no error although a report could not be created")
	}
	ps := r.state.plan(profile, r.Catalogue)
	total, _, namespaces, nonCompliant := r.state.rollup(ps)
	if total.State != v1alpha1.NonCompliant || nonCompliant != 1 || namespaces != 2 {
		t.Errorf("the profile's roll-up is %s with %d of %d namespaces NonCompliant; want NonCompliant, 1 of 2 (unwritable-bad runs a privileged container, unwritable-ok none)",
			total.State, nonCompliant, namespaces)
	}

	// Once the profile no longer selects it, the namespace leaves the roll-up, report or not.
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "unwritable-bad"}, ns); err != nil {
		t.Fatal(err)
	}
	delete(ns.Labels, "unwritable")
	if err := k8s.Update(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
		t.Fatalf("Reconcile once nothing refuses a write: %v", err)
	}
	total, _, namespaces, nonCompliant = r.state.rollup(ps)
	if total.State != v1alpha1.Compliant || nonCompliant != 0 || namespaces != 1 {
		t.Errorf("after unwritable-bad left the profile, its roll-up is %s with %d of %d namespaces NonCompliant; want Compliant, 0 of 1",
			total.State, nonCompliant, namespaces)
	}
}

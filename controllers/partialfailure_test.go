package controllers

import (
	"context"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAFailedNamespaceLeavesTheReportsJustWrittenCurrent: a full evaluation writes the reports
// one namespace at a time; when it cannot gather the objects of a later namespace, the
// namespaces not reached have no current verdict and their reports say Unknown, but a report
// this very evaluation wrote a moment before is current. It used to be marked stale too, its
// result Unknown with "The evaluation failed: namespace partial-b: ...", a namespace it says
// nothing about, and its journal Unknown for as long.
func TestAFailedNamespaceLeavesTheReportsJustWrittenCurrent(t *testing.T) {
	ctx := context.Background()
	for _, ns := range []string{"partial-a", "partial-b"} {
		createNamespace(t, ns, map[string]string{"partial": "true"})
		if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
			t.Fatal(err)
		}
	}
	profile := createProfile(t, "partial", "partial", nil)
	waitWritten(t, "partial-b", profile.Name) // so that there is a report to mark stale

	var mu sync.Mutex
	var results map[string][]v1alpha1.ComplianceState // by namespace, each status this reconciler wrote
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := &client.ListOptions{}
			lo.ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); ok && lo.Namespace == "partial-b" {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if rep, ok := obj.(*v1alpha1.ComplianceReport); ok && rep.Name == profile.Name {
				mu.Lock()
				results[rep.Namespace] = append(results[rep.Namespace], rep.Status.Result)
				mu.Unlock()
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	results = map[string][]v1alpha1.ComplianceState{}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err == nil {
		t.Fatal("Reconcile returned no error although partial-b could not be gathered")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := results["partial-b"]; len(got) == 0 || got[len(got)-1] != v1alpha1.Unknown {
		t.Errorf("partial-b's report, whose objects could not be read, was written %v; want it Unknown", got)
	}
	for _, res := range results["partial-a"] {
		if res == v1alpha1.Unknown {
			t.Errorf("partial-a's report, just evaluated and written, was written %v: marked Unknown for partial-b's failure", results["partial-a"])
			break
		}
	}
	ps := r.state.plan(profile, r.Catalogue)
	if len(ps.unwritten) != 1 {
		t.Errorf("namespaces counted stale: %v, want partial-b alone", ps.unwritten)
	}
}

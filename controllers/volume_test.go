package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A namespace admin may create exceptions that nobody approves, each with a reason of 2,048
// characters and an owner of 256 that JSON writes in 6 bytes each ('<' is \u003c), as the API
// server accepts them. Listed in the report, 40 of them took more than the status budget, so
// the report listed none of the namespace's findings (its privileged Deployment's included),
// only their count: the exceptions are now listed within report.ExceptionsBudget.
func TestATenantsExceptionsDoNotCrowdItsFindingsOutOfTheReport(t *testing.T) {
	ctx := context.Background()
	privilegedUnderWaivableProfile(t, "padded", "padded-a", "bad")
	const n = 40
	for i := range n {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("padding-%02d", i), Namespace: "padded-a"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"nothing"}},
				Reason: strings.Repeat("<", 2048), Owner: strings.Repeat(">", 256), Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the report lists the exceptions' total and the privileged finding", func() error {
		rep, err := getReport("padded-a", "padded")
		if err != nil {
			return err
		}
		if rep.Status.TotalExceptions != n {
			return fmt.Errorf("%d exceptions counted, want %d", rep.Status.TotalExceptions, n)
		}
		if finding(rep, "wl-privileged", "bad", "setup") == nil {
			return fmt.Errorf("%d of %d findings listed, none wl-privileged on bad; %d exceptions listed", len(rep.Status.Findings),
				rep.Status.TotalFindings, len(rep.Status.Exceptions))
		}
		if !rep.Status.ExceptionsTruncated {
			return fmt.Errorf("%d exceptions listed of %d, not said to be truncated", len(rep.Status.Exceptions), n)
		}
		return nil
	})
}

// The evaluation of one namespace, at each change in it, read every exception of the cluster out
// of the cache (a deep copy each) to judge only its own and the operator's namespace's: with
// another tenant's 10,000 exceptions, some 20 ms of copying at each change in any namespace.
// Counted: the exceptions the evaluation of namespace quiet reads, beside 30 of namespace noisy.
func TestAnEvaluationOfOneNamespaceReadsOnlyTheExceptionsThatReachIt(t *testing.T) {
	ctx := context.Background()
	profile, _ := privilegedUnderWaivableProfile(t, "reads", "reads-quiet", "bad")
	createNamespace(t, "reads-noisy", map[string]string{"reads": "true"})
	for i := range 30 {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("noise-%02d", i), Namespace: "reads-noisy"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "noise, on purpose", Owner: "noisy@example.com",
				Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
	}
	own := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "own", Namespace: "reads-quiet"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "its own, on purpose", Owner: "quiet@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
	if err := k8s.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	c := failing(t, interceptor.Funcs{List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := cl.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
			read.Add(int64(len(l.Items)))
		}
		return nil
	}})
	r := reconcilerOver(t, c, "Deployment")
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "reads-quiet", Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	if n := read.Load(); n < 1 || n > 1+adminExceptions(t) {
		t.Errorf("the evaluation of reads-quiet read %d exceptions, want its own and the operator's namespace's (%d)", n, 1+adminExceptions(t))
	}
	rep, err := getReport("reads-quiet", "reads")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status.TotalExceptions != 1 || len(rep.Status.Exceptions) != 1 || rep.Status.Exceptions[0].Name != "reads-quiet/own" {
		t.Errorf("the report lists %+v of %d exceptions, want reads-quiet/own alone", rep.Status.Exceptions, rep.Status.TotalExceptions)
	}
}

// adminExceptions counts the exceptions in the operator's namespace now.
func adminExceptions(t *testing.T) int64 {
	t.Helper()
	list := &v1alpha1.ControlExceptionList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(adminNamespace)); err != nil {
		t.Fatal(err)
	}
	return int64(len(list.Items))
}

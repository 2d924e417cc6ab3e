package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestABusyAPIServerIsNoRefusal: a report's status write that the API server answers 429 (API
// Priority and Fairness throttling the operator), 500, 503 or 504 is one to retry, as a
// conflict is, not a refusal. Each marked the namespace refused, and the profile read
// Ready=False, WriteFailed, "the API server refused to write the reports of 1 namespaces ...
// (an admission policy, a quota)" until the retry went through: an alarm on every busy
// moment, which says what did not happen. A write an admission policy or a quota refuses
// (403, 422) is still a refusal.
func TestABusyAPIServerIsNoRefusal(t *testing.T) {
	const ns = "write-busy"
	createNamespace(t, ns, nil)
	var fail atomic.Pointer[error]
	c := failing(t, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceReport); ok {
				if err := fail.Load(); err != nil {
					return *err
				}
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace")
	// A profile of this test alone, not in the API server: the suite's operator does not
	// write its report.
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "write-busy", UID: "8d1c2f0e-1b7a-4b8e-9d3c-5f6a7b8c9d0e"}}
	ps := r.state.plan(profile, r.Catalogue)
	namespace := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, "v1", "Namespace")
	reports := schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "compliancereports"}
	now := time.Now()
	for _, tc := range []struct {
		err     error
		refusal bool
	}{
		{err: apierrors.NewTooManyRequests("too many requests, please try again later", 1)},
		{err: apierrors.NewInternalError(context.DeadlineExceeded)},
		{err: apierrors.NewServiceUnavailable("the server is shutting down")},
		{err: apierrors.NewTimeoutError("the request did not complete in time", 1)},
		{err: apierrors.NewForbidden(reports, profile.Name, context.Canceled), refusal: true},
		{err: apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("ComplianceReport").GroupKind(), profile.Name, nil), refusal: true},
	} {
		now = now.Add(time.Minute)
		// A new report, whose status is written whatever the last one held.
		if err := k8s.Delete(context.Background(), &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile.Name}}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		ev := ps.plan.Evaluate(engine.NewInventory([]*engine.Object{namespace}, true), nil, engine.Options{Now: now})
		fail.Store(&tc.err)
		if err := r.writeReport(context.Background(), profile, ps, ev, nil, ns, now, ""); err == nil {
			t.Fatalf("%v: the write went through", tc.err)
		}
		_, refused := r.state.refusedReports(ps)[ns]
		if refused != tc.refusal {
			t.Errorf("%v (%d): refused %v, want %v", tc.err, tc.err.(apierrors.APIStatus).Status().Code, refused, tc.refusal)
		}
		fail.Store(nil)
		// The retry goes through, and nothing is refused. (The suite's operator deletes a report
		// that names no profile, as this one does, whenever it sees one: a write it raced with
		// answers 404, which is no refusal either, and is tried again.)
		eventually(t, 20*time.Second, "the retry of the write", func() error {
			return r.writeReport(context.Background(), profile, ps, ev, nil, ns, now, "")
		})
		if got := r.state.refusedReports(ps); len(got) != 0 {
			t.Fatalf("after a write that went through, refused %v", got)
		}
	}
}

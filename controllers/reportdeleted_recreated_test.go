package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// A namespace deleted and created again under the same name before the operator saw it go: its
// report went with the namespace (the namespace controller deletes its content), and the next
// evaluation, of the new namespace, found no report where the operator had last seen one. It
// called that a report deleted by someone other than the operator: a Warning Event and a
// report.deleted journal record, evidence of tampering that nobody did. The report the operator
// saw was in another namespace (another UID) than the one it writes now: no deletion. A report
// deleted in the same namespace still is one.
func TestAReportOfANamespaceDeletedAndCreatedAgainIsNotCalledDeleted(t *testing.T) {
	ctx := context.Background()
	profile := createProfile(t, "repdel-recreated", "repdel-recreated-none", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	for name, recreate := range map[string]bool{"the same namespace": false, "a namespace created again": true} {
		t.Run(name, func(t *testing.T) {
			ns := "repdel-same"
			if recreate {
				ns = "repdel-again"
			}
			createNamespace(t, ns, nil)
			rec := events.NewFakeRecorder(10)
			r := reconcilerOver(t, failing(t, interceptor.Funcs{}), "Namespace")
			r.apiReader, r.Recorder = k8s, rec
			ps := r.state.plan(profile, r.Catalogue)
			write := func(now time.Time) {
				t.Helper()
				n := &corev1.Namespace{}
				if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
					t.Fatal(err)
				}
				namespace := engine.NewObject(n, "v1", "Namespace")
				ev := ps.plan.Evaluate(engine.NewInventory([]*engine.Object{namespace}, true), nil, engine.Options{Now: now})
				// The suite's operator deletes a report of a namespace its profile does not
				// select, perhaps between the create and the status update: the create is what
				// this test is about.
				if err := r.writeReport(ctx, profile, ps, ev, nil, ns, now, ""); err != nil && !apierrors.IsNotFound(err) {
					t.Fatal(err)
				}
			}
			now := time.Now()
			write(now)
			if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile.Name}}); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
			if recreate {
				// As the namespace controller does (envtest runs none): the content goes, then the
				// namespace is finalized; and someone creates it again.
				if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
					t.Fatal(err)
				}
				gone := &corev1.Namespace{}
				if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, gone); err != nil {
					t.Fatal(err)
				}
				gone.Spec.Finalizers = nil
				if err := k8s.SubResource("finalize").Update(ctx, gone); err != nil {
					t.Fatal(err)
				}
				eventually(t, 20*time.Second, "namespace "+ns+" created again", func() error {
					return k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
				})
			}
			write(now.Add(time.Minute))
			want := 1
			if recreate {
				want = 0
			}
			var deleted []string
			for n := len(rec.Events); n > 0; n-- {
				if e := <-rec.Events; strings.Contains(e, " "+EventReportDeleted+" ") {
					deleted = append(deleted, e)
				}
			}
			if len(deleted) != want {
				t.Errorf("%d %s Events, want %d: %q", len(deleted), EventReportDeleted, want, deleted)
			}
		})
	}
}

package restarttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestANamespaceDeletedBeforeItsFirstEvaluationIsJournaled: a selected namespace running a
// privileged Pod, created and deleted while its first evaluation waited in the operator's queue
// (here behind a 3 s coalescing delay; in a cluster, a busy operator), was NotFound when the
// evaluation ran: no report, and nothing in the journal, as if it had never been in scope. Its
// delete event still showed its labels: the operator now journals it as namespace.left with
// when it was in scope and journal.ReasonNeverEvaluated, which the evidence pack lists as
// selected and never judged.
func TestANamespaceDeletedBeforeItsFirstEvaluationIsJournaled(t *testing.T) {
	const name, ns = "unevaluated", "unevaluated-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	privilegedProfile(t, name)
	startOperator(t, clk, store, func(o *controllers.Options) { o.CoalesceDelay = 3 * time.Second })
	waitFullEvaluation(t, name, 0)

	createNamespace(t, ns, name)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "privileged", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// No namespace controller runs here: the namespace goes once its finalizer is removed, as
	// the controller does when the namespace is empty.
	cs := kubernetes.NewForConfigOrDie(cfg)
	got, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.Finalizers = nil
	if _, err := cs.CoreV1().Namespaces().Finalize(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the namespace gone", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	eventuallyRecord(t, store, "namespace.left of "+ns+", in scope and never evaluated", func(r journal.Record) bool {
		return r.Type == journal.NamespaceLeft && r.Profile == name && r.Namespace == ns &&
			r.Interval != nil && r.Interval.Reason == journal.ReasonNeverEvaluated && !r.Interval.From.After(r.Interval.To)
	})
	for _, r := range records(t, store) {
		if r.Namespace == ns && r.Type != journal.NamespaceLeft {
			t.Errorf("journaled %s of %s: the namespace was never evaluated", r.Type, ns)
		}
	}
}

func ptr[T any](v T) *T { return &v }

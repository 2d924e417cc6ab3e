package controllers

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A ComplianceProfile deleted and created again under the same name (kubectl replace --force, a
// GitOps tool that recreates what it cannot patch, an uninstall and install) is another object.
// Where the operator did not see it gone (its deletion and the creation reached it as one request,
// or the operator was down then), it carried the old profile's state over to the new one: the
// reports the garbage collector removed with the old profile were called deleted by someone else
// (a Warning ReportDeleted Event and a report.deleted journal record, evidence of tampering
// nobody did), the new profile's findings kept the old one's first-seen times, and the journal
// recorded neither the deletion nor the creation, a deviation running on across two profiles.
// The new profile must read as new: the old one deleted (its findings closed as out of scope),
// the new one created, its findings first seen when it first judged them.
func TestAProfileDeletedAndCreatedAgainIsANewProfile(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "lc-replaced"
		what := "the same operator"
		if restart {
			name, what = "lc-replaced-restart", "an operator restarted meanwhile"
		}
		t.Run(what, func(t *testing.T) {
			ctx := context.Background()
			ns := name
			createNamespace(t, ns, nil)
			if err := k8s.Create(ctx, deployment(ns, "web", true)); err != nil {
				t.Fatal(err)
			}
			store, err := journal.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			fc := testingclock.NewFakeClock(time.Now().Add(-2 * time.Hour).Truncate(time.Second))
			q, h, stop := journalOn(t, store, fc)
			// The suite's operator evaluates every profile too: the namespace has no label, so it
			// selects nothing for it (and deletes the test reconciler's reports, as the garbage
			// collector would have with the old profile); the test's reconciler reads the
			// namespace with the profile's label.
			labelled := func(n *corev1.Namespace) {
				if n.Name == ns {
					n.Labels = map[string]string{name: "true"}
				}
			}
			c := failing(t, interceptor.Funcs{
				Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					err := cl.Get(ctx, key, obj, opts...)
					if n, ok := obj.(*corev1.Namespace); ok && err == nil {
						labelled(n)
					}
					return err
				},
				List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
					err := cl.List(ctx, list, opts...)
					if l, ok := list.(*corev1.NamespaceList); ok && err == nil {
						for i := range l.Items {
							labelled(&l.Items[i])
						}
					}
					if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
						// The other tests' exceptions, journaled, would date records by the
						// suite's clock, which they move days ahead: a journal whose last record
						// is ahead of the clock of an operator that starts makes it wait.
						l.Items = nil
					}
					return err
				},
			})
			rec := events.NewFakeRecorder(100)
			operator := func(h *journalHook) *ComplianceProfileReconciler {
				r := reconcilerOver(t, c, "Namespace", "Deployment")
				r.apiReader, r.Recorder, r.Clock, r.journal = k8s, rec, fc, h
				return r
			}
			r := operator(h)
			evaluate := func() {
				t.Helper()
				// A conflict with the suite's operator's write of the profile's status is no
				// matter: the namespace was evaluated, and journaled, before.
				if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}}); err != nil && !isOnlyConflicts(err) {
					t.Logf("evaluation: %v", err)
				}
			}
			only := func(p *v1alpha1.ComplianceProfile) {
				onlyCheck(p, "wl-privileged")
				p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{name: "true"}}
			}
			old := createProfile(t, name, name+"-none", only)
			evaluate()
			first := fc.Now()

			// An hour later the profile is deleted and created again, and the garbage collector
			// removes its report: the operator gets one request for both.
			fc.Step(time.Hour)
			if err := k8s.Delete(ctx, old); err != nil {
				t.Fatal(err)
			}
			eventually(t, 20*time.Second, "profile "+name+" gone", func() error {
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(old), &v1alpha1.ComplianceProfile{}); !apierrors.IsNotFound(err) {
					return err
				}
				return nil
			})
			replaced := createProfile(t, name, name+"-none", only)
			if replaced.UID == old.UID {
				t.Fatal("the profile created again has the old one's UID")
			}
			if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
			if restart {
				stop()
				q, h, _ = journalOn(t, store, fc)
				r = operator(h)
			}
			evaluate()
			if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: fc.Now()}) {
				t.Fatal("the journal was not written")
			}

			var deleted []string
			for n := len(rec.Events); n > 0; n-- {
				if e := <-rec.Events; strings.Contains(e, " "+EventReportDeleted+" ") {
					deleted = append(deleted, e)
				}
			}
			if len(deleted) != 0 {
				t.Errorf("%d %s Events for the report the old profile took with it, want none: %q", len(deleted), EventReportDeleted, deleted)
			}
			var profileRecs []string
			for _, rec := range namespaceRecords(t, store, name, "") {
				profileRecs = append(profileRecs, string(rec.Type))
			}
			if got, want := strings.Join(profileRecs, " "), "profile.created profile.deleted profile.created"; !strings.Contains(got, want) {
				t.Errorf("the profile's records: %s; want %s", got, want)
			}
			var opened []time.Time
			var closed []string
			for _, rec := range namespaceRecords(t, store, name, ns) {
				switch {
				case rec.Type == journal.ReportDeleted:
					t.Errorf("a report.deleted record for the report the old profile took with it: %+v", rec.Interval)
				case rec.Finding == nil || rec.Finding.Name != "web":
				case rec.Type == journal.FindingOpened:
					opened = append(opened, rec.Finding.FirstSeen)
				case rec.Type == journal.FindingClosed:
					closed = append(closed, rec.Finding.CloseReason)
				}
			}
			if len(opened) != 2 || !opened[0].Equal(first.UTC()) || !opened[1].Equal(fc.Now().UTC()) {
				t.Errorf("web's finding opened first seen at %v; want at %s under the old profile, then at %s under the new one", opened, first.UTC(), fc.Now().UTC())
			}
			if len(closed) != 1 || closed[0] != journal.CloseOutOfScope {
				t.Errorf("web's finding closed %q; want once, %s, with the old profile", closed, journal.CloseOutOfScope)
			}
		})
	}
}

// journalOn is a journal hook on store (cluster "own") with the clock c, restored from what the
// store holds; stop ends it (and so does the test's end).
func journalOn(t *testing.T, store journal.Store, c *testingclock.FakeClock) (*journal.Queue, *journalHook, func()) {
	t.Helper()
	q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h := newJournalHook(q, c, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = q.Start(ctx); close(stopped) }()
	<-q.Ready()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-stopped }) }
	t.Cleanup(stop)
	return q, h, stop
}

package controllers

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// When a namespace can no longer be evaluated, its report says Unknown (Stale=True): the
// verdict it shows is old. The journal must say so too, and its daily attestation must not go
// on stating the last verdict as the namespace's state at the moment, which would make the
// evidence pack show a criterion held (or failed) over weeks nothing was judged.
func TestTheJournalStopsAttestingAVerdictTheReportNoLongerHolds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	createNamespace(t, "jstale-a", map[string]string{"jstale": "true"})
	if err := k8s.Create(ctx, deployment("jstale-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "jstale", "jstale", nil)
	waitWritten(t, "jstale-a", "jstale")

	// A reconciler of its own, journaling to a store of its own, whose Deployment lists fail
	// once broken is set (as when the operator loses its permission to list them).
	var broken atomic.Bool
	c := failing(t, interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*appsv1.DeploymentList); ok && broken.Load() {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "stale", FlushInterval: 50 * time.Millisecond, Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r.journal = newJournalHook(q, clock.RealClock{}, time.Hour)
	stopped := make(chan struct{})
	go func() { _ = q.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }() // before the store's directory goes
	<-q.Ready()
	req := ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("the first evaluation: %v", err)
	}
	broken.Store(true)
	if _, err := r.Reconcile(ctx, req); err == nil {
		t.Fatal("the evaluation did not fail with Deployments unlistable")
	}
	r.journal.attest(time.Now())
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}

	var states []string
	failed := false
	if _, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: "stale", OnRecord: func(line []byte) error {
		var rec journal.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.Namespace != "jstale-a" || rec.Profile != "jstale" {
			return nil
		}
		switch {
		case rec.Type == journal.CriterionChanged && rec.Criterion.Criterion == "CC6.1":
			states = append(states, rec.Criterion.To)
			failed = failed || rec.Criterion.To == "Unknown"
		case rec.Type == journal.Attestation:
			for _, cs := range rec.Attestation.Criteria {
				if cs.Criterion == "CC6.1" && cs.State != "Unknown" {
					t.Errorf("after the failed evaluation, an attestation states CC6.1 %s (the report says Unknown)", cs.State)
				}
			}
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Errorf("CC6.1's states in the journal: %v; want it Unknown once the namespace could not be evaluated", states)
	}
}

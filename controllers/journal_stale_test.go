package controllers

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
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
	store, q, h, stop := ownJournal(t, ctx, cancel)
	r.journal = h
	defer stop()
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
	for _, rec := range namespaceRecords(t, store, "jstale", "jstale-a") {
		switch {
		case rec.Type == journal.CriterionChanged && rec.Criterion.Criterion == "CC6.1":
			states = append(states, rec.Criterion.To)
			failed = failed || rec.Criterion.To == "Unknown"
		case rec.Type == journal.Attestation && failed:
			// (The first evaluation's attestation comes before: it stated what held then.)
			for _, cs := range rec.Attestation.Criteria {
				if cs.Criterion == "CC6.1" && cs.State != "Unknown" {
					t.Errorf("after the failed evaluation, an attestation states CC6.1 %s (the report says Unknown)", cs.State)
				}
			}
		}
	}
	if !failed {
		t.Errorf("CC6.1's states in the journal: %v; want it Unknown once the namespace could not be evaluated", states)
	}
}

// namespaceRecords reads the records of one profile and namespace from the store.
func namespaceRecords(t *testing.T, store journal.Store, profile, ns string) []journal.Record {
	t.Helper()
	var out []journal.Record
	if _, err := journal.Scan(context.Background(), store, journal.ScanOptions{Cluster: "own", OnRecord: func(line []byte) error {
		var rec journal.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.Namespace == ns && rec.Profile == profile {
			out = append(out, rec)
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A namespace the profile stops selecting (relabelled, excluded, or deleted) is judged no more:
// its criteria are not still Pass (or Fail) from then on. The journal must say so, or the
// evidence pack carries the last state to the end of the period: a namespace excluded in March
// would show CC6.1 held through December.
func TestTheJournalSaysANamespaceLeftTheProfile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	createNamespace(t, "jleft-a", map[string]string{"jleft": "true"})
	if err := k8s.Create(ctx, deployment("jleft-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	gone := deployment("jleft-a", "gone", true)
	if err := k8s.Create(ctx, gone); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "jleft", "jleft", nil)
	waitWritten(t, "jleft-a", "jleft")
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	store, q, h, stop := ownJournal(t, ctx, cancel)
	r.journal = h
	defer stop()
	req := ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("the first evaluation: %v", err)
	}
	// A deleted workload's findings close, but not as remediated.
	if err := k8s.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("the evaluation once the deployment went: %v", err)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "jleft-a"}, ns); err != nil {
		t.Fatal(err)
	}
	delete(ns.Labels, "jleft")
	if err := k8s.Update(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("the evaluation once the namespace left: %v", err)
	}
	r.journal.attest(time.Now())
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	last := map[string]string{}
	closed := map[string][]string{}
	left := false // once the journal says so (the first evaluation's attestation comes before)
	said := false // a namespace.left record: the evidence pack expects no attestation after it
	for _, rec := range namespaceRecords(t, store, "jleft", "jleft-a") {
		switch rec.Type {
		case journal.CriterionChanged:
			last[rec.Criterion.Criterion] = rec.Criterion.To
			left = left || rec.Criterion.To == "Unknown"
		case journal.Attestation:
			if left {
				t.Errorf("an attestation of a namespace the profile no longer selects: %+v", rec.Attestation.Criteria)
			}
		case journal.FindingClosed:
			closed[rec.Finding.Name] = append(closed[rec.Finding.Name], rec.Finding.CloseReason)
		case journal.NamespaceLeft:
			said = true
		}
	}
	if !said {
		t.Error("no namespace.left record: the evidence pack counts every later day as one the namespace missed its attestation")
	}
	// Neither finding was remediated: one's workload went, the other's namespace left.
	for name, want := range map[string]string{"gone": journal.CloseResourceGone, "bad": journal.CloseOutOfScope} {
		if len(closed[name]) == 0 {
			t.Errorf("no closing of %s's findings", name)
		}
		for _, got := range closed[name] {
			if got != want {
				t.Errorf("a finding of %s closed for %q, want %q", name, got, want)
			}
		}
	}
	if len(last) == 0 {
		t.Fatal("no criterion state journaled for the namespace")
	}
	for c, state := range last {
		if state != "Unknown" {
			t.Errorf("%s is %s in the journal after the namespace left the profile; want Unknown", c, state)
		}
	}
}

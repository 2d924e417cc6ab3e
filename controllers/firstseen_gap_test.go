package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAFailureOutOfTheReportForOneEvaluationKeepsItsFirstSeen: a namespace admin whose
// Deployment has run a privileged container for a month deletes it and applies it again with the
// container renamed, one evaluation apart. The report showed the Critical finding first seen
// when it came back: an auditor read a month-old violation as minutes old, and a rule on how long
// a Critical finding has been open started again. Back within an hour (report.ReopenedWithin),
// it keeps the time it was first seen.
func TestAFailureOutOfTheReportForOneEvaluationKeepsItsFirstSeen(t *testing.T) {
	ctx := context.Background()
	const ns = "fsgap"
	_, evaluate, t0, fake := gapReconciler(t, ns, false)
	if f := evaluate(); len(f) != 1 || !f[0].FirstSeen.Time.Equal(t0) {
		t.Fatalf("the report lists %+v; want the privileged container first seen %s", f, t0)
	}
	fake.Step(30 * 24 * time.Hour)
	if f := evaluate(); len(f) != 1 || !f[0].FirstSeen.Time.Equal(t0) {
		t.Fatalf("a month later the report lists %+v; want it first seen %s", f, t0)
	}

	if err := k8s.Delete(ctx, deployment(ns, "api", true)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the Deployment deleted", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "api"}, deployment(ns, "api", true)); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
	fake.Step(5 * time.Minute)
	if f := evaluate(); len(f) != 0 {
		t.Fatalf("with the Deployment deleted the report lists %+v", f)
	}
	again := deployment(ns, "api", true)
	again.Spec.Template.Spec.InitContainers[0].Name = "setup-renamed"
	if err := k8s.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	fake.Step(5 * time.Minute)
	f := evaluate()
	if len(f) != 1 || f[0].Container != "setup-renamed" || !f[0].FirstSeen.Time.Equal(t0) {
		t.Errorf("created again with the container renamed, the report lists %+v; want setup-renamed first seen %s, failing since then", f, t0)
	}
}

// TestAFailureFixedForOneEvaluationKeepsItsFirstSeenWithTheJournal: with the evidence journal
// on, a namespace admin who un-sets privileged for one evaluation and sets it again ten minutes
// later (the journal closes the finding resolved, and the evidence pack keeps it one deviation
// row, reopened) had the report show the month-old Critical failure first seen when it came
// back: the journal's new opening was written over the time the operator kept.
func TestAFailureFixedForOneEvaluationKeepsItsFirstSeenWithTheJournal(t *testing.T) {
	ctx := context.Background()
	const ns = "fsgapj"
	_, evaluate, t0, fake := gapReconciler(t, ns, true)
	if f := evaluate(); len(f) != 1 || !f[0].FirstSeen.Time.Equal(t0) {
		t.Fatalf("the report lists %+v; want the privileged container first seen %s", f, t0)
	}
	fake.Step(30 * 24 * time.Hour)
	evaluate()
	set := func(privileged bool) {
		t.Helper()
		d := deployment(ns, "api", true)
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "api"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Template.Spec.InitContainers[0].SecurityContext.Privileged = &privileged
		if err := k8s.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	set(false)
	fake.Step(5 * time.Minute)
	if f := evaluate(); len(f) != 0 {
		t.Fatalf("with privileged un-set the report lists %+v", f)
	}
	set(true)
	fake.Step(5 * time.Minute)
	if f := evaluate(); len(f) != 1 || !f[0].FirstSeen.Time.Equal(t0) {
		t.Errorf("privileged again ten minutes later, the report lists %+v; want it first seen %s", f, t0)
	}
	fake.Step(5 * time.Minute)
	if f := evaluate(); len(f) != 1 || !f[0].FirstSeen.Time.Equal(t0) {
		t.Errorf("at the next evaluation the report lists %+v; want it first seen %s", f, t0)
	}
}

// gapReconciler is a reconciler of its own (with its own journal when journaled) over namespace
// ns with a privileged Deployment api, profile ns checking wl-privileged, a fake clock at t0 and
// evaluate, which evaluates and returns the findings the report lists.
func gapReconciler(t *testing.T, ns string, journaled bool) (*ComplianceProfileReconciler, func() []v1alpha1.Finding, time.Time, *testingclock.FakeClock) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	createNamespace(t, ns, map[string]string{ns: "true"})
	if err := k8s.Create(ctx, deployment(ns, "api", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, ns, ns, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })

	// This reconciler's reports are its own (not the suite's operator's, whose journal keeps
	// first-seen times); without its own journal it is the default install.
	c, kept := reportsKeptApart(t, ns)
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	if journaled {
		_, _, h, stop := ownJournal(t, ctx, cancel)
		t.Cleanup(stop)
		r.journal = h
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	fake := testingclock.NewFakeClock(t0)
	r.Clock = fake
	evaluate := func() []v1alpha1.Finding {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: profile.Name}}); err != nil {
			t.Fatal(err)
		}
		written := kept.last()
		if written == nil {
			t.Fatal("no report written")
		}
		return written.Status.Findings
	}
	return r, evaluate, t0, fake
}

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An operator restores what the journal states of the two attestation intervals (and an hour)
// before its last record. An exception in force for longer than that was not in what it
// restored, so it journaled the exception again as requested, dated when it was created, with
// the spec it has now, in a segment whose time range reached back to that date. The evidence pack
// of the period it was created in, built after that restart, read the segment and showed the
// exception as requested with today's reason and spec digest, where the pack of the same period
// built before showed what was requested then: the pack of a past period changed with every
// restart of the operator. The exceptions in force an attestation states are restored with it,
// and such an exception is not journaled requested again.
func TestAnExceptionOlderThanTheRestoreWindowDoesNotRewriteAPastPeriod(t *testing.T) {
	jh := newJournalHarness(t, "jrestated")
	jh.hookClock = nowClock{now: jh.atNow}
	no := false
	jh.profile.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{RequireApproval: &no}
	jh.profile.CreationTimestamp = metav1.NewTime(jh.now)
	jh.plan = engine.Compile(checks.Catalogue(), jh.profile)
	start := jh.now
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "team-a", Generation: 1, CreationTimestamp: metav1.NewTime(start.Add(30 * time.Second))},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "The setup step loads a kernel module.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(start.Add(30 * 24 * time.Hour))},
	}
	evaluate := func(ctx context.Context, h *journalHook) {
		d := deployment("team-a", "api", true)
		ev := jh.plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), []*v1alpha1.ControlException{ex.DeepCopy()},
			engine.Options{Now: jh.now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", ev, nil, jh.now)
	}
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(time.Minute)
		evaluate(ctx, h)
	})
	// The operator runs on, evaluating the namespace again four hours later (an attestation), for
	// five hours in all.
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(4 * time.Hour)
		evaluate(ctx, h)
		jh.now = jh.now.Add(time.Hour)
	})
	period := evidence.Options{From: start, To: start.Add(time.Hour), Clusters: []string{"own"}}
	exceptions := func() ([]string, int) {
		t.Helper()
		p, err := evidence.Collect(context.Background(), jh.store, period)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, e := range p.Exceptions {
			rows = append(rows, fmt.Sprintf("%s/%s %s requested %s expires %s reason %q spec %.8s", e.Namespace, e.Name, e.State, e.Requested.Format(time.RFC3339),
				e.Expires.Format(time.RFC3339), e.Reason, e.SpecSHA256))
		}
		segments := 0
		for _, v := range p.Verification {
			segments += v.Segments
		}
		return rows, segments
	}
	before, readBefore := exceptions()
	if len(before) != 1 {
		t.Fatalf("the pack of the period lists exceptions %q; want the one requested in it", before)
	}

	// A restart an hour on, past the restore window (two intervals of an hour, and an hour, before
	// the journal's last record) from the exception's request: the namespace admin has edited
	// its reason and extended it.
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(time.Hour)
		ex.Generation, ex.Spec.Reason, ex.Spec.Expires = 2, "Until the vendor ships a fix.", metav1.NewTime(start.Add(365*24*time.Hour))
		evaluate(ctx, h)
	})
	for _, r := range namespaceRecords(t, jh.store, "", "team-a") {
		if r.Type == journal.ExceptionRequested && r.Time.Before(start.Add(time.Hour)) && r.Exception.Reason == ex.Spec.Reason {
			t.Errorf("the restarted operator journaled the exception requested at %s with the reason it has now, %q", r.Time.Format(time.RFC3339), r.Exception.Reason)
		}
	}
	after, readAfter := exceptions()
	if fmt.Sprint(after) != fmt.Sprint(before) || readAfter != readBefore {
		t.Errorf("the pack of the period built after the restart lists %q (%d segments read); built before, %q (%d segments read)", after, readAfter, before, readBefore)
	}
}

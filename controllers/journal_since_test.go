package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A finding closed without remediation (here resource-gone: the namespace admin deletes the
// privileged Deployment, and creates it again with the privileged container renamed) is no
// remediation, and the evidence pack carried the finding's first opening through it, but only
// when it read both in its period: the pack of a period that began after the closing (the next
// quarter) read the renamed container's finding as first opened when it failed again, and
// counted its time to remediate from then, hiding the hours it failed before. The same holds for
// a failure hidden past what the operator reads (not-assessed). The operator now journals the
// opening failing since the first (Finding.Since), also across a restart in between, and the
// pack reads it.
func TestAFindingThatEndedWithoutRemediationIsJournaledFailingSinceItsFirstOpening(t *testing.T) {
	jh := newJournalHarness(t, "jsince")
	jh.hookClock = nowClock{now: jh.atNow}
	jh.profile.CreationTimestamp = metav1.NewTime(jh.now)
	evaluate := func(ctx context.Context, h *journalHook, container string) {
		var objects []*engine.Object
		if container != "" {
			d := deployment("team-a", "api", true)
			d.Spec.Template.Spec.InitContainers[0].Name = container
			objects = append(objects, engine.NewObject(d, "apps/v1", "Deployment"))
		}
		ev := jh.plan.Evaluate(engine.NewInventory(objects, true), nil, engine.Options{Now: jh.now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", ev, nil, jh.now)
	}
	var first time.Time
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(time.Minute)
		first = jh.now
		evaluate(ctx, h, "setup")
		jh.now = jh.now.Add(time.Hour)
		evaluate(ctx, h, "") // deleted
	})
	var gone *journal.Finding
	for _, r := range jh.records() {
		if r.Type == journal.FindingClosed {
			gone = r.Finding
		}
	}
	if gone == nil || gone.CloseReason != journal.CloseResourceGone {
		t.Fatalf("the finding closed %+v; the test wants it closed resource-gone", gone)
	}
	// A restart, then the Deployment created again with its privileged container renamed, and
	// fixed an hour later.
	var again time.Time
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(time.Hour)
		again = jh.now
		evaluate(ctx, h, "setup2")
		jh.now = jh.now.Add(time.Hour)
		ev := jh.plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(deployment("team-a", "api", false), "apps/v1", "Deployment")}, true), nil,
			engine.Options{Now: jh.now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", ev, nil, jh.now)
	})
	opened := jh.opened()
	if opened == nil || opened.Container != "setup2" || !opened.Since.Equal(first) {
		t.Errorf("the finding on setup2 was journaled %+v; want it failing since %s", opened, first.Format(time.RFC3339))
	}
	// The pack of a period that begins after the closing.
	end := jh.now.Add(time.Minute)
	pack, err := evidence.Collect(context.Background(), jh.store, evidence.Options{From: again.Add(-10 * time.Minute), To: end, Clusters: []string{"own"},
		Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range pack.Deviations {
		if d.Namespace != "team-a" || d.Finding.Check != "wl-privileged" {
			continue
		}
		n++
		if !d.Since.Equal(first) || !d.Remediated() {
			t.Errorf("the pack lists %s opened %s, first opened %s, remediated %t in %v; want first opened %s", d.Finding.Key, d.Opened.Format(time.RFC3339),
				d.Since.Format(time.RFC3339), d.Remediated(), d.RemediationTime(), first.Format(time.RFC3339))
		}
	}
	if n != 1 {
		t.Errorf("the pack lists %d deviations of the privileged Deployment; want the one on setup2", n)
	}
}

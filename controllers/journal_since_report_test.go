package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// With the evidence journal on, a finding that ended without remediation (resource-gone: the
// namespace admin deletes the privileged Deployment and creates it again with the container
// renamed, the operator restarting between) was journaled failing since its first opening
// (Finding.Since), but the report showed it first seen when it failed again (the journal's new
// opening, which observe writes over the report's time), and went on showing that after another
// restart: the auditor reading the report, and anyone measuring how long a Critical finding has
// been open from it, were told the failure was new. The report shows the time it has been failing
// since.
func TestAFindingThatEndedWithoutRemediationShowsInTheReportFailingSinceItsFirstOpening(t *testing.T) {
	jh := newJournalHarness(t, "jsincereport")
	jh.hookClock = nowClock{now: jh.atNow}
	jh.profile.CreationTimestamp = metav1.NewTime(jh.now)
	evaluate := func(container string) *engine.Evaluation {
		var objects []*engine.Object
		if container != "" {
			d := deployment("team-a", "api", true)
			d.Spec.Template.Spec.InitContainers[0].Name = container
			objects = append(objects, engine.NewObject(d, "apps/v1", "Deployment"))
		}
		return jh.plan.Evaluate(engine.NewInventory(objects, true), nil, engine.Options{Now: jh.now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
	shown := func(container string, firstSeen time.Time) []v1alpha1.Finding {
		return []v1alpha1.Finding{{Check: "wl-privileged", Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "api"},
			Container: container, FirstSeen: &metav1.Time{Time: firstSeen}}}
	}
	var first time.Time
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(time.Minute)
		first = jh.now
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", evaluate("setup"), shown("setup", first), jh.now)
		jh.now = jh.now.Add(time.Hour)
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", evaluate(""), nil, jh.now) // deleted
	})
	// A restart; the Deployment created again with the container renamed. The process's memory
	// is empty and the report lists nothing: the report's lookup finds no time, and shows now.
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(10 * time.Minute)
		listed := shown("setup2", jh.now)
		h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", evaluate("setup2"), listed, jh.now)
		if !listed[0].FirstSeen.Time.Equal(first) {
			t.Errorf("failing again under setup2, the report shows it first seen %s; want %s, failing since then", listed[0].FirstSeen.Format(time.RFC3339), first.Format(time.RFC3339))
		}
	})
	// Another restart: what the journal holds open tells the report when it was first seen.
	jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
		jh.now = jh.now.Add(10 * time.Minute)
		got, ok := h.firstSeen(jh.profile.Name, "team-a", nil)(&shown("setup2", jh.now)[0])
		if !ok || !got.Equal(first) {
			t.Errorf("after a restart the journal gives setup2's finding first seen %s (%t); want %s", got.Format(time.RFC3339), ok, first.Format(time.RFC3339))
		}
	})
}

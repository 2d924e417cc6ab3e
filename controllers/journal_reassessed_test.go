package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An admin widens the profile's allowed registries: the Deployment's image, which failed
// img-registry-allowlist, now passes, with nothing changed in the namespace. The journal closed
// the finding as resolved, a remediation, so the evidence pack counted it in the time to
// remediate and an auditor read that the tenant fixed it. A closing judged under another profile
// version (or check catalogue) than the last evaluation that reported the finding is reassessed:
// what is judged changed, which the pack does not count as a remediation.
func TestTheJournalClosesAFindingAProfileEditNoLongerReportsAsReassessed(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "jrescope-a", map[string]string{"jrescope": "true"})
	if err := k8s.Create(ctx, deployment("jrescope-a", "api", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "jrescope", "jrescope", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "img-registry-allowlist")
		p.Spec.Parameters = &v1alpha1.CheckParameters{AllowedRegistries: []string{"ghcr.io/ours/"}}
	})
	isFinding := func(r *journal.Record) bool {
		return r.Profile == "jrescope" && r.Namespace == "jrescope-a" && r.Finding != nil && r.Finding.Check == "img-registry-allowlist"
	}
	waitForRecords(t, "the registry finding opened", isFinding, "finding.opened img-registry-allowlist api/app")

	updateProfile(t, "jrescope", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Parameters.AllowedRegistries = append(p.Spec.Parameters.AllowedRegistries, "registry.example.com/")
	})
	recs := waitForRecords(t, "the registry finding closed", isFinding, "finding.closed img-registry-allowlist api/app")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && (r.Finding.CloseReason != journal.CloseReassessed || !strings.HasPrefix(r.Finding.Reassessed, "profile generation 1 -> 2 ")) {
			t.Errorf("the finding the profile edit no longer reports closed as %q (%q); want %q, profile generation 1 -> 2 (not a remediation)", r.Finding.CloseReason, r.Finding.Reassessed, journal.CloseReassessed)
		}
	}

	// The criterion the edit turned to Pass says which version of the profile judged it.
	isCC68 := func(r *journal.Record) bool {
		return r.Profile == "jrescope" && r.Namespace == "jrescope-a" && r.Criterion != nil && r.Criterion.Criterion == "CC6.8"
	}
	for _, r := range waitForRecords(t, "CC6.8 passing", isCC68, "criterion.changed CC6.8 ->Fail", "criterion.changed CC6.8 Fail->Pass") {
		want := int64(1)
		if r.Criterion.To == "Pass" {
			want = 2
		}
		if r.Spec == nil || r.Spec.Generation != want || r.Spec.SHA256 == "" {
			t.Errorf("CC6.8 %s->%s judged under %+v; want profile generation %d", r.Criterion.From, r.Criterion.To, r.Spec, want)
		}
	}

	// A tenant's own change under the edited profile: an image of another registry fails, and
	// going back is a remediation.
	updateDeployment(t, "jrescope-a", "api", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "docker.io/evil/app:1" })
	waitForRecords(t, "the registry finding opened again", isFinding, "finding.opened img-registry-allowlist api/app\nfinding.closed img-registry-allowlist api/app\nfinding.opened img-registry-allowlist api/app")
	updateDeployment(t, "jrescope-a", "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "registry.example.com/app:1.0.0"
	})
	var reasons []string
	eventually(t, 20*time.Second, "the tenant's fix closed", func() error {
		reasons = nil
		for _, r := range journalRecords(t, isFinding) {
			if r.Type == journal.FindingClosed {
				reasons = append(reasons, r.Finding.CloseReason)
			}
		}
		if len(reasons) < 2 {
			return fmt.Errorf("closings %q", reasons)
		}
		return nil
	})
	if want := []string{journal.CloseReassessed, journal.CloseResolved}; strings.Join(reasons, " ") != strings.Join(want, " ") {
		t.Errorf("closings %q; want %q: the tenant's fix under the same profile is a remediation", reasons, want)
	}
}

// An operator upgrade brings another check catalogue: the first evaluation after it no longer
// reports a finding the old catalogue reported, with nothing changed in the namespace (here the
// Deployment was fixed, which the journal cannot tell from a check that judges differently).
// The new operator closed it as resolved; it is reassessed, naming both catalogues. A restart
// with the same catalogue, and a later fix under the new one, are remediations.
func TestTheJournalClosesAFindingAnUpgradedCatalogueNoLongerReportsAsReassessed(t *testing.T) {
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "jupgrade", Generation: 1}}
	onlyCheck(profile, "wl-privileged")
	plan := engine.Compile(checks.Catalogue(), profile)
	evaluate := func(privileged bool) *engine.Evaluation {
		d := deployment("team-a", "api", privileged)
		return plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
			engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
	now := time.Now().Truncate(time.Second)
	// run starts an operator with catalogue, observes each evaluation a minute apart, and
	// returns the reasons of the closings it journaled.
	run := func(catalogue string, privileged ...bool) []string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test", Catalogue: catalogue,
			Now: func() time.Time { return time.Now().Add(time.Hour) }}) // ahead of the evaluations, a minute apart
		if err != nil {
			t.Fatal(err)
		}
		h := newJournalHook(q, clock.RealClock{}, time.Hour)
		stopped := make(chan struct{})
		go func() { _ = q.Start(ctx); close(stopped) }()
		<-q.Ready()
		h.profileSeen(ctx, profile)
		for _, p := range privileged {
			now = now.Add(time.Minute)
			h.observe(ctx, profile.Name, time.Hour, "team-a", "", evaluate(p), nil, now)
		}
		if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: now}) {
			t.Fatal("the journal was not written")
		}
		cancel()
		<-stopped
		var reasons []string
		for _, rec := range namespaceRecords(t, store, profile.Name, "team-a") {
			if rec.Type == journal.FindingClosed && !rec.Time.Before(now.Add(-time.Duration(len(privileged)-1)*time.Minute)) {
				reasons = append(reasons, rec.Finding.CloseReason+" "+rec.Finding.Reassessed)
			}
		}
		return reasons
	}
	if got := run("2026.06.01", true); len(got) != 0 {
		t.Fatalf("closings before any fix: %q", got)
	}
	// A restart with the same catalogue, then the fix: remediated.
	if got := run("2026.06.01", true, false); len(got) != 1 || got[0] != journal.CloseResolved+" " {
		t.Errorf("closing after a restart with the same catalogue: %q; want one %q", got, journal.CloseResolved)
	}
	// Failing again, then an upgrade whose first evaluation no longer reports it.
	run("2026.06.01", true)
	if got, want := run("2026.09.01", false), journal.CloseReassessed+" catalogue 2026.06.01 -> 2026.09.01"; len(got) != 1 || got[0] != want {
		t.Errorf("closing at the upgraded operator's first evaluation: %q; want one %q", got, want)
	}
	// Under the new catalogue, failing and then fixed: remediated.
	if got := run("2026.09.01", true, false); len(got) != 1 || got[0] != journal.CloseResolved+" " {
		t.Errorf("closing of a fix under the new catalogue: %q; want one %q", got, journal.CloseResolved)
	}
	// Each attestation (one at each operator's first evaluation) says the profile's version.
	attestations := 0
	for _, rec := range namespaceRecords(t, store, profile.Name, "team-a") {
		if rec.Type == journal.Attestation {
			attestations++
			if rec.Spec == nil || rec.Spec.Generation != 1 {
				t.Errorf("attestation at %s judged under %+v; want profile generation 1", rec.Time, rec.Spec)
			}
		}
	}
	if attestations != 5 {
		t.Errorf("%d attestations; want one per operator", attestations)
	}
}

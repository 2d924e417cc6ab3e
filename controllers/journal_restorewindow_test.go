package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/evidence"
)

// The operator restores what the journal states of the two attestation intervals (and an hour)
// before its last record. A namespace whose evaluations failed (its report stale, its criteria
// journaled Unknown, no attestation of it since) for longer than that is not restored: the
// next operator knows nothing of its open finding. Whether the namespace is still failing or
// was fixed meanwhile, the evidence pack must not show a criterion Pass for time it was last
// seen failing, nor the failing Deployment's deviation lost or closed before anyone saw it
// fixed.
func TestANamespaceUnevaluatedLongerThanTheRestoreWindowIsNotShownHolding(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("fixed=%t", fixed), func(t *testing.T) {
			jh := newJournalHarness(t, "jrestorewin")
			jh.hookClock = nowClock{now: jh.atNow}
			jh.profile.CreationTimestamp = metav1.NewTime(jh.now)
			start := jh.now
			jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
				jh.now = jh.now.Add(time.Minute)
				h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", jh.evaluate(true), nil, jh.now)
			})
			opened := jh.opened()
			if opened == nil {
				t.Fatal("the privileged Deployment's finding was not journaled")
			}
			// Its evaluations fail from a minute later (the report goes stale), for three days.
			var failedAt time.Time
			jh.run(jh.atNow, func(_ context.Context, h *journalHook) {
				jh.now = jh.now.Add(time.Minute)
				failedAt = jh.now
				h.unknown(jh.profile.Name, "team-a")
				jh.now = jh.now.Add(72 * time.Hour)
			})
			// A restart: team-a is not restored; then it is evaluated again.
			var evaluatedAt time.Time
			jh.run(jh.atNow, func(ctx context.Context, h *journalHook) {
				jh.now = jh.now.Add(time.Minute)
				evaluatedAt = jh.now
				h.observe(ctx, jh.profile.Name, time.Hour, "team-a", "", jh.evaluate(!fixed), shownAsOpened(opened), jh.now)
				jh.now = jh.now.Add(time.Hour)
			})
			pack, err := evidence.Collect(context.Background(), jh.store, evidence.Options{From: start, To: jh.now, Clusters: []string{"own"}, Now: func() time.Time { return jh.now }})
			if err != nil {
				t.Fatal(err)
			}
			failed := false
			for _, tl := range pack.Timelines {
				if tl.Namespace != "team-a" {
					continue
				}
				for _, s := range tl.Spans {
					failed = failed || s.State == "Fail" && !s.From.After(opened.FirstSeen)
					if s.State == "Pass" && s.From.Before(evaluatedAt) && (fixed || s.To.After(evaluatedAt)) && s.To.After(opened.FirstSeen) {
						t.Errorf("%s Pass %s..%s: the namespace was last seen failing (from %s), and evaluated again at %s", tl.Criterion,
							s.From.Format(time.RFC3339), s.To.Format(time.RFC3339), opened.FirstSeen.Format(time.RFC3339), evaluatedAt.Format(time.RFC3339))
					}
				}
			}
			if !failed {
				var spans []string
				for _, tl := range pack.Timelines {
					for _, s := range tl.Spans {
						spans = append(spans, fmt.Sprintf("%s %s %s..%s", tl.Criterion, s.State, s.From.Format(time.RFC3339), s.To.Format(time.RFC3339)))
					}
				}
				t.Errorf("no criterion of team-a shown failing from %s: %s", opened.FirstSeen.Format(time.RFC3339), strings.Join(spans, "; "))
			}
			var devs []string
			for _, d := range pack.Deviations {
				if d.Namespace == "team-a" && d.Finding.Check == "wl-privileged" {
					devs = append(devs, fmt.Sprintf("opened %s closed %s inferred %t", d.Opened.Format(time.RFC3339), d.Closed.Format(time.RFC3339), d.Inferred))
					switch {
					case !d.Opened.Equal(opened.FirstSeen):
						t.Errorf("a deviation opened at %s, the finding was first seen at %s", d.Opened.Format(time.RFC3339), opened.FirstSeen.Format(time.RFC3339))
					case !fixed && !d.Closed.IsZero():
						t.Errorf("the Deployment still fails at %s; its deviation closed at %s", evaluatedAt.Format(time.RFC3339), d.Closed.Format(time.RFC3339))
					case fixed && (d.Closed.IsZero() || d.Closed.Before(failedAt)):
						t.Errorf("the Deployment was seen fixed at %s; its deviation closed at %s", evaluatedAt.Format(time.RFC3339), d.Closed.Format(time.RFC3339))
					}
				}
			}
			if len(devs) != 1 {
				t.Errorf("deviations of the privileged Deployment: %s; want one", strings.Join(devs, "; "))
			}
		})
	}
}

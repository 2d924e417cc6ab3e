package report

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// privilegedDeployment is Deployment api in team-a, its container named container privileged
// when privileged; nil container: no Deployment.
func privilegedDeployment(container string, privileged bool) []*engine.Object {
	if container == "" {
		return nil
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "api"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: container, Image: "registry.example/api@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
		}}}}},
	}
	return []*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}
}

// A namespace admin whose Deployment has run a privileged container for months takes it out of
// the report for one evaluation (deletes the Deployment and creates it again, or renames the
// container) and the report showed the failure first seen when it failed again: an auditor read
// a months-old violation as new, and an SLA on how long a finding has been open never ran out.
// Within ReopenedWithin of leaving the report the finding keeps its first-seen time; after it,
// or when it is back under a name other than the check's resource, it is first seen anew.
func TestAFindingBackWithinAnHourOfLeavingKeepsItsFirstSeenTime(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	for name, tc := range map[string]struct {
		gap       string // the container between, "" for the Deployment deleted
		back      string // the container failing again
		after     time.Duration
		keepsTime bool
	}{
		"deleted and created again within the hour":            {gap: "", back: "app", after: 10 * time.Minute, keepsTime: true},
		"deleted and created again with the container renamed": {gap: "", back: "app2", after: 10 * time.Minute, keepsTime: true},
		"renamed in one edit":                                  {gap: "app2", back: "app2", after: 10 * time.Minute, keepsTime: true},
		"fixed for one evaluation and privileged again":        {gap: "fixed", back: "app", after: 10 * time.Minute, keepsTime: true},
		"deleted and created again after more than an hour":    {gap: "", back: "app", after: 2 * time.Hour, keepsTime: false},
	} {
		t.Run(name, func(t *testing.T) {
			store := NewMemoryFirstSeen()
			var previous *v1alpha1.ComplianceReportStatus
			evaluate := func(at time.Time, objects []*engine.Object) []v1alpha1.Finding {
				ev := plan.Evaluate(engine.NewInventory(objects, true), nil, engine.Options{Now: at})
				persists := Persisting(ev.Summary("team-a").Findings)
				st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-a", Now: at, Previous: previous,
					FirstSeen: Lookup(store, "p", "team-a", at, persists)})
				store.Record("p", "team-a", st.Findings, persists, at)
				previous = &st
				var out []v1alpha1.Finding
				for _, f := range st.Findings {
					if f.Check == "wl-privileged" {
						out = append(out, f)
					}
				}
				return out
			}
			first := now.Add(-90 * 24 * time.Hour)
			evaluate(first, privilegedDeployment("app", true))
			at := now
			if f := evaluate(at, privilegedDeployment("app", true)); len(f) != 1 || !f[0].FirstSeen.Time.Equal(first) {
				t.Fatalf("the privileged container is listed %+v; want it first seen %s", f, first)
			}
			gap := privilegedDeployment(tc.gap, true)
			if tc.gap == "fixed" {
				gap = privilegedDeployment("app", false)
			}
			at = at.Add(tc.after / 2)
			if f := evaluate(at, gap); len(f) != 0 && tc.gap != "app2" {
				t.Fatalf("between, the report lists %+v; the test wants no privileged finding", f)
			}
			at = at.Add(tc.after / 2)
			f := evaluate(at, privilegedDeployment(tc.back, true))
			want := first
			if !tc.keepsTime {
				want = at
			}
			if len(f) != 1 || !f[0].FirstSeen.Time.Equal(want) {
				t.Fatalf("failing again, the report lists %+v; want %s first seen %s", f, tc.back, want)
			}
			// And it keeps it at the next evaluation.
			at = at.Add(time.Hour)
			if f := evaluate(at, privilegedDeployment(tc.back, true)); len(f) != 1 || !f[0].FirstSeen.Time.Equal(want) {
				t.Errorf("an hour later, the report lists %+v; want first seen %s", f, want)
			}
		})
	}
}

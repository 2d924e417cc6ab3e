package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestAnEvaluationWhoseReportCannotBeCreatedIsJournaled: a namespace being deleted is evaluated
// for as long as it exists, and once the namespace controller has deleted its report the API
// server refuses to create it again. The profile's roll-up counts each such evaluation (a
// privileged container added meanwhile makes the profile NonCompliant), but the evidence journal
// recorded an evaluation only once its report had been created: the new failing finding, and
// the namespace turning NonCompliant, were never journaled, so the evidence pack read the
// namespace Compliant over a period the profile counted it failing. A report update that fails
// is journaled all the same (the journal is written first); a create that fails now is too, and
// the watchdog no longer journals such a namespace Unknown as if it were not evaluated.
func TestAnEvaluationWhoseReportCannotBeCreatedIsJournaled(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "jterm-a", "jterm"
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "agent", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "wl-privileged")
		p.Spec.EvaluationInterval = &metav1.Duration{Duration: time.Minute}
	})
	inScope := func(r *journal.Record) bool { return r.Profile == profile && r.Namespace == ns }
	waitForRecords(t, "the namespace journaled Compliant", inScope, "report.result Compliant")

	t.Cleanup(func() {
		gone := &corev1.Namespace{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, gone); err == nil {
			gone.Spec.Finalizers = nil
			_ = k8s.SubResource("finalize").Update(ctx, gone)
		}
	})
	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: objectMeta(ns)}); err != nil {
		t.Fatal(err)
	}
	// As the namespace controller would: the report goes with the namespace's content (envtest
	// runs no namespace controller), and the API server refuses to create it again.
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile}}); err != nil {
		t.Fatal(err)
	}
	profileSays := func(what string, check func(*v1alpha1.ComplianceProfile) error) {
		t.Helper()
		eventually(t, 20*time.Second, what, func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: profile}, p); err != nil {
				return err
			}
			return check(p)
		})
	}
	profileSays("the profile names the namespace whose report cannot be written", func(p *v1alpha1.ComplianceProfile) error {
		if ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady); ready == nil || !strings.Contains(ready.Message, ns) {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})

	updateDeployment(t, ns, "agent", func(d *appsv1.Deployment) {
		yes := true
		d.Spec.Template.Spec.InitContainers = append(d.Spec.Template.Spec.InitContainers, corev1.Container{
			Name: "later", Image: "registry.example.com/later:1.0.0", SecurityContext: &corev1.SecurityContext{Privileged: &yes},
		})
	})
	profileSays("the profile counts the namespace NonCompliant", func(p *v1alpha1.ComplianceProfile) error {
		if p.Status.Result != v1alpha1.NonCompliant || p.Status.NamespacesNonCompliant != 1 {
			return fmt.Errorf("result %s, %d namespaces NonCompliant", p.Status.Result, p.Status.NamespacesNonCompliant)
		}
		return nil
	})
	waitForRecords(t, "the evaluation the profile counts is journaled", inScope,
		"finding.opened wl-privileged agent/later", "report.result NonCompliant")

	// Twice the interval on, the namespace is still evaluated (and journaled) at every full
	// evaluation, only its report cannot be written. The watchdog used to call it overdue, 'no
	// successful evaluation', and journal its result and criteria Unknown (not observed) at
	// each of its runs, between evaluations journaling them again: the evidence flapped
	// between Unknown and the verdict the profile counted all along.
	runs := func() float64 {
		return scrapeCounter(t, `soc2_operator_watchdog_runs_total{outcome="ok",task="staleness"}`) +
			scrapeCounter(t, `soc2_operator_watchdog_runs_total{outcome="error",task="staleness"}`)
	}
	// Its full evaluations fail (a report could not be written): count them all.
	full := func() float64 {
		return fullEvaluations(t, profile) +
			scrapeCounter(t, `soc2_operator_evaluations_total{outcome="error",profile="`+profile+`",scope="cluster"}`)
	}
	evaluated := full()
	advance(t, 3*time.Minute)
	eventually(t, 20*time.Second, "a full evaluation after the clock moved", func() error {
		if n := full(); n <= evaluated {
			return fmt.Errorf("%v full evaluations, as before", n)
		}
		return nil
	})
	before := runs()
	eventually(t, 150*time.Second, "the watchdog ran twice since the namespace was evaluated at the new time", func() error {
		if n := runs(); n < before+2 {
			return fmt.Errorf("%v runs, %v before", n, before)
		}
		return nil
	})
	for _, d := range describe(journalRecords(t, inScope)) {
		if strings.Contains(d, "Unknown") {
			t.Errorf("the journal says %q of a namespace evaluated and journaled at every evaluation", d)
		}
	}
	profileSays("the profile still counts the namespace's latest evaluation", func(p *v1alpha1.ComplianceProfile) error {
		if p.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", p.Status.Result)
		}
		return nil
	})
}

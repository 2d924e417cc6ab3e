package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestANewCriticalFindingInPlaceOfAnotherIsIdentified: soc2_operator_findings only counts a
// namespace's failing findings, so a tenant who fixed one Critical finding and made another
// within 15 minutes left the count where it was, and SOC2NewCriticalFinding (more than 15
// minutes ago) raised nothing. soc2_operator_finding_opened_timestamp_seconds says when the
// operator last identified a failing finding new to the namespace (by check, resource and
// container), whether or not the profile has alert sinks: set by the namespace's first
// evaluation (its findings are new), left as it was by a fix, set again by the new finding
// though the count is back where it was.
func TestANewCriticalFindingInPlaceOfAnotherIsIdentified(t *testing.T) {
	const ns, profile = "opened-a", "opened"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{profile: "true"})
	start := clk.Now() // the operator's clock, which only tests move
	if err := k8s.Create(ctx, deployment(ns, "api", true)); err != nil {
		t.Fatal(err)
	}
	// No spec.alerts: the series does not depend on alert sinks.
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	critical := func(want int32) {
		t.Helper()
		eventually(t, 20*time.Second, fmt.Sprintf("%d failing Critical finding(s) in the report", want), func() error {
			rep, err := getReport(ns, profile)
			if err != nil {
				return err
			}
			if rep.Status.Result == "" || rep.Status.Summary.Critical != want {
				return fmt.Errorf("result %q, %d Critical", rep.Status.Result, rep.Status.Summary.Critical)
			}
			return nil
		})
	}
	opened := func() float64 {
		t.Helper()
		return gaugeValue(t, metrics.FindingOpened.WithLabelValues(profile, ns, string(v1alpha1.SeverityCritical)))
	}

	critical(1)
	first := opened()
	if first < float64(start.Unix()) {
		t.Fatalf("after the first evaluation, with api's privileged container, the finding-opened time is %v, want at least %d", first, start.Unix())
	}

	// api fixed: nothing new.
	updateDeployment(t, ns, "api", func(d *appsv1.Deployment) { d.Spec.Template.Spec.InitContainers = nil })
	critical(0)
	if got := opened(); got != first {
		t.Fatalf("after api was fixed the finding-opened time is %v, want %v as before (nothing new)", got, first)
	}

	// worker, privileged, a minute later: one Critical finding again, as before api was fixed,
	// but a new one.
	clk.Step(time.Minute)
	made := clk.Now()
	if err := k8s.Create(ctx, deployment(ns, "worker", true)); err != nil {
		t.Fatal(err)
	}
	critical(1)
	if got := opened(); got < float64(made.Unix()) || got <= first {
		t.Fatalf("after worker's privileged container replaced api's the finding-opened time is %v, want at least %d (when worker was made)", got, made.Unix())
	}
}

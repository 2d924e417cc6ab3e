package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestOneEvaluationPerChange shows that the operator's own report write does not evaluate the
// namespace again: one change to a workload is exactly one evaluation of its namespace, counted
// on the manager's metrics endpoint. Before the report watch ignored the operator's own
// writes, every status write came back as a watch event and evaluated the namespace a second
// time (the test then counts 2).
func TestOneEvaluationPerChange(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "self-trigger", "self-trigger"
	createNamespace(t, ns, map[string]string{"self-trigger": "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, "self-trigger", nil) // the default interval (10 min): no resync here
	waitWritten(t, ns, profile)

	series := `soc2_operator_evaluations_total{outcome="ok",profile="` + profile + `",scope="namespace"}`
	before := settled(t, series)

	updateDeployment(t, ns, "web", func(d *appsv1.Deployment) {
		yes := true
		d.Spec.Template.Spec.InitContainers = []corev1.Container{{
			Name: "setup", Image: "registry.example.com/setup:1.0.0",
			SecurityContext: &corev1.SecurityContext{Privileged: &yes},
		}}
	})
	eventually(t, 20*time.Second, "the change evaluated", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %q", rep.Status.Result)
		}
		return nil
	})
	after := settled(t, series)
	t.Logf("namespace evaluations for one change: %v", after-before)
	if after-before != 1 {
		t.Errorf("one change to a Deployment caused %v evaluations of its namespace, want 1", after-before)
	}
}

// settled waits until the counter has not moved for a second (ten times the suite's coalescing
// delay, so a re-evaluation caused by the last write would have run) and returns it.
func settled(t *testing.T, series string) float64 {
	t.Helper()
	const quiet = time.Second
	last, since := scrapeCounter(t, series), time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("%s still moving after 20s (at %v)", series, last)
		}
		time.Sleep(100 * time.Millisecond)
		if v := scrapeCounter(t, series); v != last {
			last, since = v, time.Now()
		}
	}
	return last
}

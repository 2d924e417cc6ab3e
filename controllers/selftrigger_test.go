package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestOneEvaluationPerChange shows that the operator's own report write does not evaluate the
// namespace again: one change to a workload is exactly one evaluation of its namespace, counted
// on the manager's metrics endpoint. Before the report watch ignored the operator's own
// writes, every status write came back as a watch event and evaluated the namespace a second
// time.
//
// No fixed wait: the counts are read once the operator has judged the watch event of its last
// write of the report (watchLog.judged), when any evaluation that write causes is queued.
func TestOneEvaluationPerChange(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "self-trigger", "self-trigger"
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"self-trigger": "true"}}}
	if err := k8s.Create(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	web := deployment(ns, "web", false)
	if err := k8s.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	// Judged before the profile exists, these creations evaluate nothing under it.
	watched.judged(t, "the namespace's creation", nsObj.ResourceVersion)
	watched.judged(t, "the Deployment's creation", web.ResourceVersion)
	createProfile(t, profile, "self-trigger", nil) // the default interval (10 min): no resync here
	waitWritten(t, ns, profile)

	series := `soc2_operator_evaluations_total{outcome="ok",profile="` + profile + `",scope="namespace"}`
	before := evaluationsAfterOwnWrite(t, ns, profile, series, 0)

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
	after := evaluationsAfterOwnWrite(t, ns, profile, series, before+1)
	t.Logf("namespace evaluations for one change: %v", after-before)
	if after-before != 1 {
		t.Errorf("one change to a Deployment caused %v evaluations of its namespace, want 1", after-before)
	}
}

// evaluationsAfterOwnWrite waits until the series counts at least atLeast evaluations and the
// operator judged the watch event of its latest write of the report, fails the test if that
// event queued an evaluation, and returns the series: with nothing queued, no evaluation of
// the namespace is on its way.
func evaluationsAfterOwnWrite(t *testing.T, ns, profile, series string, atLeast float64) float64 {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("%s at least %v", series, atLeast), func() error {
		if v := scrapeCounter(t, series); v < atLeast {
			return fmt.Errorf("at %v", v)
		}
		return nil
	})
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if queued := watched.judged(t, "the operator's write of the report", rep.ResourceVersion); len(queued) > 0 {
		t.Errorf("the operator's own write of report %s/%s (resourceVersion %s) queued %v", ns, profile, rep.ResourceVersion, queued)
	}
	return scrapeCounter(t, series)
}

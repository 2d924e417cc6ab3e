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
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestAFindingAnExceptionNoLongerWaivesIsAlertedAgain: a finding alerted on, then waived by an
// exception, fails again when the exception is deleted. The sinks were told nothing: the
// NewFinding alert's key held the finding's firstSeen, which the waiver keeps, so every sink
// took it for the alert it had already delivered; a deleted exception sends no
// ExceptionExpired (it sends ExceptionRevoked since, which names no finding), and a namespace
// NonCompliant already sends no NamespaceNonCompliant. A failing finding that starts failing
// again, for whatever reason, is news: it is alerted on once more, once.
func TestAFindingAnExceptionNoLongerWaivesIsAlertedAgain(t *testing.T) {
	const ns, profile = "reopen-a", "reopen"
	ctx := context.Background()
	hook := newReceiver(t, 0, false)
	createNamespace(t, ns, map[string]string{profile: "true"})
	// legacy keeps the namespace NonCompliant throughout: no NamespaceNonCompliant says anything.
	legacy := deployment(ns, "legacy", false)
	legacy.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "API_TOKEN", Value: "s3cr3t-token-value"}}
	if err := k8s.Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, deployment(ns, "api", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	if rep := waitWritten(t, ns, profile); rep.Status.Result != v1alpha1.NonCompliant {
		t.Fatalf("%s is %s; legacy must keep it NonCompliant", ns, rep.Status.Result)
	}
	failing := func(want int32) {
		t.Helper()
		eventually(t, 20*time.Second, fmt.Sprintf("%d failing findings", want), func() error {
			rep, err := getReport(ns, profile)
			if err != nil || rep.Status.Summary.Failing != want {
				return fmt.Errorf("%v %+v", err, rep.Status.Summary)
			}
			return nil
		})
	}

	updateDeployment(t, ns, "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	})
	eventually(t, 20*time.Second, "a NewFinding alert on api", func() error {
		if hook.mentions("Deployment/api/") != 1 || hook.count("NewFinding") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})

	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "api-password", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"sec-literal-env-credentials"}, Reason: "Rotating to a Secret this sprint.",
			Owner: "api-team@example.com", Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
			Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"api"}}},
	}
	createApproved(t, ex)
	failing(1)
	clk.Step(time.Minute)
	deleted := clk.Now()
	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	failing(2)
	eventually(t, 20*time.Second, "a second NewFinding alert on api, once the exception went", func() error {
		// Deployment/api/ (the NewFinding key): the ExceptionRevoked alert mentions api-password.
		if hook.mentions("Deployment/api/") != 2 || hook.count("NewFinding") != 2 || hook.count("ExceptionRevoked") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	// soc2_operator_finding_opened_timestamp_seconds (SOC2NewCriticalFinding's series) saw it too.
	if got := gaugeValue(t, metrics.FindingOpened.WithLabelValues(profile, ns, string(v1alpha1.SeverityHigh))); got < float64(deleted.Unix()) {
		t.Errorf("finding-opened time %v, want at least %d (the exception's deletion)", got, deleted.Unix())
	}
	// Later evaluations send it no third time.
	resyncAndWait(t, time.Minute, profile)
	resyncAndWait(t, time.Minute, profile)
	if n := hook.count("NewFinding"); n != 2 {
		t.Errorf("%d NewFinding alerts, want 2: %v", n, hook.received())
	}
}

// TestAnAlertASinkFailedIsSentAtTheNextFullEvaluation: a receiver down for longer than the
// attempts last (six, a couple of minutes of backoff) never got the NewFinding: the operator
// counted the finding alerted and sent it no more. The sink sets it aside, and the next full
// evaluation offers it again.
func TestAnAlertASinkFailedIsSentAtTheNextFullEvaluation(t *testing.T) {
	const ns, profile = "resend-a", "resend"
	ctx := context.Background()
	hook := newReceiver(t, 6, false) // fails the six attempts of the first alert
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "api", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL, Events: []v1alpha1.AlertEvent{v1alpha1.AlertNewFinding}}}}
	})
	waitWritten(t, ns, profile)
	updateDeployment(t, ns, "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	})
	eventually(t, 20*time.Second, "the NewFinding failed for good at the sink", func() error {
		if n := scrapeCounter(t, `soc2_operator_alerts_total{event="NewFinding",profile="`+profile+`",result="failed",sink="ops"}`); n != 1 {
			return fmt.Errorf("%v failed", n)
		}
		return nil
	})
	if n := hook.count("NewFinding"); n != 0 {
		t.Fatalf("%d NewFinding delivered while the sink failed", n)
	}
	resyncAndWait(t, time.Minute, profile)
	eventually(t, 20*time.Second, "the NewFinding delivered after the next full evaluation", func() error {
		if hook.mentions("Deployment/api/") != 1 || hook.count("NewFinding") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
}

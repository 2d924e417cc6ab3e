package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestAnUnreadFindingIsAlertedAsANewFinding (real API server): a namespace admin who pads a
// Deployment holding a literal credential past what the operator reads (256 KiB of env notes)
// leaves sec-literal-env-credentials unread on it: the criterion fails closed and the namespace
// turns NonCompliant, but the per-finding path took only Fail results, so no NewFinding alert
// named the workload, and soc2_operator_finding_opened_timestamp_seconds (which
// SOC2NewCriticalFinding reads) was not set: the one alert that says which workload hides what
// was never sent. An unread finding is alerted as a failure is, its result NotAssessed and its
// summary saying it was not assessed, with the message naming what was not read; it is sent once.
func TestAnUnreadFindingIsAlertedAsANewFinding(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "unread-alert", "unreadalert"
	hook := newReceiver(t, 0, false)
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, argvDeployment(ns, "clean", []string{"--port=8080"})); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		onlyChecks(p, "sec-literal-env-credentials")
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	if rep := waitWritten(t, ns, profile); rep.Status.Result != v1alpha1.Compliant {
		t.Fatalf("the baseline is %s, want Compliant", rep.Status.Result)
	}
	before := gaugeValue(t, metrics.FindingOpened.WithLabelValues(profile, ns, string(v1alpha1.SeverityHigh)))

	url := corev1.EnvVar{Name: "NOTES_URL", Value: "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)}
	hidden := envDeployment(ns, "hidden", url)
	if envCredentialFailure(hidden.DeepCopy()) == "" {
		t.Fatal("the whole Deployment hidden does not fail sec-literal-env-credentials: the test tests nothing")
	}
	if err := k8s.Create(ctx, hidden); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, ns+": NonCompliant on hidden's unread finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "sec-literal-env-credentials", "hidden", "app")
		if rep.Status.Result != v1alpha1.NonCompliant || f == nil || f.Result != v1alpha1.ResultNotAssessed {
			return fmt.Errorf("result %s, hidden's finding %+v", rep.Status.Result, f)
		}
		return nil
	})
	eventually(t, 20*time.Second, "a NewFinding alert on hidden, saying it was not read", func() error {
		for _, b := range hook.received() {
			if b["event"] != string(v1alpha1.AlertNewFinding) {
				continue
			}
			summary, msg := fmt.Sprint(b["summary"]), fmt.Sprint(b["message"])
			if !strings.Contains(summary, "/hidden (container app)") || b["result"] != string(v1alpha1.ResultNotAssessed) ||
				b["severity"] != string(v1alpha1.SeverityHigh) || !strings.Contains(summary, "not assessed") ||
				!strings.Contains(msg, "not read for literal credentials") {
				return fmt.Errorf("a NewFinding alert that does not name hidden's unread finding: %v", b)
			}
			return nil
		}
		return fmt.Errorf("no NewFinding alert; received %v", hook.received())
	})
	if hook.mentions("0 failing findings, 1 not read in full (failing closed)") != 1 {
		t.Errorf("no NamespaceNonCompliant alert saying why (one finding not read): %v", hook.received())
	}
	if got := gaugeValue(t, metrics.FindingOpened.WithLabelValues(profile, ns, string(v1alpha1.SeverityHigh))); got <= before {
		t.Errorf("soc2_operator_finding_opened_timestamp_seconds{severity=High} is %v, as before hidden (%v): SOC2NewCriticalFinding's kind of rule sees nothing new", got, before)
	}
	// The next unread finding is alerted on, and hidden's is not sent again.
	other := envDeployment(ns, "hidden-too", url)
	if err := k8s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "a NewFinding alert on hidden-too", func() error {
		if hook.mentions("/hidden-too (container app)") != 1 || hook.count(string(v1alpha1.AlertNewFinding)) != 2 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	if n := hook.mentions("/hidden (container app)"); n != 1 {
		t.Errorf("hidden's unread finding was alerted on %d times: %v", n, hook.received())
	}
}

// TestAListedUnreadFindingIsNewWithoutAKnownPreviousEvaluation: where the previous evaluation is
// not known (the first since a profile edit, or a restart without a journal), new findings are
// those the report lists that it did not list before: an unread one (NotAssessed, no exception)
// is new as a failure is, and one an exception waives (NotAssessed naming it) is not, nor one
// the previous report listed.
func TestAListedUnreadFindingIsNewWithoutAKnownPreviousEvaluation(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := func(name string, result v1alpha1.CheckResult, exception string) v1alpha1.Finding {
		return v1alpha1.Finding{Check: "sec-literal-env-credentials", Severity: v1alpha1.SeverityHigh, Result: result, Exception: exception,
			Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: name}, Container: "app"}
	}
	listed := []v1alpha1.Finding{f("unread", v1alpha1.ResultNotAssessed, ""), f("waived", v1alpha1.ResultNotAssessed, "shop/notes"),
		f("known", v1alpha1.ResultNotAssessed, ""), f("failing", v1alpha1.ResultFail, "")}
	prev := []v1alpha1.Finding{f("known", v1alpha1.ResultNotAssessed, "")}
	plan := engine.Compile(nil, nil)
	sum := plan.Evaluate(engine.NewInventory(nil, true), nil, engine.Options{Now: now}).Summary("shop")
	fresh, _ := freshFailures(sum, nil, false, listed, prev, 50, now)
	var names []string
	for _, x := range fresh {
		names = append(names, x.Resource.Name)
	}
	if fmt.Sprint(names) != "[unread failing]" {
		t.Errorf("new findings %v, want [unread failing]", names)
	}
}

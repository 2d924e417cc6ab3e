package restarttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// events are the event and resource name of each alert accepted.
func (s *sinkServer) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.alerts {
		res, _ := a["resource"].(map[string]any)
		out = append(out, fmt.Sprintf("%v %v", a["event"], res["name"]))
	}
	return out
}

// noSleep lets an alert's retries run at once.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// alertsSetAsideAtAStop runs an operator while the profile's only sink ("ops") refuses every
// attempt: a Deployment of ns turns privileged, its NewFinding and NamespaceNonCompliant alerts
// fail after the last attempt each (six, the default) and are set aside, and the operator stops.
// It returns the operators' clock, the sink (still down) and the option that lets retries run
// at once.
func alertsSetAsideAtAStop(t *testing.T, name, ns string) (*testingclock.FakeClock, *sinkServer, func(*controllers.Options)) {
	t.Helper()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	sink := newSinkServer(t)
	sink.down.Store(true)
	createNamespace(t, ns, name)
	if err := k8s.Create(context.Background(), deployment(ns, "app", false)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}
	})
	fast := func(o *controllers.Options) { o.AlertSleep = noSleep }
	first := startOperator(t, clk, nil, fast)
	waitReport(t, ns, name, "the baseline: Compliant", result(v1alpha1.Compliant))
	setPrivileged(t, ns, "app", true)
	waitReport(t, ns, name, "the privileged Deployment failing", result(v1alpha1.NonCompliant))
	testenv.Eventually(t, 30*time.Second, "every attempt of both alerts refused", func() error {
		if n := sink.attempts.Load(); n < 12 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	first.Stop()
	return clk, sink, fast
}

// TestAnAlertSetAsideIsDeliveredAfterARestart: a Deployment turned privileged while the
// profile's sink was down; its NewFinding alert failed after the last attempt and was set aside,
// to be offered again at the next full evaluations. The operator restarted (a rollout) before
// the sink came back: the set-aside alerts were held in memory only, and the new process, which
// finds the finding already in the report, never sent it (SOC2AlertsNotDelivered resolved with
// the counter's restart). What was not delivered is kept in the operator's namespace at the stop
// and delivered by the next process, once.
func TestAnAlertSetAsideIsDeliveredAfterARestart(t *testing.T) {
	const name, ns = "restart-setaside", "restart-setaside-a"
	clk, sink, fast := alertsSetAsideAtAStop(t, name, ns)

	sink.down.Store(false)
	n := fullEvaluations(t, name)
	resync := make(chan struct{})
	startOperator(t, clk, nil, fast, func(o *controllers.Options) { o.Resync = resync })
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "both alerts set aside delivered after the restart", func() error {
		if got := sink.events(); len(got) != 2 {
			return fmt.Errorf("accepted %v", got)
		}
		return nil
	})
	// Once each: a second full evaluation offers nothing again.
	n = fullEvaluations(t, name)
	clk.Step(time.Hour)
	resync <- struct{}{}
	waitFullEvaluation(t, name, n)
	got := sink.events()
	want := map[string]bool{"NewFinding app": true, "NamespaceNonCompliant <nil>": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
		t.Errorf("accepted %v, want NewFinding app and NamespaceNonCompliant once each", got)
	}
}

// TestAnAlertKeptForASinkRemovedMeanwhileIsNotSent: the alerts kept at the stop are for the
// sink that did not deliver them; the profile's sinks were edited while no operator ran (ops
// removed, audit added). The next process sends them to no other sink, and keeps them no more.
func TestAnAlertKeptForASinkRemovedMeanwhileIsNotSent(t *testing.T) {
	const name, ns = "restart-setaside-gone", "restart-setaside-gone-a"
	ctx := context.Background()
	clk, sink, fast := alertsSetAsideAtAStop(t, name, ns)
	audit := newSinkServer(t)
	kept := func() string {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-alerts"}, lease); err != nil {
			t.Fatal(err)
		}
		return lease.Annotations["pending.alerts.compliance.soc2-operator.io"]
	}
	if kept() == "" {
		t.Fatal("nothing kept at the stop")
	}

	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Alerts.Sinks = []v1alpha1.AlertSink{{Name: "audit", Type: v1alpha1.SinkWebhook, URL: audit.server.URL}}
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	sink.down.Store(false)
	n := fullEvaluations(t, name)
	second := startOperator(t, clk, nil, fast)
	waitFullEvaluation(t, name, n)
	second.Stop() // saves what is not delivered: nothing
	if got := audit.events(); len(got) != 0 {
		t.Errorf("sink audit got %v, kept for ops", got)
	}
	if got := sink.events(); len(got) != 0 {
		t.Errorf("the removed sink ops got %v", got)
	}
	if v := kept(); v != "" {
		t.Errorf("still kept: %d bytes", len(v))
	}
}

// TestAlertsKeptAcrossARestartArePendingUntilDelivered: the sink is still down after the restart.
// soc2_operator_alerts_total starts again from zero in the new process, and
// SOC2AlertsNotDelivered, which read it alone, resolved 15 minutes after the last drop the old
// process counted while the alerts it kept were still not delivered. The new process counts
// what it loaded in soc2_operator_alerts_pending until the sink takes it.
func TestAlertsKeptAcrossARestartArePendingUntilDelivered(t *testing.T) {
	const name, ns = "restart-pending", "restart-pending-a"
	clk, sink, fast := alertsSetAsideAtAStop(t, name, ns)
	pending := func() float64 {
		var m dto.Metric
		if err := metrics.AlertsPending.WithLabelValues(name, "ops").Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	}
	// A new process's series start from nothing.
	metrics.AlertsPending.Reset()

	attempts := sink.attempts.Load()
	n := fullEvaluations(t, name)
	resync := make(chan struct{})
	startOperator(t, clk, nil, fast, func(o *controllers.Options) { o.Resync = resync })
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 30*time.Second, "both kept alerts offered again and refused", func() error {
		if n := sink.attempts.Load(); n < attempts+12 {
			return fmt.Errorf("%d attempts after the restart", n-attempts)
		}
		return nil
	})
	testenv.Eventually(t, 20*time.Second, "soc2_operator_alerts_pending 2 while the sink is down", func() error {
		if got := pending(); got != 2 {
			return fmt.Errorf("soc2_operator_alerts_pending{profile=%q,sink=\"ops\"} is %v, want 2", name, got)
		}
		return nil
	})

	sink.down.Store(false)
	n = fullEvaluations(t, name)
	clk.Step(time.Hour)
	resync <- struct{}{}
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "both delivered and soc2_operator_alerts_pending 0", func() error {
		if got := sink.events(); len(got) != 2 {
			return fmt.Errorf("accepted %v", got)
		}
		if got := pending(); got != 0 {
			return fmt.Errorf("soc2_operator_alerts_pending is %v", got)
		}
		return nil
	})
}

// TestAPlainRestartDoesNotPageAlertsNotDelivered: the sink is up but slow (it holds each request
// until released) when a Deployment turns privileged, so the NewFinding and NamespaceNonCompliant
// alerts are on their way or queued when the operator stops cleanly (a rollout), and the sink is
// as slow when the next process starts. Nothing failed: SOC2AlertsNotDelivered, which fires on
// soc2_operator_alerts_total{result=~"dropped|failed"} or soc2_operator_alerts_pending above 0,
// must not fire. Before 3cdc830e the stopping process counted the alerts it kept as dropped and
// the next one counted them pending while it offered them again: a page at every rollout with
// alerts in flight. Here, with a real restart against the API server: neither counter moves in
// either process, the gauge stays 0 while the next process's attempt is held, and both alerts
// are delivered once the sink answers.
func TestAPlainRestartDoesNotPageAlertsNotDelivered(t *testing.T) {
	const name, ns = "restart-plain", "restart-plain-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	sink := newSinkServer(t)
	release := make(chan struct{})
	var held atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Read whole, so that the server notices a client that hangs up (a stopped process):
		// its request's context is done then, and it is not delivered late.
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		held.Add(1)
		select {
		case <-release:
		case <-req.Context().Done():
			return
		}
		sink.server.Config.Handler.ServeHTTP(w, req)
	}))
	t.Cleanup(slow.Close)
	late := func() (dropped, failed, pending float64) {
		for _, result := range []string{"dropped", "failed"} {
			for _, event := range []v1alpha1.AlertEvent{v1alpha1.AlertNewFinding, v1alpha1.AlertNamespaceNonCompliant} {
				var m dto.Metric
				if err := metrics.AlertsTotal.WithLabelValues(name, "ops", string(event), result).Write(&m); err != nil {
					t.Fatal(err)
				}
				if result == "dropped" {
					dropped += m.GetCounter().GetValue()
				} else {
					failed += m.GetCounter().GetValue()
				}
			}
		}
		var m dto.Metric
		if err := metrics.AlertsPending.WithLabelValues(name, "ops").Write(&m); err != nil {
			t.Fatal(err)
		}
		return dropped, failed, m.GetGauge().GetValue()
	}

	createNamespace(t, ns, name)
	if err := k8s.Create(ctx, deployment(ns, "app", false)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: slow.URL}}}
	})
	fast := func(o *controllers.Options) { o.AlertSleep = noSleep }
	first := startOperator(t, clk, nil, fast)
	waitReport(t, ns, name, "the baseline: Compliant", result(v1alpha1.Compliant))
	setPrivileged(t, ns, "app", true)
	waitReport(t, ns, name, "the privileged Deployment failing", result(v1alpha1.NonCompliant))
	testenv.Eventually(t, 30*time.Second, "an alert on its way to the slow sink", func() error {
		if held.Load() == 0 {
			return fmt.Errorf("no attempt yet")
		}
		return nil
	})
	first.Stop()
	if dropped, failed, pending := late(); dropped != 0 || failed != 0 || pending != 0 {
		t.Errorf("the stopping process counted dropped %v, failed %v, pending %v; want 0 each: it kept them for the next", dropped, failed, pending)
	}
	if got := sink.events(); len(got) != 0 {
		t.Fatalf("delivered before the restart: %v", got)
	}

	// A new process's series start from nothing.
	metrics.AlertsTotal.Reset()
	metrics.AlertsPending.Reset()
	attempts := held.Load()
	n := fullEvaluations(t, name)
	startOperator(t, clk, nil, fast)
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 30*time.Second, "the next process offering the kept alerts to the slow sink", func() error {
		if held.Load() <= attempts {
			return fmt.Errorf("no attempt after the restart")
		}
		return nil
	})
	if dropped, failed, pending := late(); dropped != 0 || failed != 0 || pending != 0 {
		t.Errorf("after a plain restart, the sink slow but up: dropped %v, failed %v, pending %v; want 0 each (SOC2AlertsNotDelivered would page)", dropped, failed, pending)
	}
	close(release)
	testenv.Eventually(t, 30*time.Second, "both alerts delivered", func() error {
		if got := sink.events(); len(got) != 2 {
			return fmt.Errorf("accepted %v", got)
		}
		return nil
	})
	if dropped, failed, pending := late(); dropped != 0 || failed != 0 || pending != 0 {
		t.Errorf("once delivered: dropped %v, failed %v, pending %v; want 0 each", dropped, failed, pending)
	}
}

package restarttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// count is how many alerts of the event the sink accepted.
func (s *sinkServer) count(event v1alpha1.AlertEvent) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.alerts {
		if a["event"] == string(event) {
			n++
		}
	}
	return n
}

// eventOn is nil when the namespace has an Event of the reason regarding the named object.
func eventOn(ctx context.Context, ns, name, reason string) error {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			return nil
		}
		seen = append(seen, e.Regarding.Name+":"+e.Reason)
	}
	return fmt.Errorf("no %s Event on %s/%s; Events: %v", reason, ns, name, seen)
}

// waiverWithAlerts makes namespace ns, selected by profile name (wl-privileged only, alerting
// sink), with Deployment app privileged and excepted by an approved exception expiring after
// expires, and returns the exception once the report says the finding is excepted.
func waiverWithAlerts(t *testing.T, op *operator, clk *testingclock.FakeClock, name, ns string, sink *sinkServer, expires time.Duration) *v1alpha1.ControlException {
	t.Helper()
	ctx := context.Background()
	waitReport(t, ns, name, "the first report", result(v1alpha1.NonCompliant))
	if err := testenv.WaitAdmissionPolicies(ctx, k8s, adminNamespace, testenv.VerifierTrusts(op.approval)); err != nil {
		t.Fatal(err)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "privileged-app", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"app"}},
			Reason: "The agent loads a kernel module until the node image ships it.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(expires)),
		},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	waitReport(t, ns, name, "the finding excepted", excepted("app"))
	testenv.Eventually(t, 20*time.Second, "the exception Active", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil || got.Status.State != v1alpha1.ExceptionActive {
			return fmt.Errorf("%v %q", err, got.Status.State)
		}
		return nil
	})
	return ex
}

func waiverProfile(t *testing.T, name, ns string, sink *sinkServer) {
	t.Helper()
	createNamespace(t, ns, name)
	if err := k8s.Create(context.Background(), deployment(ns, "app", true)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}
	})
}

// TestAnExceptionDeletedWhileTheOperatorWasDownIsRevoked: a namespace admin deleted an Active
// exception while no operator ran (a rollout, a failover). The deletion was never seen: the
// waived finding came back as NewFinding, but no ExceptionRevoked alert or Event said which
// waiver went, whose it was or what it waived (e8254d05 sends them only for a deletion the
// running process sees). The exceptions last judged Active are kept in the operator's
// namespace, and the next process revokes, once, those that no longer exist; the journal
// records exception.revoked. A further restart sends nothing again.
func TestAnExceptionDeletedWhileTheOperatorWasDownIsRevoked(t *testing.T) {
	const name, ns = "restart-revoked", "restart-revoked-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	sink := newSinkServer(t)
	waiverProfile(t, name, ns, sink)
	first := startOperator(t, clk, store)
	ex := waiverWithAlerts(t, first, clk, name, ns, sink, 30*24*time.Hour)
	clk.Step(time.Minute)
	first.Stop()

	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Hour)
	n := fullEvaluations(t, name)
	second := startOperator(t, clk, store)
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "an ExceptionRevoked alert and Event", func() error {
		if got := sink.count(v1alpha1.AlertExceptionRevoked); got != 1 {
			return fmt.Errorf("%d ExceptionRevoked; accepted %v", got, sink.events())
		}
		return eventOn(ctx, ns, ex.Name, controllers.EventExceptionRevoked)
	})
	eventuallyRecord(t, store, "exception.revoked in the journal", func(r journal.Record) bool {
		return r.Type == journal.ExceptionRevoked && r.Namespace == ns && r.Exception != nil && r.Exception.Name == ex.Name
	})
	second.Stop()

	n = fullEvaluations(t, name)
	startOperator(t, clk, store)
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "the NewFinding alert on app", func() error {
		if sink.count(v1alpha1.AlertNewFinding) == 0 {
			return fmt.Errorf("accepted %v", sink.events())
		}
		return nil
	})
	if got := sink.count(v1alpha1.AlertExceptionRevoked); got != 1 || sink.count(v1alpha1.AlertExceptionExpired) != 0 {
		t.Errorf("accepted %v, want one ExceptionRevoked and no ExceptionExpired", sink.events())
	}
}

// TestAnExceptionThatExpiredAndWasDeletedWhileTheOperatorWasDownExpired: an Active exception's
// expiry passed while no operator ran, and it was deleted. Its waiver ended at its expiry
// whenever it was deleted: the next process sends ExceptionExpired and an ExceptionExpired
// Event, not ExceptionRevoked, and the journal records exception.expired at the expiry (it
// recorded exception.revoked at the restart, a waiver in force for 100 hours more than it was).
func TestAnExceptionThatExpiredAndWasDeletedWhileTheOperatorWasDownExpired(t *testing.T) {
	const name, ns = "restart-expired", "restart-expired-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	sink := newSinkServer(t)
	waiverProfile(t, name, ns, sink)
	first := startOperator(t, clk, store)
	ex := waiverWithAlerts(t, first, clk, name, ns, sink, 100*time.Hour)
	expiry := ex.Spec.Expires.Time
	eventuallyRecord(t, store, "exception.requested in the journal", func(r journal.Record) bool {
		return r.Type == journal.ExceptionRequested && r.Namespace == ns && r.Exception != nil && r.Exception.Name == ex.Name
	})
	first.Stop()

	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	clk.Step(200 * time.Hour)
	n := fullEvaluations(t, name)
	startOperator(t, clk, store)
	waitFullEvaluation(t, name, n)
	eventuallyRecord(t, store, "exception.expired at the expiry in the journal", func(r journal.Record) bool {
		return r.Type == journal.ExceptionExpired && r.Namespace == ns && r.Exception != nil && r.Exception.Name == ex.Name && r.Time.Equal(expiry)
	})
	for _, r := range records(t, store) {
		if r.Type == journal.ExceptionRevoked && r.Namespace == ns {
			t.Errorf("the journal recorded exception.revoked at %s for an exception that expired at %s", r.Time.Format(time.RFC3339), expiry.Format(time.RFC3339))
		}
	}
	testenv.Eventually(t, 20*time.Second, "an ExceptionExpired alert and Event", func() error {
		if got := sink.count(v1alpha1.AlertExceptionExpired); got != 1 {
			return fmt.Errorf("%d ExceptionExpired; accepted %v", got, sink.events())
		}
		return eventOn(ctx, ns, ex.Name, controllers.EventExceptionExpired)
	})
	if got := sink.count(v1alpha1.AlertExceptionRevoked); got != 0 {
		t.Errorf("accepted %v, want no ExceptionRevoked", sink.events())
	}
}

// TestAnExceptionDeletedAndCreatedAgainWhileTheOperatorWasDownIsRevoked: the namespace admin
// deleted the Active exception and created another under its name while no operator ran (not
// approved: it waives nothing). The first was revoked and nothing said so: the new process
// judged the new object under the name as if it were the old one. It sends ExceptionRevoked for
// the one that went.
func TestAnExceptionDeletedAndCreatedAgainWhileTheOperatorWasDownIsRevoked(t *testing.T) {
	const name, ns = "restart-recreated", "restart-recreated-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	sink := newSinkServer(t)
	waiverProfile(t, name, ns, sink)
	first := startOperator(t, clk, nil)
	ex := waiverWithAlerts(t, first, clk, name, ns, sink, 30*24*time.Hour)
	first.Stop()

	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	again := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: ex.Name, Namespace: ns}, Spec: ex.Spec}
	if err := k8s.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Hour)
	n := fullEvaluations(t, name)
	startOperator(t, clk, nil)
	waitFullEvaluation(t, name, n)
	testenv.Eventually(t, 20*time.Second, "an ExceptionRevoked alert and Event", func() error {
		if got := sink.count(v1alpha1.AlertExceptionRevoked); got != 1 {
			return fmt.Errorf("%d ExceptionRevoked; accepted %v", got, sink.events())
		}
		return eventOn(ctx, ns, ex.Name, controllers.EventExceptionRevoked)
	})
}

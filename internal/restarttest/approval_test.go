package restarttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestARestartKeepsApprovedExceptions: a privileged Deployment is covered by an approved
// exception, and its report says Excepted. A restarted operator has not yet checked its
// admission policies when it first evaluates, and trusts no approval until it has: if it
// evaluated then, the finding turned Fail, the report NonCompliant and the journal recorded the
// exception lifted and CC6.1 failing, then all of it back a moment later, at every restart and
// failover: a failure that never happened in the evidence, and an alert on it.
func TestARestartKeepsApprovedExceptions(t *testing.T) {
	const name, ns = "restart-approved", "restart-approved-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	createNamespace(t, ns, name)
	if err := k8s.Create(ctx, deployment(ns, "app", true)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})

	first := startOperator(t, clk, store)
	waitReport(t, ns, name, "the first report", result(v1alpha1.NonCompliant))
	if err := testenv.WaitAdmissionPolicies(ctx, k8s, adminNamespace, testenv.VerifierTrusts(first.approval)); err != nil {
		t.Fatal(err)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "privileged-app", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"app"}},
			Reason: "The agent loads a kernel module until the node image ships it.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
		},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	waitReport(t, ns, name, "the finding excepted", excepted("app"))
	first.Stop()

	// Every result the report shows from now on.
	var mu sync.Mutex
	var seen []string
	w, err := watchReport(ctx, ns, name, func(rep *v1alpha1.ComplianceReport) {
		mu.Lock()
		defer mu.Unlock()
		// Down an hour each time, over twice the interval: until its first evaluation, the
		// restarted operator says so (Unknown, EvaluationOverdue); it must never say more.
		if c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); rep.Status.Result == v1alpha1.Unknown &&
			c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1alpha1.ReasonEvaluationOverdue {
			return
		}
		seen = append(seen, fmt.Sprintf("%s (rv %s)", rep.Status.Result, rep.ResourceVersion))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w()
	var states []string
	wx, err := watchException(ctx, ns, ex.Name, func(ex *v1alpha1.ControlException) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, string(ex.Status.State))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer wx()

	for i := range 3 { // three restarts: the race is the policies' check against the first evaluation
		clk.Step(time.Hour)
		n := fullEvaluations(t, name)
		op := startOperator(t, clk, store)
		waitFullEvaluation(t, name, n)
		waitReport(t, ns, name, fmt.Sprintf("the finding excepted after restart %d", i+1), excepted("app"))
		time.Sleep(time.Second) // a resync after the policies' check, if one is due
		op.Stop()
	}

	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if s[:len(v1alpha1.Compliant)] != string(v1alpha1.Compliant) {
			t.Errorf("the report said %s after a restart; every result it showed: %v", s, seen)
			break
		}
	}
	for _, s := range states {
		if s != string(v1alpha1.ExceptionActive) {
			t.Errorf("the exception said %s after a restart; every state it showed: %v", s, states)
			break
		}
	}
	for _, r := range records(t, store) {
		if r.Namespace == ns && (r.Type == journal.FindingUnexcepted || r.Type == journal.CriterionChanged && r.Criterion.To == "Fail" && r.Time.After(clk.Now().Add(-3*time.Hour))) {
			t.Errorf("the journal recorded %s at %s after a restart; records:\n%s", r.Type, r.Time.Format(time.RFC3339), describe(records(t, store)))
			break
		}
	}
}

// excepted says the wl-privileged finding on Deployment name is Excepted.
func excepted(name string) func(*v1alpha1.ComplianceReport) error {
	return func(rep *v1alpha1.ComplianceReport) error {
		for _, f := range rep.Status.Findings {
			if f.Check == "wl-privileged" && f.Resource.Name == name {
				if f.Result != v1alpha1.ResultExcepted {
					return fmt.Errorf("finding %s", f.Result)
				}
				return nil
			}
		}
		return fmt.Errorf("no wl-privileged finding on %s (result %s)", name, rep.Status.Result)
	}
}

// watchReport calls seen with every version of the report written from now on; the returned
// function stops the watch.
func watchReport(ctx context.Context, ns, name string, seen func(*v1alpha1.ComplianceReport)) (func(), error) {
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	w, err := wc.Watch(ctx, &v1alpha1.ComplianceReportList{}, client.InNamespace(ns))
	if err != nil {
		return nil, err
	}
	go func() {
		for ev := range w.ResultChan() {
			if rep, ok := ev.Object.(*v1alpha1.ComplianceReport); ok && rep.Name == name {
				seen(rep)
			}
		}
	}()
	return w.Stop, nil
}

// watchException calls seen with every version of the exception written from now on; the
// returned function stops the watch.
func watchException(ctx context.Context, ns, name string, seen func(*v1alpha1.ControlException)) (func(), error) {
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	w, err := wc.Watch(ctx, &v1alpha1.ControlExceptionList{}, client.InNamespace(ns))
	if err != nil {
		return nil, err
	}
	go func() {
		for ev := range w.ResultChan() {
			if ex, ok := ev.Object.(*v1alpha1.ControlException); ok && ex.Name == name {
				seen(ex)
			}
		}
	}()
	return w.Stop, nil
}

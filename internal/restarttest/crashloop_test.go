package restarttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/report"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// stuckFirstSeen holds every evaluation of profile at its first report write until released:
// an operator that never completes its first full evaluation (it dies first, in a crash loop).
type stuckFirstSeen struct {
	report.FirstSeenStore
	profile string
	release chan struct{}
	once    sync.Once
}

func (s *stuckFirstSeen) Record(profile, namespace string, findings []v1alpha1.Finding, persists func(string) bool, now time.Time) {
	if profile == s.profile {
		<-s.release
	}
	s.FirstSeenStore.Record(profile, namespace, findings, persists, now)
}

func (s *stuckFirstSeen) Release() { s.once.Do(func() { close(s.release) }) }

// TestACrashLoopDoesNotLeaveReportsCurrent: an operator wrote Compliant reports and stopped;
// every process since dies before its first full evaluation completes (an OOM on a cluster that
// grew, a bad upgrade). An unchanged report is not written, so lastEvaluated says when its
// content was produced, not until when it was confirmed; the watchdog marks overdue only what
// its own process evaluated, and dies first. The reports said Stale=False, "nothing changed
// since", for as long as the loop lasted. A process that starts now marks stale, before it
// evaluates, the reports no evaluation confirmed in twice their interval; a restart within
// that time marks nothing.
func TestACrashLoopDoesNotLeaveReportsCurrent(t *testing.T) {
	const name = "crashloop"
	namespaces := []string{"crashloop-a", "crashloop-b"}
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	for _, ns := range namespaces {
		createNamespace(t, ns, name)
		if err := k8s.Create(context.Background(), deployment(ns, "app", false)); err != nil {
			t.Fatal(err)
		}
	}
	privilegedProfile(t, name)

	// A healthy operator, running for an hour: it evaluates, and records that it did. Nothing
	// changes, so the reports keep the lastEvaluated of its first evaluation.
	n := fullEvaluations(t, name)
	resync := make(chan struct{}, 1)
	first := startOperator(t, clk, nil, func(o *controllers.Options) { o.Resync = resync })
	waitFullEvaluation(t, name, n)
	waitVouched(t, clk.Now())
	clk.Step(time.Hour)
	resync <- struct{}{}
	waitVouched(t, clk.Now())
	for _, ns := range namespaces {
		waitReport(t, ns, name, "the first operator's Compliant report", result(v1alpha1.Compliant))
	}
	first.Stop()

	// A restart five minutes later (an upgrade): nothing is marked stale, not even for a moment,
	// though the reports' content is an hour old.
	clk.Step(5 * time.Minute)
	n = fullEvaluations(t, name)
	seen := watchReports(t, namespaces, name)
	second := startOperator(t, clk, nil)
	waitFullEvaluation(t, name, n)
	for _, ns := range namespaces {
		waitReport(t, ns, name, "the report after an upgrade", result(v1alpha1.Compliant))
	}
	second.Stop()
	for _, s := range seen() {
		if s != "False/UpToDate" {
			t.Errorf("after a restart within the interval, a report was written with Stale %s", s)
		}
	}

	// Then a crash loop for half an hour (the profile's interval is 10 minutes): the process
	// running now never gets past its first report write.
	clk.Step(30 * time.Minute)
	stuck := &stuckFirstSeen{FirstSeenStore: report.NewMemoryFirstSeen(), profile: name, release: make(chan struct{})}
	t.Cleanup(stuck.Release) // before the operator's stop (cleanups run last in, first out)
	third := startOperator(t, clk, nil, func(o *controllers.Options) { o.FirstSeen = stuck })
	for _, ns := range namespaces {
		waitReport(t, ns, name, ns+" marked stale, no evaluation having confirmed it for 30 minutes", func(rep *v1alpha1.ComplianceReport) error {
			c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale)
			if c == nil || c.Status != "True" || c.Reason != v1alpha1.ReasonEvaluationOverdue || rep.Status.Result != v1alpha1.Unknown {
				return fmt.Errorf("result %s, Stale %+v", rep.Status.Result, c)
			}
			return nil
		})
	}
	// Once an evaluation completes, the reports are current again.
	stuck.Release()
	for _, ns := range namespaces {
		waitReport(t, ns, name, ns+" current again", func(rep *v1alpha1.ComplianceReport) error {
			if rep.Status.Result != v1alpha1.Compliant || !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
				return fmt.Errorf("result %s, Stale %s", rep.Status.Result, staleCondition(rep))
			}
			return nil
		})
	}
	third.Stop()
}

// waitVouched waits until the Lease records a full evaluation of the crashloop profile at at.
func waitVouched(t *testing.T, at time.Time) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the evaluation of "+at.UTC().Format(time.RFC3339)+" recorded on the Lease", func() error {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-evaluations"}, lease); err != nil {
			return err
		}
		if got := lease.Annotations["evaluated.compliance.soc2-operator.io/crashloop"]; got != at.UTC().Format(time.RFC3339) {
			return fmt.Errorf("annotations %v", lease.Annotations)
		}
		return nil
	})
}

// staleCondition is the report's Stale condition's status and reason.
func staleCondition(rep *v1alpha1.ComplianceReport) string {
	c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale)
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("%s/%s", c.Status, c.Reason)
}

// watchReports watches the profile's reports in the namespaces from now on; the function it
// returns stops the watch and says the Stale condition of every version written meanwhile.
func watchReports(t *testing.T, namespaces []string, profile string) func() []string {
	t.Helper()
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	var watches []watch.Interface
	var wg sync.WaitGroup
	for _, ns := range namespaces {
		list := &v1alpha1.ComplianceReportList{}
		if err := c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		w, err := c.Watch(context.Background(), &v1alpha1.ComplianceReportList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			t.Fatal(err)
		}
		watches = append(watches, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range w.ResultChan() {
				if rep, ok := ev.Object.(*v1alpha1.ComplianceReport); ok && rep.Name == profile {
					mu.Lock()
					seen = append(seen, staleCondition(rep))
					mu.Unlock()
				}
			}
		}()
	}
	return func() []string {
		for _, w := range watches {
			w.Stop()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			t.Errorf("no report was written after the restart (the first evaluation of a process writes them)")
		}
		return seen
	}
}

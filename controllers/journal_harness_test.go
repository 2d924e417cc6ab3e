package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// journalHarness drives the journal hook, without a reconciler, through operators run one after
// another on one journal (a file store, cluster "own"): each opens the chain, restores the state
// from it, sees the profile (only wl-privileged enabled), does what the test asks, journals a
// heartbeat and stops. Namespace team-a has one Deployment, api, privileged or not.
type journalHarness struct {
	t       *testing.T
	store   journal.Store
	profile *v1alpha1.ComplianceProfile
	plan    *engine.Plan
	// now is the time of the evaluations the test observes, which it steps.
	now time.Time
	// hookClock, when set, is the clock of the hook run starts (the real clock otherwise).
	hookClock clock.Clock
}

// nowClock is a clock that reads now (the harness's, as a test steps it), the real clock for
// the rest.
type nowClock struct {
	clock.RealClock
	now func() time.Time
}

func (c nowClock) Now() time.Time                  { return c.now() }
func (c nowClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }

func newJournalHarness(t *testing.T, profile string) *journalHarness {
	t.Helper()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: profile, Generation: 1}}
	onlyCheck(p, "wl-privileged")
	return &journalHarness{t: t, store: store, profile: p, plan: engine.Compile(checks.Catalogue(), p), now: time.Now().Truncate(time.Second)}
}

// evaluate evaluates team-a with its Deployment api privileged or not.
func (jh *journalHarness) evaluate(privileged bool) *engine.Evaluation {
	d := deployment("team-a", "api", privileged)
	return jh.plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
		engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
}

// anHourAhead is an operator clock an hour ahead of the wall clock: ahead of evaluations a
// minute apart from now.
func anHourAhead() time.Time { return time.Now().Add(time.Hour) }

// atNow is an operator clock that reads jh.now, as the test steps it.
func (jh *journalHarness) atNow() time.Time { return jh.now }

// run starts an operator whose journal is dated by clock, calls do with its hook once the state
// is restored and the profile seen, journals a heartbeat at jh.now (as do left it), and stops it.
func (jh *journalHarness) run(clk func() time.Time, do func(ctx context.Context, h *journalHook)) {
	t := jh.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q, err := journal.NewQueue(journal.QueueOptions{Store: jh.store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test", Now: clk})
	if err != nil {
		t.Fatal(err)
	}
	var hc clock.Clock = clock.RealClock{}
	if jh.hookClock != nil {
		hc = jh.hookClock
	}
	h := newJournalHook(q, hc, time.Hour)
	stopped := make(chan struct{})
	go func() { _ = q.Start(ctx); close(stopped) }()
	<-q.Ready()
	h.profileSeen(ctx, jh.profile)
	do(ctx, h)
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: jh.now}) {
		t.Fatal("the journal was not written")
	}
	cancel()
	<-stopped
}

// records are the journal's records of the profile and team-a, in chain order.
func (jh *journalHarness) records() []journal.Record {
	jh.t.Helper()
	return namespaceRecords(jh.t, jh.store, jh.profile.Name, "team-a")
}

// opened is the finding of the latest finding.opened record (nil: none).
func (jh *journalHarness) opened() *journal.Finding {
	jh.t.Helper()
	var opened *journal.Finding
	for _, r := range jh.records() {
		if r.Type == journal.FindingOpened {
			opened = r.Finding
		}
	}
	return opened
}

// reopened is the finding of the latest finding.closed record, and of the latest finding.opened
// after it (nil: none).
func (jh *journalHarness) reopened() (closed, again *journal.Finding) {
	jh.t.Helper()
	for _, r := range jh.records() {
		switch {
		case r.Type == journal.FindingClosed:
			closed, again = r.Finding, nil
		case r.Type == journal.FindingOpened && closed != nil:
			again = r.Finding
		}
	}
	return closed, again
}

// shownAsOpened is the report's finding as the operator writes it from the opening f: first
// seen at f's time.
func shownAsOpened(f *journal.Finding) []v1alpha1.Finding {
	return []v1alpha1.Finding{{Check: f.Check, Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: f.Kind, Name: f.Name},
		Container: f.Container, FirstSeen: &metav1.Time{Time: f.FirstSeen}}}
}

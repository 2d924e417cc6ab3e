package alert

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// memStore is a Store in memory, shared by the dispatchers of a test as processes share the
// operator's namespace.
type memStore struct {
	mu      sync.Mutex
	pending []Pending
	saves   int
}

func (m *memStore) Load(context.Context) ([]Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.pending), nil
}

func (m *memStore) Save(_ context.Context, p []Pending) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending, m.saves = slices.Clone(p), m.saves+1
	return nil
}

func (m *memStore) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, p := range m.pending {
		out = append(out, p.Sink+":"+p.Alert.Key)
	}
	slices.Sort(out)
	return out
}

// TestWhatASinkDidNotDeliverIsKeptForTheNextProcess: the first process set one alert aside
// (its queue full) and stopped; without a store the alert was lost for good. It is kept, and
// the next process delivers it once to the sink of the same name, and not to a sink that does
// not take its event.
func TestWhatASinkDidNotDeliverIsKeptForTheNextProcess(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	store := &memStore{}
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.QueueSize, opts.Store = 2, store
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	for i, k := range []string{"a", "b", "c"} {
		a := finding(profile, k, v1alpha1.SeverityCritical)
		a.Namespace = fmt.Sprintf("team-%d", i)
		d.Send(a) // c is set aside: the queue of 2 is full
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	rcv.keysUntil(t, "b")
	eventually(t, "a and b delivered", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.profiles[profile].sinks["hook"].pending) == 0
	})
	cancel() // before a full evaluation's Retry offers c again
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := store.keys(); !slices.Equal(got, []string{"hook:c"}) {
		t.Fatalf("kept %v, want hook:c", got)
	}

	next := NewDispatcher(opts)
	start(t, next)
	other := newReceiver(t, nil)
	next.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL),
		webhook("expiries", other.URL, v1alpha1.AlertExceptionExpired)}})
	if got := rcv.next(t).key(); got != "c" {
		t.Errorf("The next process delivered %q, want c", got)
	}
	next.Send(finding(profile, "c", v1alpha1.SeverityCritical)) // identified again: not sent again
	next.Send(finding(profile, "d", v1alpha1.SeverityCritical))
	if got := rcv.next(t).key(); got != "d" {
		t.Errorf("Then %q, want d (c once)", got)
	}
	select {
	case r := <-other.requests:
		t.Errorf("The sink that takes only ExceptionExpired got %q", r.key())
	default:
	}
}

// TestTheAlertsKeptAreBoundedTheMostSevereFirst: what does not fit is left out, the least
// severe first, and the rest reads back as it was.
func TestTheAlertsKeptAreBoundedTheMostSevereFirst(t *testing.T) {
	var pending []Pending
	for i := range 400 {
		sev := v1alpha1.SeverityLow
		if i%4 == 0 {
			sev = v1alpha1.SeverityCritical
		}
		a := finding("p", fmt.Sprintf("k%03d", i), sev)
		a.Message = fmt.Sprintf("message %d with some words a receiver reads", i*7919)
		pending = append(pending, Pending{Sink: "hook", Alert: a})
	}
	all, left, err := EncodePending(pending, 1<<20)
	if err != nil || len(left) != 0 {
		t.Fatalf("within 1 MiB: left %d, err %v", len(left), err)
	}
	back, err := DecodePending(all)
	if err != nil || len(back) != len(pending) {
		t.Fatalf("read back %d of %d: %v", len(back), len(pending), err)
	}
	if got, want := back[0].Alert, pending[0].Alert; got.Key != want.Key || !got.Time.Equal(want.Time) || got.Resource != want.Resource ||
		got.Message != want.Message || got.Severity != want.Severity {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	max := len(all) / 3
	some, left, err := EncodePending(pending, max)
	if err != nil || len(some) > max || len(left) == 0 {
		t.Fatalf("within %d bytes: %d bytes, left %d, err %v", max, len(some), len(left), err)
	}
	kept, _ := DecodePending(some)
	if len(kept) < 100 {
		t.Fatalf("kept %d, want at least the 100 Critical", len(kept))
	}
	for _, p := range kept[:100] {
		if p.Alert.Severity != v1alpha1.SeverityCritical {
			t.Fatalf("kept %s (%s) before a Critical one", p.Alert.Key, p.Alert.Severity)
		}
	}
	for _, p := range left {
		if p.Alert.Severity == v1alpha1.SeverityCritical {
			t.Fatalf("left out Critical %s", p.Alert.Key)
		}
	}
}

// TestOneNamespacesBurstDoesNotPushAnotherOutOfWhatIsKept: a tenant's thousand Critical alerts
// set aside do not take the place of another namespace's one Critical alert, newer than all.
func TestOneNamespacesBurstDoesNotPushAnotherOutOfWhatIsKept(t *testing.T) {
	var pending []Pending
	for i := range 1000 {
		a := finding("p", fmt.Sprintf("noisy-%04d", i), v1alpha1.SeverityCritical)
		a.Namespace, a.Message = "noisy", fmt.Sprintf("message %d", i*7919)
		pending = append(pending, Pending{Sink: "hook", Alert: a})
	}
	quiet := finding("p", "quiet", v1alpha1.SeverityCritical)
	quiet.Namespace, quiet.Time = "quiet", testNow.Add(time.Hour)
	pending = append(pending, Pending{Sink: "hook", Alert: quiet})
	data, left, err := EncodePending(pending, 2048)
	if err != nil || len(left) == 0 {
		t.Fatalf("left %d, err %v: the bound is too large for the test", len(left), err)
	}
	kept, _ := DecodePending(data)
	if !slices.ContainsFunc(kept, func(p Pending) bool { return p.Alert.Key == "quiet" }) {
		t.Errorf("kept %d of noisy's alerts and not quiet's", len(kept))
	}
}

// unreadableStore is a memStore whose Load fails.
type unreadableStore struct{ memStore }

func (u *unreadableStore) Load(context.Context) ([]Pending, error) {
	return nil, fmt.Errorf("the API server is unreachable")
}

// TestWhatWasKeptIsNotReplacedBeforeItIsRead: a process that could not read what the previous
// one kept saved its own alerts over it at the stop, and the previous process's were lost for
// good. Nothing is saved before the read succeeds; the stop logs this process's as lost.
func TestWhatWasKeptIsNotReplacedBeforeItIsRead(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	store := &unreadableStore{}
	store.pending = []Pending{{Sink: "hook", Alert: finding(profile, "kept-before", v1alpha1.SeverityCritical)}}
	logs := &logBuffer{}
	opts := testOptions(&sleeper{}, logs)
	opts.QueueSize, opts.Store = 1, store
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	d.Send(finding(profile, "a", v1alpha1.SeverityCritical))
	d.Send(finding(profile, "b", v1alpha1.SeverityCritical)) // set aside: the queue of 1 is full
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	rcv.keysUntil(t, "a")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.saves != 0 || len(store.pending) != 1 || store.pending[0].Alert.Key != "kept-before" {
		t.Errorf("%d saves; kept %v, want the previous process's kept-before", store.saves, store.pending)
	}
	if !strings.Contains(logs.String(), "Alerts lost") {
		t.Errorf("b's loss is not logged:\n%s", logs)
	}
}

// pendingGauge is the value of soc2_operator_alerts_pending for the labels.
func pendingGauge(profile, sink string) int {
	var m dto.Metric
	if err := metrics.AlertsPending.WithLabelValues(profile, sink).Write(&m); err != nil {
		panic(err)
	}
	return int(m.GetGauge().GetValue())
}

// TestTheAlertsKeptAreCountedPendingUntilDelivered: the previous process kept two alerts its
// sink did not deliver, and the sink is still down. soc2_operator_alerts_total starts again
// from zero in this process and counted no drop, so SOC2AlertsNotDelivered resolved while the
// alerts were still late. soc2_operator_alerts_pending counts them while they are set aside and
// while they are offered again, until the sink takes them, and its series goes with the sink.
func TestTheAlertsKeptAreCountedPendingUntilDelivered(t *testing.T) {
	profile := profileName(t)
	var up atomic.Bool
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		<-release
	})
	store := &memStore{}
	for _, k := range []string{"a", "b"} {
		store.pending = append(store.pending, Pending{Sink: "hook", Alert: finding(profile, k, v1alpha1.SeverityCritical)})
	}
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.Store, opts.Retry.Attempts = store, 1
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)
	rcv.next(t)
	rcv.next(t)
	eventually(t, "both failed and set aside", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		s := d.profiles[profile].sinks["hook"]
		return len(s.parked) == 2 && len(s.pending) == 0
	})
	if got := pendingGauge(profile, "hook"); got != 2 {
		t.Fatalf("soc2_operator_alerts_pending is %d with two alerts kept and set aside, want 2", got)
	}
	if got := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDropped); got != 0 {
		t.Fatalf("dropped %d in this process, want 0: the counter cannot say they are late", got)
	}
	up.Store(true)
	d.Retry(profile)
	rcv.next(t) // the first is on its way, the receiver holds it
	if got := pendingGauge(profile, "hook"); got != 2 {
		t.Errorf("soc2_operator_alerts_pending is %d while the alerts are offered again, want 2", got)
	}
	close(release)
	rcv.next(t)
	eventually(t, "soc2_operator_alerts_pending is 0 once both are delivered", func() bool {
		return pendingGauge(profile, "hook") == 0
	})
	d.Configure(profile, nil)
	if metrics.AlertsPending.DeletePartialMatch(prometheus.Labels{"profile": profile}) != 0 {
		t.Errorf("the series of sink hook stayed after the sink was removed")
	}
}

// TestAPlainRestartDoesNotCountTheQueuedAlertsLate: the first process stopped (a rollout) with
// three alerts queued or on their way, none set aside: its sink was slow, not failing. They are
// kept for the next process, which counted them in soc2_operator_alerts_pending as if set aside,
// so SOC2AlertsNotDelivered, which reads its last value within 5 minutes, paged for about 5
// minutes after a plain restart; and the stopping process counted them dropped in
// soc2_operator_alerts_total (which the rule also reads) though they were kept. An alert kept
// as queued is not late, in either process, until it fails in the next; one kept as set aside
// still is (TestTheAlertsKeptAreCountedPendingUntilDelivered).
func TestAPlainRestartDoesNotCountTheQueuedAlertsLate(t *testing.T) {
	profile := profileName(t)
	hold := make(chan struct{})
	slow := newReceiver(t, func(http.ResponseWriter, *http.Request, []byte) { <-hold })
	store := &memStore{}
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.Store = store
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", slow.URL)}})
	for _, k := range []string{"a", "b", "c"} {
		d.Send(finding(profile, k, v1alpha1.SeverityCritical))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	slow.next(t) // a on its way, b and c queued
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(hold)
	if got := store.keys(); !slices.Equal(got, []string{"hook:a", "hook:b", "hook:c"}) {
		t.Fatalf("kept %v, want a b c", got)
	}
	if got := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDropped); got != 0 {
		t.Errorf("the stopping process counted %d alerts dropped, though it kept them", got)
	}
	if got := pendingGauge(profile, "hook"); got != 0 {
		t.Errorf("soc2_operator_alerts_pending is %d in the stopping process, want 0", got)
	}

	// The next process: its sink holds what it receives, then fails it.
	var failing atomic.Bool
	release := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		<-release
	})
	opts.Retry.Attempts = 1
	next := NewDispatcher(opts)
	next.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, next)
	rcv.next(t) // loaded and offered: the first on its way
	if got := pendingGauge(profile, "hook"); got != 0 {
		t.Errorf("soc2_operator_alerts_pending is %d after a plain restart, want 0 (none was set aside)", got)
	}
	// A real failure in this process still counts: the first is delivered, the other two fail,
	// are set aside, and are late.
	failing.Store(true)
	close(release)
	eventually(t, "two failed and set aside", func() bool {
		next.mu.Lock()
		defer next.mu.Unlock()
		s := next.profiles[profile].sinks["hook"]
		return len(s.parked) == 2 && len(s.pending) == 0
	})
	if got := pendingGauge(profile, "hook"); got != 2 {
		t.Errorf("soc2_operator_alerts_pending is %d with two kept alerts failed and set aside, want 2", got)
	}
}

// TestWhatASinkSetAsideIsKeptWithinSeconds: a process killed without a stop (SIGKILL, an OOM
// kill, the node lost) saves nothing at its end; what it had set aside since its last save was
// lost for good (the next process finds the transitions in the reports and does not send them),
// and saves came every 30 s. With the default options, an alert set aside is kept within 5 s.
func TestWhatASinkSetAsideIsKeptWithinSeconds(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusServiceUnavailable) })
	store := &memStore{}
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.Store, opts.Retry.Attempts = store, 1
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)
	d.Send(finding(profile, "a", v1alpha1.SeverityCritical))
	rcv.next(t)
	eventually(t, "the alert set aside is kept, as a kill would find it", func() bool {
		return slices.Equal(store.keys(), []string{"hook:a"})
	})
}

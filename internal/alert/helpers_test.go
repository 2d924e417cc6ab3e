package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// testNow is the fake clock's time in every test.
var testNow = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// request is what a receiver saw.
type request struct {
	method string
	header http.Header
	body   []byte
}

// key is the alert key of a Webhook payload.
func (r request) key() string {
	var p struct {
		Key string `json:"key"`
	}
	_ = json.Unmarshal(r.body, &p)
	return p.Key
}

// receiver is an HTTP endpoint that records every request and answers as respond says.
type receiver struct {
	*httptest.Server
	requests chan request
}

// newReceiver starts a receiver. respond answers each request; nil answers 200.
func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *receiver {
	t.Helper()
	rcv := &receiver{requests: make(chan request, 1000)}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rcv.requests <- request{method: r.Method, header: r.Header.Clone(), body: body}
		if respond != nil {
			respond(w, r, body)
		}
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

// next is the next request the receiver saw.
func (rcv *receiver) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-rcv.requests:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("The receiver saw no request within 10s")
		return request{}
	}
}

// keysUntil collects the keys the receiver sees up to and including last.
func (rcv *receiver) keysUntil(t *testing.T, last string) []string {
	t.Helper()
	var keys []string
	for {
		k := rcv.next(t).key()
		keys = append(keys, k)
		if k == last {
			return keys
		}
	}
}

// sleeper records the waits between attempts instead of waiting.
type sleeper struct {
	mu     sync.Mutex
	waits  []time.Duration
	before func(n int) // called before returning from the n-th wait (1-based), if set
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	s.mu.Unlock()
	if s.before != nil {
		s.before(n)
	}
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// logBuffer collects log lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// testOptions are fast options: no jitter, a recording sleeper, a fake clock.
func testOptions(s *sleeper, logs *logBuffer) Options {
	return Options{
		Timeout: 10 * time.Second,
		Retry:   RetryPolicy{Jitter: -1},
		Clock:   clocktesting.NewFakePassiveClock(testNow),
		Sleep:   s.sleep,
		Logger: funcr.New(func(prefix, args string) {
			logs.mu.Lock()
			logs.lines = append(logs.lines, prefix+" "+args)
			logs.mu.Unlock()
		}, funcr.Options{Verbosity: 1}),
	}
}

// start runs d until the test ends.
func start(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start returned %v", err)
		}
	})
}

var profiles atomic.Int64

// profileName is a profile name no other test, or run of a test, uses, so that metrics do not
// mix.
func profileName(t *testing.T) string {
	name := strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name()))
	return name + "-" + strconv.FormatInt(profiles.Add(1), 10)
}

// count is the value of soc2_operator_alerts_total for the labels.
func count(profile, sink string, event v1alpha1.AlertEvent, result string) int {
	var m dto.Metric
	if err := metrics.AlertsTotal.WithLabelValues(profile, sink, string(event), result).Write(&m); err != nil {
		panic(err)
	}
	return int(m.GetCounter().GetValue())
}

// webhook is a Webhook sink to url.
func webhook(name, url string, events ...v1alpha1.AlertEvent) v1alpha1.AlertSink {
	return v1alpha1.AlertSink{Name: name, Type: v1alpha1.SinkWebhook, URL: url, Events: events}
}

// finding is a NewFinding alert with the given key and severity.
func finding(profile, key string, severity v1alpha1.Severity) Alert {
	return Alert{
		Event: v1alpha1.AlertNewFinding, Profile: profile, Namespace: "team-a", Severity: severity,
		Check: "wl-privileged", Resource: v1alpha1.ResourceRef{Kind: "Deployment", Namespace: "team-a", Name: "web"},
		Time: testNow, Key: key,
	}
}

// nonCompliant is a NamespaceNonCompliant alert with the given key.
func nonCompliant(profile, key string) Alert {
	return Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: profile, Namespace: "team-a", Time: testNow, Key: key}
}

// eventually waits until cond holds, for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("Timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("The body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("The wanted body is not JSON: %v", err)
	}
	gs, _ := json.MarshalIndent(g, "", "  ")
	ws, _ := json.MarshalIndent(w, "", "  ")
	if string(gs) != string(ws) {
		t.Errorf("The receiver got\n%s\nwant\n%s", gs, ws)
	}
}

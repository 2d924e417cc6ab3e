package alert

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// answer is one scripted response.
type answer struct {
	status     int
	retryAfter string
	hangUp     bool // close the connection without answering
}

func TestRetries(t *testing.T) {
	tests := map[string]struct {
		attempts  int
		answers   []answer // the last one repeats
		wantTries int
		wantWaits []time.Duration
		wantSent  bool
	}{
		"a server that fails twice with 500 receives the alert once after two retries": {
			answers:   []answer{{status: 500}, {status: 500}, {status: 200}},
			wantTries: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}, wantSent: true,
		},
		"a 400 is not retried": {
			answers:   []answer{{status: 400}},
			wantTries: 1,
		},
		"a 404 is not retried": {
			answers:   []answer{{status: 404}},
			wantTries: 1,
		},
		"a 429 with Retry-After in seconds is retried after that long": {
			answers:   []answer{{status: 429, retryAfter: "7"}, {status: 204}},
			wantTries: 2, wantWaits: []time.Duration{7 * time.Second}, wantSent: true,
		},
		"a 503 with Retry-After as a date is retried at that date": {
			answers:   []answer{{status: 503, retryAfter: testNow.Add(30 * time.Second).Format(http.TimeFormat)}, {status: 200}},
			wantTries: 2, wantWaits: []time.Duration{30 * time.Second}, wantSent: true,
		},
		"a Retry-After longer than the maximum backoff waits the maximum": {
			answers:   []answer{{status: 429, retryAfter: "3600"}, {status: 200}},
			wantTries: 2, wantWaits: []time.Duration{2 * time.Minute}, wantSent: true,
		},
		"a 429 without Retry-After backs off like any failure": {
			answers:   []answer{{status: 429}, {status: 200}},
			wantTries: 2, wantWaits: []time.Duration{time.Second}, wantSent: true,
		},
		"a connection closed without an answer is retried": {
			answers:   []answer{{hangUp: true}, {status: 200}},
			wantTries: 2, wantWaits: []time.Duration{time.Second}, wantSent: true,
		},
		"a server that keeps failing is given up after the sixth attempt": {
			answers:   []answer{{status: 502}},
			wantTries: 6, wantWaits: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second},
		},
		"the backoff stops doubling at two minutes": {
			attempts:  10,
			answers:   []answer{{status: 500}},
			wantTries: 10,
			wantWaits: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
				32 * time.Second, 64 * time.Second, 2 * time.Minute, 2 * time.Minute},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			profile := profileName(t)
			var mu sync.Mutex
			tries := 0
			// The alert under test has key "k"; the barrier that follows it is always accepted.
			rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if (request{body: body}).key() != "k" {
					return
				}
				mu.Lock()
				a := tc.answers[min(tries, len(tc.answers)-1)]
				tries++
				mu.Unlock()
				if a.hangUp {
					conn, _, _ := w.(http.Hijacker).Hijack()
					_ = conn.Close()
					return
				}
				if a.retryAfter != "" {
					w.Header().Set("Retry-After", a.retryAfter)
				}
				w.WriteHeader(a.status)
			})
			s := &sleeper{}
			opts := testOptions(s, &logBuffer{})
			opts.Retry.Attempts = tc.attempts
			d := NewDispatcher(opts)
			d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
			start(t, d)

			d.Send(finding(profile, "k", v1alpha1.SeverityCritical))
			d.Send(nonCompliant(profile, "barrier"))
			keys := rcv.keysUntil(t, "barrier")

			if got := len(keys) - 1; got != tc.wantTries {
				t.Errorf("The receiver saw %d attempts, want %d", got, tc.wantTries)
			}
			if got := s.recorded(); !slices.Equal(got, tc.wantWaits) {
				t.Errorf("Waits %v, want %v", got, tc.wantWaits)
			}
			sent, failed := count(profile, "hook", v1alpha1.AlertNewFinding, ResultSent), count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed)
			if tc.wantSent && (sent != 1 || failed != 0) {
				t.Errorf("Counted %d sent and %d failed, want 1 sent", sent, failed)
			}
			if !tc.wantSent && (sent != 0 || failed != 1) {
				t.Errorf("Counted %d sent and %d failed, want 1 failed", sent, failed)
			}
		})
	}
}

func TestJitterShortensWaitsWithinBounds(t *testing.T) {
	d := NewDispatcher(Options{Retry: RetryPolicy{Jitter: 0.5}})
	for attempt := 1; attempt <= 10; attempt++ {
		full := min(time.Second<<(attempt-1), 2*time.Minute)
		for range 100 {
			if got := d.backoff(attempt); got > full || got < full/2 {
				t.Fatalf("Wait after attempt %d is %v, want between %v and %v", attempt, got, full/2, full)
			}
		}
	}
}

func TestTheSameKeyIsDeliveredOnce(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)

	a := finding(profile, "k", v1alpha1.SeverityHigh)
	d.Send(a)
	d.Send(a) // while the first is queued or on its way
	d.Send(nonCompliant(profile, "barrier-1"))
	got := rcv.keysUntil(t, "barrier-1")
	d.Send(a) // after it was delivered
	d.Send(nonCompliant(profile, "barrier-2"))
	got = append(got, rcv.keysUntil(t, "barrier-2")...)

	if want := []string{"k", "barrier-1", "barrier-2"}; !slices.Equal(got, want) {
		t.Errorf("The receiver saw %q, want %q", got, want)
	}
	if n := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDuplicate); n != 2 {
		t.Errorf("Counted %d duplicates, want 2", n)
	}
}

func TestAKeyThatFailedCanBeSentAgain(t *testing.T) {
	profile := profileName(t)
	var mu sync.Mutex
	refuse := true
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)

	d.Send(finding(profile, "k", v1alpha1.SeverityHigh))
	rcv.next(t)
	eventually(t, "the alert is counted failed", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed) == 1
	})
	mu.Lock()
	refuse = false
	mu.Unlock()
	d.Send(finding(profile, "k", v1alpha1.SeverityHigh))

	if k := rcv.next(t).key(); k != "k" {
		t.Errorf("The receiver saw %q, want the failed alert again", k)
	}
	eventually(t, "the alert is counted sent", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultSent) == 1
	})
}

func TestAHangingSinkDoesNotDelayAnother(t *testing.T) {
	profile := profileName(t)
	release := make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	fast := newReceiver(t, nil)
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("slow", slow.URL), webhook("fast", fast.URL)}})
	start(t, d)
	defer close(release)

	d.Send(finding(profile, "first", v1alpha1.SeverityHigh))
	slow.next(t) // the slow sink now hangs on the first alert
	for _, k := range []string{"second", "third"} {
		d.Send(finding(profile, k, v1alpha1.SeverityHigh))
	}

	if got, want := fast.keysUntil(t, "third"), []string{"first", "second", "third"}; !slices.Equal(got, want) {
		t.Errorf("The fast sink saw %q while the slow one hung, want %q", got, want)
	}
}

// TestAFullQueueSetsAsideAndCounts: an alert that finds the sink's queue full is counted
// dropped and logged, but set aside, not lost: Retry offers it again once the queue has room,
// without the reconcilers sending it again (they count the finding alerted and never would).
func TestAFullQueueSetsAsideAndCounts(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	opts := testOptions(&sleeper{}, logs)
	opts.QueueSize = 2
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})

	// Not started yet: nothing leaves the queue. One namespace each: a queue of 2 holds one
	// alert of each namespace (shareOf).
	for i, k := range []string{"a", "b", "c"} {
		a := finding(profile, k, v1alpha1.SeverityHigh)
		a.Namespace = fmt.Sprintf("team-%d", i)
		d.Send(a)
	}
	if n := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDropped); n != 1 {
		t.Errorf("Counted %d dropped, want 1", n)
	}
	if !strings.Contains(logs.String(), `"msg"="Alert set aside: the sink's queue is full or holds its namespace's share"`) || !strings.Contains(logs.String(), `"key"="c"`) {
		t.Errorf("No log line says c was set aside:\n%s", logs)
	}

	start(t, d)
	got := rcv.keysUntil(t, "b")
	d.Retry(profile)
	got = append(got, rcv.keysUntil(t, "c")...)
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("The receiver saw %q, want %q", got, want)
	}
	d.Retry(profile) // nothing left aside: c is not sent twice
	d.Send(nonCompliant(profile, "marker"))
	if k := rcv.next(t).key(); k != "marker" {
		t.Errorf("The receiver saw %q after c, want only the marker", k)
	}
}

// TestANamespaceBurstDoesNotCrowdOutAnotherNamespace: one tenant's burst of new findings filled
// the queue that every namespace of the profile shares, and another namespace's Critical
// finding that followed was dropped, never to be sent. A namespace holds at most a quarter of
// the queue; the rest of its burst is set aside, and Retry offers it later, the most severe
// first, each alert once.
func TestANamespaceBurstDoesNotCrowdOutAnotherNamespace(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.QueueSize = 8
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})

	var burst []string
	for i := range 10 {
		k := fmt.Sprintf("burst-%d", i)
		burst = append(burst, k)
		d.Send(finding(profile, k, v1alpha1.SeverityHigh)) // team-a
	}
	// One of team-a's burst, Critical, set aside with the others: Retry offers it first.
	d.Send(finding(profile, "burst-critical", v1alpha1.SeverityCritical))
	other := finding(profile, "other", v1alpha1.SeverityCritical)
	other.Namespace = "team-b"
	d.Send(other)

	start(t, d)
	if got, want := rcv.keysUntil(t, "other"), []string{"burst-0", "burst-1", "other"}; !slices.Equal(got, want) {
		t.Fatalf("The receiver saw %q, want team-a's share of the queue, then team-b's finding: %q", got, want)
	}
	d.Retry(profile)
	if got, want := rcv.keysUntil(t, "burst-2"), []string{"burst-critical", "burst-2"}; !slices.Equal(got, want) {
		t.Fatalf("The first Retry sent %q, want the Critical finding first: %q", got, want)
	}
	seen := []string{"burst-0", "burst-1", "burst-2"}
	for len(seen) < len(burst) {
		d.Retry(profile) // the queue is empty: two more of team-a's, its share
		for range min(2, len(burst)-len(seen)) {
			seen = append(seen, rcv.next(t).key())
		}
	}
	slices.Sort(seen)
	want := slices.Clone(burst)
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("The receiver saw %q of the burst, want each once: %q", seen, want)
	}
}

// TestABurstSetAsideDoesNotKeepOutAnotherNamespace: while a sink is down, one tenant's burst
// filled what the sink sets aside, and the next namespace's Critical finding was dropped for
// good. It takes the place of one of the burst's, and is offered first.
func TestABurstSetAsideDoesNotKeepOutAnotherNamespace(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	opts := testOptions(&sleeper{}, logs)
	opts.QueueSize = 1
	opts.DedupeSize = 3
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})

	for _, k := range []string{"queued", "burst-1", "burst-2", "burst-3", "burst-4"} {
		d.Send(finding(profile, k, v1alpha1.SeverityHigh)) // team-a: burst-4 finds no room
	}
	other := finding(profile, "other", v1alpha1.SeverityCritical)
	other.Namespace = "team-b"
	d.Send(other)
	if !strings.Contains(logs.String(), `"key"="burst-4"`) || !strings.Contains(logs.String(), "another namespace's or a more severe one came") {
		t.Errorf("No log line says which alerts were dropped for good:\n%s", logs)
	}

	start(t, d)
	if k := rcv.next(t).key(); k != "queued" {
		t.Fatalf("The receiver saw %q, want the queued alert", k)
	}
	d.Retry(profile)
	if k := rcv.next(t).key(); k != "other" {
		t.Fatalf("The first Retry sent %q, want team-b's Critical finding", k)
	}
	var rest []string
	for range 2 {
		d.Retry(profile)
		rest = append(rest, rcv.next(t).key())
	}
	if want := []string{"burst-1", "burst-2"}; !slices.Equal(rest, want) {
		t.Errorf("Later Retries sent %q, want %q (the newest of the burst made room)", rest, want)
	}
}

// TestAnAlertThatFailedForGoodIsOfferedAgain: a sink down for longer than the attempts last
// failed the alert for good, and the operator, which counts the finding alerted, never sent it
// again. It is set aside, and Retry offers it once the sink is back; one the sink rejected (a
// 4xx other than 408 and 429) is not, another attempt would not change that.
func TestAnAlertThatFailedForGoodIsOfferedAgain(t *testing.T) {
	profile := profileName(t)
	var mu sync.Mutex
	status := http.StatusServiceUnavailable
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
	})
	opts := testOptions(&sleeper{}, &logBuffer{})
	opts.Retry.Attempts = 2
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)

	d.Send(finding(profile, "down", v1alpha1.SeverityCritical))
	rcv.next(t)
	rcv.next(t)
	eventually(t, "the alert is counted failed", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed) == 1
	})
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	d.Retry(profile)
	if k := rcv.next(t).key(); k != "down" {
		t.Errorf("The receiver saw %q, want the failed alert again", k)
	}
	eventually(t, "the alert is counted sent", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultSent) == 1
	})

	mu.Lock()
	status = http.StatusBadRequest
	mu.Unlock()
	d.Send(finding(profile, "rejected", v1alpha1.SeverityCritical))
	if k := rcv.next(t).key(); k != "rejected" {
		t.Fatalf("The receiver saw %q, want the rejected alert", k)
	}
	eventually(t, "the rejected alert is counted failed", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed) == 2
	})
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	d.Retry(profile)
	d.Send(nonCompliant(profile, "marker"))
	if k := rcv.next(t).key(); k != "marker" {
		t.Errorf("The receiver saw %q, want the marker alone: a rejected alert is not offered again", k)
	}
}

func TestURLFileIsReadAtEachSend(t *testing.T) {
	profile := profileName(t)
	first, second := newReceiver(t, nil), newReceiver(t, nil)
	file := filepath.Join(t.TempDir(), "url")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("  " + first.URL + "/services/T0/B0/secret\n")
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "hook", Type: v1alpha1.SinkWebhook, URLFile: file}}})
	start(t, d)

	d.Send(finding(profile, "before", v1alpha1.SeverityHigh))
	if k := first.next(t).key(); k != "before" {
		t.Errorf("The first receiver saw %q, want before", k)
	}
	write(second.URL + "\n")
	d.Send(finding(profile, "after", v1alpha1.SeverityHigh))
	if k := second.next(t).key(); k != "after" {
		t.Errorf("The second receiver saw %q, want after", k)
	}
}

func TestAMissingURLFileIsRetriedAndNamed(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	file := filepath.Join(t.TempDir(), "url")
	logs := &logBuffer{}
	s := &sleeper{}
	s.before = func(n int) {
		if n == 2 { // the Secret is mounted after two failed attempts
			_ = os.WriteFile(file, []byte(rcv.URL), 0o600)
		}
	}
	d := NewDispatcher(testOptions(s, logs))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "hook", Type: v1alpha1.SinkWebhook, URLFile: file}}})
	start(t, d)

	d.Send(finding(profile, "k", v1alpha1.SeverityHigh))

	if k := rcv.next(t).key(); k != "k" {
		t.Errorf("The receiver saw %q, want k", k)
	}
	if n := len(s.recorded()); n != 2 {
		t.Errorf("Waited %d times, want 2", n)
	}
	if want := "read urlFile " + file + ": no such file or directory"; !strings.Contains(logs.String(), want) {
		t.Errorf("No log line says %q:\n%s", want, logs)
	}
}

func TestAURLFileWithoutAURLFailsAtOnceWithoutShowingIt(t *testing.T) {
	profile := profileName(t)
	file := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(file, []byte("hooks.example.com/services/secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	s := &sleeper{}
	d := NewDispatcher(testOptions(s, logs))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "hook", Type: v1alpha1.SinkWebhook, URLFile: file}}})
	start(t, d)

	d.Send(finding(profile, "k", v1alpha1.SeverityHigh))

	eventually(t, "the alert is counted failed", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed) == 1
	})
	if len(s.recorded()) != 0 {
		t.Errorf("Retried a malformed URL: waits %v", s.recorded())
	}
	if want := "urlFile " + file + " does not hold an http:// or https:// URL"; !strings.Contains(logs.String(), want) {
		t.Errorf("No log line says %q:\n%s", want, logs)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("The logs show the URL:\n%s", logs)
	}
}

func TestErrorsDoNotShowTheURLPath(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("invalid_token"))
	})
	logs := &logBuffer{}
	d := NewDispatcher(testOptions(&sleeper{}, logs))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL+"/services/T0/B0/secret")}})
	start(t, d)

	d.Send(finding(profile, "k", v1alpha1.SeverityHigh))

	eventually(t, "the alert is counted failed", func() bool {
		return count(profile, "hook", v1alpha1.AlertNewFinding, ResultFailed) == 1
	})
	if want := "POST to " + rcv.URL + ": 403 Forbidden: invalid_token"; !strings.Contains(logs.String(), want) {
		t.Errorf("No log line says %q:\n%s", want, logs)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("The logs show the URL's path:\n%s", logs)
	}
}

func TestFilters(t *testing.T) {
	tests := map[string]struct {
		minSeverity v1alpha1.Severity
		events      []v1alpha1.AlertEvent
		send        []Alert // the last one must be delivered
		want        []string
	}{
		"a sink without events receives every event": {
			send: []Alert{
				finding("", "finding", v1alpha1.SeverityHigh),
				{Event: v1alpha1.AlertExceptionExpiring, Exception: "team-a/x", Key: "expiring"},
				{Event: v1alpha1.AlertExceptionExpired, Exception: "team-a/x", Key: "expired"},
				nonCompliant("", "non-compliant"),
			},
			want: []string{"finding", "expiring", "expired", "non-compliant"},
		},
		"a sink with events receives only those": {
			events: []v1alpha1.AlertEvent{v1alpha1.AlertExceptionExpired, v1alpha1.AlertNamespaceNonCompliant},
			send: []Alert{
				finding("", "finding", v1alpha1.SeverityCritical),
				{Event: v1alpha1.AlertExceptionExpiring, Exception: "team-a/x", Key: "expiring"},
				{Event: v1alpha1.AlertExceptionExpired, Exception: "team-a/x", Key: "expired"},
				nonCompliant("", "non-compliant"),
			},
			want: []string{"expired", "non-compliant"},
		},
		"new findings below the default minimum severity High are not sent": {
			send: []Alert{
				finding("", "low", v1alpha1.SeverityLow),
				finding("", "medium", v1alpha1.SeverityMedium),
				finding("", "high", v1alpha1.SeverityHigh),
				finding("", "critical", v1alpha1.SeverityCritical),
			},
			want: []string{"high", "critical"},
		},
		"minSeverity Low sends every new finding": {
			minSeverity: v1alpha1.SeverityLow,
			send: []Alert{
				finding("", "medium", v1alpha1.SeverityMedium),
				finding("", "low", v1alpha1.SeverityLow),
			},
			want: []string{"medium", "low"},
		},
		"minSeverity Critical sends only critical findings": {
			minSeverity: v1alpha1.SeverityCritical,
			send: []Alert{
				finding("", "high", v1alpha1.SeverityHigh),
				finding("", "critical", v1alpha1.SeverityCritical),
			},
			want: []string{"critical"},
		},
		"minSeverity does not filter other events": {
			minSeverity: v1alpha1.SeverityCritical,
			send: []Alert{
				{Event: v1alpha1.AlertExceptionExpired, Exception: "team-a/x", Key: "expired"},
				nonCompliant("", "non-compliant"),
			},
			want: []string{"expired", "non-compliant"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			profile := profileName(t)
			rcv := newReceiver(t, nil)
			d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
			d.Configure(profile, &v1alpha1.Alerts{MinSeverity: tc.minSeverity, Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL, tc.events...)}})
			start(t, d)

			for _, a := range tc.send {
				a.Profile = profile
				d.Send(a)
			}

			if got := rcv.keysUntil(t, tc.send[len(tc.send)-1].Key); !slices.Equal(got, tc.want) {
				t.Errorf("The receiver saw %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	t.Run("a removed profile sends nothing", func(t *testing.T) {
		profile := profileName(t)
		rcv := newReceiver(t, nil)
		d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
		alerts := &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}}
		d.Configure(profile, alerts)
		start(t, d)

		d.Configure(profile, nil)
		d.Send(finding(profile, "after-removal", v1alpha1.SeverityHigh))
		d.Configure(profile, alerts)
		d.Send(finding(profile, "after-reconfiguration", v1alpha1.SeverityHigh))

		if got, want := rcv.keysUntil(t, "after-reconfiguration"), []string{"after-reconfiguration"}; !slices.Equal(got, want) {
			t.Errorf("The receiver saw %q, want %q", got, want)
		}
	})

	t.Run("a sink whose URL changes keeps its memory of keys", func(t *testing.T) {
		profile := profileName(t)
		first, second := newReceiver(t, nil), newReceiver(t, nil)
		d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
		d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", first.URL)}})
		start(t, d)

		d.Send(finding(profile, "k", v1alpha1.SeverityHigh))
		first.next(t)
		d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", second.URL)}})
		d.Send(finding(profile, "k", v1alpha1.SeverityHigh))
		d.Send(finding(profile, "new", v1alpha1.SeverityHigh))

		if got, want := second.keysUntil(t, "new"), []string{"new"}; !slices.Equal(got, want) {
			t.Errorf("The new URL saw %q, want %q", got, want)
		}
	})

	t.Run("alerts queued for a removed sink are dropped and counted", func(t *testing.T) {
		profile := profileName(t)
		d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
		d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", "http://127.0.0.1:1")}})
		for i := range 3 {
			d.Send(finding(profile, strconv.Itoa(i), v1alpha1.SeverityHigh))
		}
		d.Configure(profile, nil)
		if n := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDropped); n != 3 {
			t.Errorf("Counted %d dropped, want 3", n)
		}
	})
}

func TestSendFillsTimeAndKey(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)

	d.Send(Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: profile, Namespace: "team-a"})

	jsonEqual(t, rcv.next(t).body, `{
		"kind": "soc2-operator.alert",
		"version": "v1",
		"key": "NamespaceNonCompliant/`+profile+`/team-a/2026-03-04T10:00:00Z",
		"event": "NamespaceNonCompliant",
		"profile": "`+profile+`",
		"namespace": "team-a",
		"time": "2026-03-04T10:00:00Z",
		"summary": "Namespace team-a became NonCompliant under profile `+profile+`."
	}`)
}

func TestStartTwiceFails(t *testing.T) {
	d := NewDispatcher(Options{})
	start(t, d)
	eventually(t, "the dispatcher has started", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.ctx != nil
	})
	if err := d.Start(t.Context()); err == nil {
		t.Error("A second Start returned no error")
	}
	if !d.NeedLeaderElection() {
		t.Error("The dispatcher would send from every replica")
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-3", "99999999999999999999", "Wed, 04 Mar 2026 10:00:30 GMT", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, testNow); d < 0 {
			t.Errorf("retryAfter(%q) = %v, a negative wait", v, d)
		}
	})
}

// TestAlertsSetAsideAreLoggedWhenTheDispatcherStops: the alerts a sink sets aside are held in
// memory, and a stop (a rollout, a leader change) lost them without a word: no later process
// offers them again, and the dropped count that said they were late starts again from zero.
// The stop now logs them, by sink, with their count and keys.
func TestAlertsSetAsideAreLoggedWhenTheDispatcherStops(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	logs := &logBuffer{}
	opts := testOptions(&sleeper{}, logs)
	opts.QueueSize = 2
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
	cancel() // before a full evaluation's Retry offers c again
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "Alerts lost: set aside and never delivered when the operator stopped") {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, `"count"=1`) || !strings.Contains(line, `"keys"=["c"]`) || !strings.Contains(line, `"team-2"`) {
		t.Errorf("No log line says c was lost at the stop: %q\n%s", line, logs)
	}
}

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// receiver is a local HTTP endpoint that records what it is sent; it can fail the first
// requests or hang.
type receiver struct {
	mu       sync.Mutex
	bodies   []map[string]any
	failures int // answer 500 to this many requests first
	hang     bool
	server   *httptest.Server
}

func newReceiver(t *testing.T, failures int, hang bool) *receiver {
	r := &receiver{failures: failures, hang: hang}
	done := make(chan struct{})
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.hang {
			select {
			case <-done:
			case <-req.Context().Done():
			}
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.failures > 0 {
			r.failures--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || req.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.bodies = append(r.bodies, m)
	}))
	t.Cleanup(func() { close(done); r.server.Close() })
	return r
}

func (r *receiver) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

// count is how many received alerts have the given event (webhook payloads) or text (Slack).
func (r *receiver) count(substring string) int {
	n := 0
	for _, b := range r.received() {
		if b["event"] == substring || strings.Contains(fmt.Sprint(b["text"]), substring) {
			n++
		}
	}
	return n
}

// mentions is how many received alerts mention s anywhere in their payload.
func (r *receiver) mentions(s string) int {
	n := 0
	for _, b := range r.received() {
		if strings.Contains(fmt.Sprint(b), s) {
			n++
		}
	}
	return n
}

// TestAlerts walks the transitions a profile alerts on, against local HTTP servers: a namespace
// that becomes non-compliant and its new finding, an exception about to expire and then expired.
// A sink that fails twice gets each alert exactly once; a sink that hangs delays nothing; no
// transition is sent twice through several re-evaluations.
func TestAlerts(t *testing.T) {
	ctx := context.Background()
	hook := newReceiver(t, 2, false)
	slack := newReceiver(t, 0, false)
	stuck := newReceiver(t, 0, true)
	createNamespace(t, "alerts-a", map[string]string{"alerts": "true"})
	if err := k8s.Create(ctx, deployment("alerts-a", "api", false)); err != nil {
		t.Fatal(err)
	}
	// alerts-b already fails when the profile first sees it: that is the baseline, not news.
	createNamespace(t, "alerts-b", map[string]string{"alerts": "true"})
	legacy := deployment("alerts-b", "legacy", false)
	legacy.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "API_TOKEN", Value: "s3cr3t-token-value"}}
	if err := k8s.Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "alerts", "alerts", func(p *v1alpha1.ComplianceProfile) {
		// Confidentiality only: the hardened workload is compliant until it holds a password.
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.Alerts = &v1alpha1.Alerts{
			MinSeverity:   v1alpha1.SeverityHigh,
			ExpiryWarning: &metav1.Duration{Duration: time.Hour},
			Sinks: []v1alpha1.AlertSink{
				{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL},
				{Name: "chat", Type: v1alpha1.SinkSlack, URL: slack.server.URL},
				{Name: "stuck", Type: v1alpha1.SinkWebhook, URL: stuck.server.URL},
			},
		}
	})
	eventually(t, 20*time.Second, "the first report, Compliant", func() error {
		rep, err := getReport("alerts-a", "alerts")
		if err != nil || rep.Status.Result != v1alpha1.Compliant {
			return fmt.Errorf("%v %v", err, rep.Status.Result)
		}
		return nil
	})
	if rep := waitWritten(t, "alerts-b", "alerts"); rep.Status.Result != v1alpha1.NonCompliant {
		t.Fatalf("alerts-b is %s; it must start NonCompliant for the baseline to mean anything", rep.Status.Result)
	}

	// A literal password: a new High finding, and the namespace becomes NonCompliant.
	changed := time.Now()
	updateDeployment(t, "alerts-a", "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	})
	eventually(t, 10*time.Second, "the report shows the change despite a sink that hangs", func() error {
		rep, err := getReport("alerts-a", "alerts")
		if err != nil || rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("%v %v", err, rep.Status.Result)
		}
		return nil
	})
	t.Logf("the report changed %s after the workload", time.Since(changed).Round(10*time.Millisecond))
	eventually(t, 20*time.Second, "the webhook sink gets both alerts after its two failures", func() error {
		if hook.count("NewFinding") != 1 || hook.count("NamespaceNonCompliant") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	for _, b := range hook.received() {
		if b["event"] != "NewFinding" {
			continue
		}
		res, _ := b["resource"].(map[string]any)
		if b["kind"] != "soc2-operator.alert" || b["check"] != "sec-literal-env-credentials" || b["severity"] != "High" ||
			b["namespace"] != "alerts-a" || res["name"] != "api" || b["profile"] != "alerts" {
			t.Errorf("webhook payload %v", b)
		}
		if strings.Contains(fmt.Sprint(b), "hunter2") {
			t.Error("the alert carries the secret value")
		}
	}
	eventually(t, 10*time.Second, "the Slack sink gets text messages", func() error {
		if slack.count("NewFinding") != 1 || slack.count("NamespaceNonCompliant") != 1 {
			return fmt.Errorf("received %v", slack.received())
		}
		return nil
	})

	// An exception that expires in half an hour on the operator's clock: it is expiring (within
	// the hour's warning) at once, then expires when the clock passes its expiry.
	expires := clk.Now().Add(30 * time.Minute)
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: "alerts-a"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"sec-literal-env-credentials"}, Reason: "Rotating to a Secret this sprint.",
			Owner: "api-team@example.com", Expires: metav1.NewTime(expires)},
	}
	createApproved(t, ex)
	eventually(t, 10*time.Second, "ExceptionExpiring", func() error {
		if hook.count("ExceptionExpiring") != 1 || slack.count("ExceptionExpiring") != 1 {
			return fmt.Errorf("received %v / %v", hook.received(), slack.received())
		}
		return nil
	})
	got := &v1alpha1.ControlException{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: "alerts-a", Name: "db-password"}, got); err != nil {
		t.Fatal(err)
	}
	if c := findCondition(got.Status.Conditions, v1alpha1.ConditionExpiringSoon); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("ExpiringSoon condition %+v", c)
	}
	if n := hook.count("ExceptionExpired"); n != 0 {
		t.Fatalf("%d ExceptionExpired alerts before the expiry", n)
	}
	// The exception keeps the namespace compliant: its report says so before the clock moves
	// (the exception's own alert can come before the namespace's evaluation).
	eventually(t, 10*time.Second, "the report of alerts-a is Compliant under the exception", func() error {
		rep, err := getReport("alerts-a", "alerts")
		if err != nil {
			return err
		}
		if rep.Status.Result != v1alpha1.Compliant {
			return fmt.Errorf("result %q", rep.Status.Result)
		}
		return nil
	})
	advance(t, expires.Sub(clk.Now())+time.Second)
	// The expiry is news three times: the exception expired, the finding it waived fails again,
	// and the namespace it kept compliant is non-compliant again.
	eventually(t, 20*time.Second, "ExceptionExpired, NewFinding and NamespaceNonCompliant again", func() error {
		if hook.count("ExceptionExpired") != 1 || hook.count("NamespaceNonCompliant") != 2 || hook.count("NewFinding") != 2 ||
			slack.count("ExceptionExpired") != 1 || slack.count("NamespaceNonCompliant") != 2 || slack.count("NewFinding") != 2 {
			return fmt.Errorf("received %v / %v", hook.received(), slack.received())
		}
		return nil
	})

	// Several more evaluations, at later times, send nothing again.
	before := len(hook.received()) + len(slack.received())
	for range 3 {
		resyncAndWait(t, time.Minute, "alerts")
	}
	// Each sink delivers in order: once a finding made after those evaluations has reached both
	// sinks, whatever they queued has been delivered too.
	marker := deployment("alerts-a", "marker", false)
	marker.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter3-hunter3"}}
	if err := k8s.Create(ctx, marker); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the later finding delivered to both sinks", func() error {
		if hook.mentions("marker") != 1 || slack.mentions("marker") != 1 {
			return fmt.Errorf("received %v / %v", hook.received(), slack.received())
		}
		return nil
	})
	if after := len(hook.received()) + len(slack.received()); after != before+2 {
		t.Errorf("%d alerts sent again with nothing changing: %v", after-before-2, hook.received())
	}
	// The namespace that failed from the start never alerted: its first evaluation was the
	// baseline.
	for _, b := range append(hook.received(), slack.received()...) {
		if b["namespace"] == "alerts-b" || strings.Contains(fmt.Sprint(b["text"]), "alerts-b") {
			t.Errorf("an alert about the baseline of alerts-b: %v", b)
		}
	}
	// The finding that failed again when the exception expired is news again, though it was
	// reported before the exception: two NewFinding alerts for it (its first failure, and its
	// failing again, with a key of its own: findingAlert), and one for the marker.
	if n := hook.count("NewFinding"); n != 3 || hook.mentions("marker") != 1 {
		t.Errorf("%d NewFinding alerts, want 3 (api's twice, and the marker's): %v", n, hook.received())
	}
}

func findCondition(conds []metav1.Condition, t string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// TestDeletingTheReportDoesNotSilenceAlerts: anyone who may delete a namespace's report (where
// the admission policies are not applied, its tenant) could delete it together with a change that fails, so that the
// evaluation recreates the report with no previous result and treats the failure as the
// namespace's baseline, sending no alert. The operator remembers the namespace's previous
// verdict and findings: the new finding and the NonCompliant transition are alerted on.
func TestDeletingTheReportDoesNotSilenceAlerts(t *testing.T) {
	ctx := context.Background()
	hook := newReceiver(t, 0, false)
	createNamespace(t, "silence-a", map[string]string{"silence": "true"})
	if err := k8s.Create(ctx, deployment("silence-a", "api", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "silence", "silence", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	eventually(t, 20*time.Second, "the first report, Compliant", func() error {
		rep, err := getReport("silence-a", "silence")
		if err != nil || rep.Status.Result != v1alpha1.Compliant {
			return fmt.Errorf("%v %v", err, rep)
		}
		return nil
	})
	updateDeployment(t, "silence-a", "api", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	})
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "silence", Namespace: "silence-a"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the report recreated, NonCompliant", func() error {
		rep, err := getReport("silence-a", "silence")
		if err != nil || rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("%v %v", err, rep)
		}
		return nil
	})
	eventually(t, 10*time.Second, "the new finding and the transition alerted on", func() error {
		if hook.count("NewFinding") != 1 || hook.count("NamespaceNonCompliant") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
}

// TestANewFindingPastTheListedOnesIsAlerted: a report lists maxFindings findings, the most
// severe first, then by check and resource name. New findings were found by comparing the
// listed findings with the previous report's, so a new High finding that sorted after the
// listed ones (in a namespace with as many High findings as the report lists, which a tenant
// can arrange with old decoys) was never alerted on. It must be, once.
func TestANewFindingPastTheListedOnesIsAlerted(t *testing.T) {
	ctx := context.Background()
	hook := newReceiver(t, 0, false)
	createNamespace(t, "alerts-full", map[string]string{"alerts-full": "true"})
	legacy := deployment("alerts-full", "a-legacy", false)
	legacy.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "API_TOKEN", Value: "s3cr3t-token-value"}}
	if err := k8s.Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "alerts-full", "alerts-full", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.MaxFindings = 1
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	if rep := waitWritten(t, "alerts-full", "alerts-full"); rep.Status.Summary.High != 1 {
		t.Fatalf("the baseline has %d High findings, want 1 (a-legacy's)", rep.Status.Summary.High)
	}

	api := deployment("alerts-full", "z-api", false)
	api.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	if err := k8s.Create(ctx, api); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the report counts z-api's finding, past the one it lists", func() error {
		rep, err := getReport("alerts-full", "alerts-full")
		switch {
		case err != nil:
			return err
		case rep.Status.Summary.High != 2 || len(rep.Status.Findings) != 1 || rep.Status.Findings[0].Resource.Name != "a-legacy":
			return fmt.Errorf("High %d, listed %v", rep.Status.Summary.High, rep.Status.Findings)
		}
		return nil
	})
	eventually(t, 10*time.Second, "a NewFinding alert on z-api", func() error {
		if hook.mentions("z-api") != 1 || hook.count("NewFinding") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	// The next new finding is alerted on, and z-api's is not sent again.
	other := deployment("alerts-full", "y-api", false)
	other.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	if err := k8s.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "a NewFinding alert on y-api", func() error {
		if hook.mentions("y-api") != 1 || hook.count("NewFinding") != 2 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	if n := hook.mentions("z-api"); n != 1 {
		t.Errorf("z-api's finding was alerted on %d times: %v", n, hook.received())
	}
}

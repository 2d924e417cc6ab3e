package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestJudgementsAtOnceAreBounded: every request the webhook judges reads and evaluates the
// namespace's objects on a goroutine of its own, and nothing bounded how many ran at once: a
// tenant who may dry-run Pods (kubectl apply --dry-run=server in a loop) piled up judgements on
// the manager, which runs the reconcilers too, until it ran out of memory or CPU. At most
// GOMAXPROCS run at once (the default); a request that finds none free waits for one until its
// time is up, and then answers as a judgement out of time does: refused under Enforce, never
// left to the failurePolicy (Ignore, which admits). The judgements here stall in their reads
// of NetworkPolicies until the test lets them go.
func TestJudgementsAtOnceAreBounded(t *testing.T) {
	const ns = "bounded"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	held := &holding{Client: k, entered: make(chan struct{}, 64), release: make(chan struct{})}
	v, err := validator(held, k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	ask := func(name, timeout string) *admissionv1.AdmissionResponse {
		review, err := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request:  creatingDeployment(t, deployment(ns, name, true)),
		})
		if err != nil {
			t.Error(err)
			return nil
		}
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Post(srv.URL+"?timeout="+timeout, "application/json", bytes.NewReader(review))
		if err != nil {
			t.Errorf("%s: no answer: %v", name, err)
			return nil
		}
		defer func() { _ = resp.Body.Close() }()
		var answer admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || answer.Response == nil {
			t.Errorf("%s: want an answer (HTTP 200), got HTTP %d (%v)", name, resp.StatusCode, err)
			return nil
		}
		return answer.Response
	}
	says := func(r *admissionv1.AdmissionResponse) string {
		if r == nil || r.Result == nil {
			return ""
		}
		return r.Result.Message
	}

	// N requests with time to spare: each holds a judgement.
	n := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	answers := make([]*admissionv1.AdmissionResponse, n+1)
	for i := range n {
		wg.Go(func() { answers[i] = ask("agent-"+string(rune('a'+i)), "30s") })
	}
	for range n {
		<-held.entered
	}

	// One more, with 2 s (a judging budget of 1 s): no judgement starts, and it is refused in
	// time, saying why.
	r := ask("late", "2s")
	if got := held.most(); got > n {
		t.Errorf("%d judgements ran at once, want at most GOMAXPROCS (%d)", got, n)
	}
	if r == nil || r.Allowed || !strings.Contains(says(r), "could not judge Deployment "+ns+"/late within the webhook's timeout") ||
		!strings.Contains(says(r), "judging other requests") {
		t.Errorf("a request that found no judgement free under Enforce: want refused, saying the webhook was busy, got %+v", r)
	}

	// One more with time to spare waits for a judgement to end, and is then judged: a
	// privileged Deployment, refused for what it is.
	wg.Go(func() { answers[n] = ask("waiting", "30s") })
	held.release <- struct{}{} // one of the first ends
	<-held.entered             // and the waiting one starts
	close(held.release)
	wg.Wait()
	if got := held.most(); got > n {
		t.Errorf("%d judgements ran at once, want at most %d", got, n)
	}
	for i, a := range answers {
		if a == nil || a.Allowed || !strings.Contains(says(a), "wl-privileged") {
			t.Errorf("request %d, judged once a judgement was free: want refused naming wl-privileged, got %+v", i, a)
		}
	}
}

// holding is a cache whose reads of NetworkPolicies wait until release lets them go (one read
// a value sent, every read once closed), or their request is done. It counts the reads that
// wait at once.
type holding struct {
	client.Client
	entered chan struct{}
	release chan struct{}

	mu        sync.Mutex
	now, peak int
}

func (h *holding) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*networkingv1.NetworkPolicyList); ok {
		h.mu.Lock()
		h.now++
		h.peak = max(h.peak, h.now)
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			h.now--
			h.mu.Unlock()
		}()
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Client.List(ctx, list, opts...)
}

func (h *holding) most() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}

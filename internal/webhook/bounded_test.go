package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestJudgementsAtOnceAreBounded: every request the webhook judges reads and evaluates the
// namespace's objects on a goroutine of its own, and nothing bounded how many ran at once: a
// tenant who may dry-run Pods (kubectl apply --dry-run=server in a loop) piled up judgements on
// the manager, which runs the reconcilers too, until it ran out of memory or CPU. At most
// GOMAXPROCS run at once (the default); a request that finds none free waits for one until its
// time is up, and then answers as a judgement out of time does: refused under Enforce, never
// left to the failurePolicy (Ignore, which admits). The judgements here stall in their reads
// of NetworkPolicies until the test lets them go. The first ones come from a namespace each (one
// namespace holds at most half: TestOneNamespaceCannotTakeEveryJudgement).
func TestJudgementsAtOnceAreBounded(t *testing.T) {
	const ns = "bounded"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	n := runtime.GOMAXPROCS(0)
	for i := range n {
		setup(t, fmt.Sprintf("%s-%d", ns, i), v1alpha1.EnforcementEnforce)
	}
	k, _ := newClient(t)
	held := &holding{Client: k, entered: make(chan struct{}, 64), release: make(chan struct{})}
	v, err := validator(held, k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	askIn := func(ns, name, timeout string) *admissionv1.AdmissionResponse {
		return send(t, srv.URL, creatingDeployment(t, deployment(ns, name, true)), timeout)
	}
	ask := func(name, timeout string) *admissionv1.AdmissionResponse { return askIn(ns, name, timeout) }
	says := func(r *admissionv1.AdmissionResponse) string {
		if r == nil || r.Result == nil {
			return ""
		}
		return r.Result.Message
	}

	// N requests with time to spare: each holds a judgement.
	var wg sync.WaitGroup
	answers := make([]*admissionv1.AdmissionResponse, n+1)
	for i := range n {
		wg.Go(func() { answers[i] = askIn(fmt.Sprintf("%s-%d", ns, i), "agent", "30s") })
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
	// ignoreDone keeps a read waiting after its request is done: a judgement that runs on.
	ignoreDone bool

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
		done := ctx.Done()
		if h.ignoreDone {
			done = nil
		}
		select {
		case <-h.release:
		case <-done:
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

// TestJudgementsAtOnceAreBoundedThroughTheAPIServer: as the API server calls it, under its
// failurePolicy Ignore. The webhook at heldPath judges one request at a time; its first
// judgement runs on after the API server's deadline (its read waits for the test). A second
// Deployment created meanwhile starts no judgement and is refused under Enforce, saying why,
// rather than left to Ignore, which would admit it.
func TestJudgementsAtOnceAreBoundedThroughTheAPIServer(t *testing.T) {
	const ns = "bounded-apiserver"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	timeout := int32(3)
	registerDeployments(t, k, ns, heldPath, "enforce-test", admissionregistrationv1.Ignore, &timeout)
	defer close(held.release)

	// A hardened Deployment, which the operator's own webhook admits: until the API server
	// calls heldPath about one, its configuration is not in force yet.
	var wg sync.WaitGroup
	defer wg.Wait()
	i := 0
	testenv.Eventually(t, 20*time.Second, "the API server calls the webhook at heldPath", func() error {
		i++
		answered := make(chan struct{})
		wg.Go(func() {
			defer close(answered)
			_ = k.Create(ctx, deployment(ns, fmt.Sprintf("first-%d", i), false), client.DryRunAll)
		})
		select {
		case <-held.entered:
			return nil
		case <-answered:
			return errors.New("first-" + strconv.Itoa(i) + " was answered without a call at heldPath: its configuration is not in force yet")
		}
	})

	err := k.Create(ctx, deployment(ns, "second", false), client.DryRunAll)
	if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "could not judge Deployment "+ns+"/second within the webhook's timeout: it was judging other requests") {
		t.Errorf("a Deployment created while the only judgement was taken: want refused, saying the webhook was busy, got %v", err)
	}
	if got := held.most(); got != 1 {
		t.Errorf("%d judgements ran at once at heldPath, want 1", got)
	}
}

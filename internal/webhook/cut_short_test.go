package webhook_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestAJudgementAnsweredOutOfTimeFreesItsNamespace: the webhook answers at its budget's end and
// leaves the judgement to end on its own, holding the namespace's share of the judgements
// (WorkloadValidator.acquire) until it does. gitleaks' rules never asked whether anyone still
// waited: a namespace admin's Deployment whose env value repeats a keyword ("key=", 3 MB here)
// kept them reading for seconds after the answer (11 to 25 s under load at 1.4 MB), and every
// other request of the namespace was refused as busy under Enforce all that time. The rules now
// stop once the request is done (engine.Context.Stopped), and the namespace's next request is
// judged.
//
// The steps are ordered by the test's reads, not by a clock: the slow Deployment's read of
// NetworkPolicies waits (holdingIn) until a request of the same namespace has found its share
// taken and been refused as busy; then the read goes on, and the judgement runs past its budget.
// That what was cut short is not reused by the next judgement of the same object is
// TestACredentialJudgementStopsWhenItsCallerHasGone's (internal/checks): judged whole, this
// Deployment takes 6 to 30 s of CPU, more than a request's budget on a loaded machine.
func TestAJudgementAnsweredOutOfTimeFreesItsNamespace(t *testing.T) {
	const ns = "cut-short"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	held := &holdingIn{holding: holding{Client: k, entered: make(chan struct{}, 64), release: make(chan struct{})}, namespace: ns}
	v, err := validator(held, k)
	if err != nil {
		t.Fatal(err)
	}
	v.Judgements = 2 // a namespace holds one
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	says := func(r *admissionv1.AdmissionResponse) string {
		if r == nil || r.Result == nil {
			return ""
		}
		return r.Result.Message
	}
	slow := deployment(ns, "slow", false)
	slow.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD_URL",
		Value: strings.Repeat("key=", 3_000_000/len("key=")) + " ghp_R7wq9ZkP3xLm2VnB8cD4fH6jK1sT5yU0aE9g"}}

	// The slow Deployment, with 5 s (a budget of 3.2 s), holds the namespace's judgement.
	answered := make(chan *admissionv1.AdmissionResponse, 1)
	go func() { answered <- send(t, srv.URL, creatingDeployment(t, slow), "5s") }()
	<-held.entered
	// Busy: another request of the namespace, with 2 s, is refused, saying so.
	if r := send(t, srv.URL, creatingDeployment(t, deployment(ns, "web", true)), "2s"); r == nil || r.Allowed ||
		!strings.Contains(says(r), "could not judge Deployment "+ns+"/web within the webhook's timeout: it was judging other requests") {
		t.Errorf("a request while the namespace's judgement is taken, under Enforce: want refused as busy, got %+v", r)
	}
	close(held.release)
	r := <-answered
	if r == nil || r.Allowed || !strings.Contains(says(r), "could not judge Deployment "+ns+"/slow within the webhook's timeout") ||
		strings.Contains(says(r), "judging other requests") {
		t.Fatalf("the slow Deployment: want refused as out of time, got %+v", r)
	}
	at := time.Now()

	// The namespace's next request, with 3 s (a budget of 1.6 s), is judged: refused for what
	// it is. Before, the slow judgement held the namespace's share for seconds after its answer
	// and this one was refused as busy.
	next := send(t, srv.URL, creatingDeployment(t, deployment(ns, "web", true)), "3s")
	if next == nil || next.Allowed || !strings.Contains(says(next), "wl-privileged") {
		t.Errorf("the namespace's next request after a judgement cut short: want judged (refused naming wl-privileged), got %+v", next)
	}
	t.Logf("the namespace's next request was answered %v after the slow one", time.Since(at))
}

package webhook_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestAReviewForANamespaceThatDoesNotExistIsNotCounted: the API server never asks about an
// object in a namespace that does not exist (its NamespaceLifecycle admission refuses it
// first), but anyone who can reach the webhook's port can send a review naming any namespace.
// Each such review was counted in soc2_operator_admission_unjudged_total under the namespace
// it named, a new series every time (as many as the sender liked, in the manager's memory
// and in Prometheus), and raised SOC2AdmissionUnjudged, while admitting nothing. It is refused,
// naming the namespace, and not counted.
func TestAReviewForANamespaceThatDoesNotExistIsNotCounted(t *testing.T) {
	k, _ := newClient(t)
	v, err := validator(k, k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	const ns = "forged-nowhere-4711"
	r := send(t, srv.URL, creating(t, ns, "agent"), "5s")
	if r == nil {
		t.FailNow()
	}
	if r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "namespace "+ns+" does not exist") {
		t.Errorf("a review for a namespace that does not exist: want refused naming it, got %+v", r)
	}
	if n := unjudged(t, ns); n != 0 {
		t.Errorf("soc2_operator_admission_unjudged_total{namespace=%q} = %v for a namespace that does not exist, want 0", ns, n)
	}
}

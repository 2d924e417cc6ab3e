package webhook_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestOneNamespaceCannotTakeEveryJudgement: the judgements that may run at once (Judgements, 2
// here, GOMAXPROCS by default: 2 on a 2-CPU operator pod) were shared first come, first served.
// A namespace admin whose namespace a profile enforces held all of them with dry-run requests
// whose objects take long to judge (each up to the API server's deadline; see
// TestAnObjectCannotBuyItsWayOutOfJudgement for what an object may cost), and every other
// namespace's workloads (a Deployment, the Pods a ReplicaSet controller creates in a rollout)
// found none free and were refused under Enforce ("judging other requests"), for as long as the
// flood lasted. A namespace now holds at most half of them (at least one): another namespace's
// request is judged, here refused only for what it is. The tenant's reads wait in the test
// until it lets them go.
func TestOneNamespaceCannotTakeEveryJudgement(t *testing.T) {
	const tenant, other = "fair-tenant", "fair-other"
	setup(t, tenant, v1alpha1.EnforcementEnforce)
	setup(t, other, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	held := &holdingIn{holding: holding{Client: k, entered: make(chan struct{}, 64), release: make(chan struct{})}, namespace: tenant}
	v, err := validator(held, k)
	if err != nil {
		t.Fatal(err)
	}
	v.Judgements = 2
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	ask := func(ns, name, timeout string) *admissionv1.AdmissionResponse {
		return send(t, srv.URL, creatingDeployment(t, deployment(ns, name, true)), timeout)
	}

	// The tenant's flood: as many requests as there are judgements, each held.
	var wg sync.WaitGroup
	for _, name := range []string{"flood-a", "flood-b"} {
		wg.Go(func() { ask(tenant, name, "30s") })
	}
	<-held.entered
	defer func() {
		close(held.release)
		wg.Wait()
	}()

	r := ask(other, "web", "2s")
	if r == nil || r.Allowed || r.Result == nil || strings.Contains(r.Result.Message, "judging other requests") ||
		!strings.Contains(r.Result.Message, "wl-privileged") {
		t.Errorf("another namespace's Deployment while the tenant floods: want it judged (refused on wl-privileged), got %+v", r)
	}
}

// holdingIn holds (holding) the reads of NetworkPolicies in namespace alone.
type holdingIn struct {
	holding
	namespace string
}

func (h *holdingIn) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*networkingv1.NetworkPolicyList); ok {
		o := (&client.ListOptions{}).ApplyOptions(opts)
		if o.Namespace == h.namespace {
			return h.holding.List(ctx, list, opts...)
		}
	}
	return h.Client.List(ctx, list, opts...)
}

package webhook_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestADenialOnOtherWorkloadsIsConfirmedWithTheAPIServer: avl-pdb counts the pods of every
// workload a PodDisruptionBudget selects, and declares the workloads it reads as
// engine.KindWorkload. A team replaces Deployment web-v1 (3 replicas) with web-v2 (2 replicas,
// the same pod labels) under a budget of minAvailable 2: once web-v1 is deleted the budget
// allows no disruption of web-v2's pods, but a cache that still holds web-v1 counts 5 pods, 3
// of which may go, as many as web-v2 has. The denial is confirmed with the workloads the API
// server holds, so web-v2 is admitted; a workload no budget selects is still denied.
func TestADenialOnOtherWorkloadsIsConfirmedWithTheAPIServer(t *testing.T) {
	const ns = "enforce-other-workloads"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	raiseToCritical(t, ns, "avl-pdb")
	front := map[string]string{"tier": "front"}
	two := intstr.FromInt32(2)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "front", Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &two, Selector: &metav1.LabelSelector{MatchLabels: front}}}
	if err := k.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	withReplicas := func(name string, n int32, podLabels map[string]string) *appsv1.Deployment {
		d := deployment(ns, name, false)
		d.Spec.Replicas = &n
		d.Spec.Selector.MatchLabels = podLabels
		d.Spec.Template.Labels = podLabels
		return d
	}
	v1 := withReplicas("web-v1", 3, map[string]string{"tier": "front", "version": "v1"})
	if err := k.Create(ctx, v1); err != nil {
		t.Fatal(err)
	}
	stale := v1.DeepCopy()
	if err := k.Delete(ctx, v1); err != nil {
		t.Fatal(err)
	}

	w, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	// A cache that has not seen web-v1 deleted.
	cache := interceptor.NewClient(w, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			if l, ok := list.(*appsv1.DeploymentList); ok {
				l.Items = append(l.Items, *stale)
			}
			return nil
		},
	})
	// The API server, counting the lists read from it: a confirmation costs one list per kind
	// read again, and only a denial is confirmed.
	lists := 0
	api := interceptor.NewClient(w, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lists++
			return c.List(ctx, list, opts...)
		},
	})
	req := func(d *appsv1.Deployment) admission.Request {
		return admission.Request{AdmissionRequest: *creatingDeployment(t, d)}
	}
	web := func() *appsv1.Deployment {
		return withReplicas("web-v2", 2, map[string]string{"tier": "front", "version": "v2"})
	}
	current, err := validator(k, api)
	if err != nil {
		t.Fatal(err)
	}
	if resp := current.Handle(ctx, req(web())); !resp.Allowed || lists != 0 {
		t.Errorf("with a current cache: want web-v2 admitted without reading the API server, got allowed=%v after %d lists: %+v", resp.Allowed, lists, resp.Result)
	}
	v, err := validator(cache, api)
	if err != nil {
		t.Fatal(err)
	}
	if resp := v.Handle(ctx, req(web())); !resp.Allowed {
		t.Errorf("with a deleted Deployment still in the cache, a Deployment its PodDisruptionBudget protects was denied: %+v", resp.Result)
	}
	// PodDisruptionBudgets, HorizontalPodAutoscalers, and the eight workload kinds.
	if lists != 10 {
		t.Errorf("confirming an avl-pdb denial listed %d kinds from the API server, want 10", lists)
	}
	if resp := v.Handle(ctx, req(withReplicas("unbudgeted", 2, map[string]string{"tier": "back"}))); resp.Allowed || !strings.Contains(resp.Result.Message, "avl-pdb") {
		t.Errorf("a Deployment no PodDisruptionBudget selects: want denied naming avl-pdb, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
	// Without the confirmation (no API reader), the stale cache denies web-v2: the test can tell.
	v.APIReader = nil
	if resp := v.Handle(ctx, req(web())); resp.Allowed || !strings.Contains(resp.Result.Message, "avl-pdb") {
		t.Errorf("judged on the stale cache alone: want web-v2 denied naming avl-pdb, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
	// An update is confirmed with the object as submitted in place of the API server's copy, not
	// beside it: the stale cache denies an update of solo, and counted twice, solo's own 2 pods
	// would meet the budget without it and the confirmation would deny it too.
	v.APIReader = api
	solo := withReplicas("solo", 2, map[string]string{"tier": "front", "version": "solo"})
	if err := k.Create(ctx, solo); err != nil {
		t.Fatal(err)
	}
	changed := solo.DeepCopy()
	changed.Spec.Template.Annotations = map[string]string{"rollout": "2"}
	if resp := v.Handle(ctx, admission.Request{AdmissionRequest: *updatingDeployment(t, solo, changed)}); !resp.Allowed {
		t.Errorf("updating the only Deployment a PodDisruptionBudget protects, with a deleted one still in the cache: want admitted, got %+v", resp.Result)
	}
}

package webhook_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAPodLabelTheTemplateLacksIsJudged: a namespace admin whose Deployment passes
// net-pod-policy-coverage (a default-deny policy covers its pods) adds to one of its Pods a
// label that a NetworkPolicy admitting every source selects, at creation or by kubectl label.
// The Pod is then open to the whole cluster, though its template is not: it must be judged
// itself, not admitted as the Deployment is (and reported as the Deployment's Pass).
func TestAPodLabelTheTemplateLacksIsJudged(t *testing.T) {
	const ns = "enforce-labels"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	raiseToCritical(t, ns, "net-pod-policy-coverage")
	k, _ := newClient(t)
	ctx := context.Background()
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	for _, np := range []*networkingv1.NetworkPolicy{
		{ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: ingress}},
		{ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"exposed": "true"}},
				PolicyTypes: ingress, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}},
	} {
		if err := k.Create(ctx, np); err != nil {
			t.Fatal(err)
		}
	}
	d := deployment(ns, "web", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatalf("a Deployment the default-deny policy covers was denied: %v", err)
	}
	rs := replicaSetOf(d, "web-5d8")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	plain := podOf(rs, "web-5d8-plain")
	if err := k.Create(ctx, plain); err != nil {
		t.Fatalf("a Pod its ReplicaSet's template explains was denied: %v", err)
	}

	exposed := podOf(rs, "web-5d8-exposed")
	exposed.Labels = map[string]string{"app": "web", "exposed": "true"}
	err := k.Create(ctx, exposed)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a Pod carrying a label that an open NetworkPolicy selects was admitted: %v", err)
	}
	for _, want := range []string{"soc2-operator denied Pod enforce-labels/web-5d8-exposed: ",
		`net-pod-policy-coverage (Critical): NetworkPolicy "open" admits ingress from anywhere`, "label exposed, which the template does not set, makes NetworkPolicy open select it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %q lacks %q", err.Error(), want)
		}
	}

	// kubectl label pod web-5d8-plain exposed=true
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"exposed":"true"}}}`))
	if err := k.Patch(ctx, plain, patch); !apierrors.IsForbidden(err) {
		t.Errorf("labelling a running Pod so that an open NetworkPolicy selects it was admitted: %v", err)
	}
	// A label that no policy selects changes nothing the checks read.
	patch = client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"debug":"true"}}}`))
	if err := k.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: plain.Name}}, patch); err != nil {
		t.Errorf("labelling a running Pod with a label no policy selects was denied: %v", err)
	}
}

package webhook_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAMirrorPodIsAdmittedSoThatTheReportsSeeIt: the kubelet runs a static pod whatever the
// API server answers, and creates its mirror pod so that the cluster can see it. Refusing the
// mirror pod stops nothing; it only hides a running pod from the reports, whose namespace then
// reads Compliant. So the webhook admits a mirror pod a node creates, with the failures as
// warnings, and the reports judge it. Anyone else's pod that carries the mirror annotation is
// judged as any pod is.
func TestAMirrorPodIsAdmittedSoThatTheReportsSeeIt(t *testing.T) {
	const ns = "enforce-mirror"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	// The Node authorizer lets a kubelet create its mirror pods; this API server has RBAC only.
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-node-mirror-pods"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-node-mirror-pods"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"}}}
	for _, o := range []client.Object{role, binding} {
		if err := k.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k.Delete(ctx, o) })
	}
	yes := true
	mirror := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "node-agent-node-1", Namespace: ns,
				Annotations: map[string]string{engine.MirrorPodAnnotation: "6c1f0e7d2b"}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
				Name: "agent", Image: "registry.example.com/agent:1.0.0",
				SecurityContext: &corev1.SecurityContext{Privileged: &yes},
			}}},
		}
	}

	w := &warnings{}
	c := rest.CopyConfig(cfg)
	c.WarningHandlerWithContext = w
	c.Impersonate = rest.ImpersonationConfig{UserName: "system:node:node-1", Groups: []string{"system:nodes", "system:authenticated"}}
	node, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Create(ctx, mirror(), client.DryRunAll); err != nil {
		t.Fatalf("the kubelet's mirror pod of a privileged static pod was refused, which hides the running pod from the reports: %v", err)
	}
	if got := w.all(); !strings.Contains(got, "wl-privileged") {
		t.Errorf("the mirror pod was admitted without a warning naming wl-privileged: %q", got)
	}

	if err := k.Create(ctx, mirror(), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "soc2-operator denied Pod") {
		t.Errorf("a privileged pod carrying the mirror annotation, from someone who is not a node: want the webhook's denial, got %v", err)
	}
}

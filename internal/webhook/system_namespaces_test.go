package webhook_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestSystemNamespacesAreNeverJudged: the kustomize install and the chart keep the system
// namespaces out of the webhook with a namespaceSelector, but OLM writes its own (from the
// OperatorGroup) and the bundle cannot carry one, nor can this suite's configuration, which is
// config/webhook's manifests.yaml as generated. A profile that includes the system namespaces
// and enforces must then still not refuse what the cluster runs in kube-system: the webhook
// leaves them alone whatever the configuration sends it, as the README says. The reports judge
// them still.
func TestSystemNamespacesAreNeverJudged(t *testing.T) {
	k, _ := newClient(t)
	ctx := context.Background()
	const ns = "enforce-with-system"
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: v1alpha1.ComplianceProfileSpec{
			IncludeSystemNamespaces: true,
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{ns, "kube-system", "kube-public"},
			}}},
			Enforcement: &v1alpha1.Enforcement{Mode: v1alpha1.EnforcementEnforce, Severity: v1alpha1.SeverityCritical},
		},
	}
	if err := k.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(ctx, p) })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)
	for _, system := range []string{"kube-system", "kube-public"} {
		if err := k.Create(ctx, deployment(system, "node-agent", true), client.DryRunAll); err != nil {
			t.Errorf("a privileged Deployment in %s was refused: %v", system, err)
		}
	}
}

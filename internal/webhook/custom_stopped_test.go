package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestACustomCheckStoppedByTheObjectIsNoPass: a custom check's expression is stopped at its
// cost limit or after two seconds, and its result is then NotAssessed, which the reports show
// as undecided. The object's author decides when it is stopped, by making a list it walks long
// enough: a Pod whose container holds a literal AWS_SECRET_ACCESS_KEY behind 50,000 empty
// variables (under 1 MB) was admitted under a profile that enforces a Critical custom check
// against it, the expression having run out of time. It is refused, naming the check and why.
func TestACustomCheckStoppedByTheObjectIsNoPass(t *testing.T) {
	const ns = "enforce-custom-stopped"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-aws-secret", Title: "No AWS secret keys in the environment",
			Kinds: []string{"Pod"}, Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.spec.containers.all(c, !has(c.env) || c.env.all(e, !e.name.matches('^AWS_SECRET')))"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	pod := func(name string, padding int) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: *deployment(ns, name, false).Spec.Template.Spec.DeepCopy()}
		for i := range padding {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: fmt.Sprintf("E%d", i)})
		}
		p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", Value: "wJalrXUtnFEMI"})
		return p
	}
	testenv.Eventually(t, 10*time.Second, "the custom check enforced", func() error {
		if err := k.Create(ctx, pod("probe", 0), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-no-aws-secret") {
			return fmt.Errorf("a Pod with AWS_SECRET_ACCESS_KEY: %v", err)
		}
		return nil
	})

	err := k.Create(ctx, pod("padded", 50_000), client.DryRunAll)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a Pod hiding AWS_SECRET_ACCESS_KEY behind 50,000 variables, under a profile enforcing a custom check against it, was admitted: %v", err)
	}
	for _, want := range []string{"custom-no-aws-secret (Critical)", "expression stopped"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %.300q lacks %q", err.Error(), want)
		}
	}
}

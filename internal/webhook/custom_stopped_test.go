package webhook_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestACustomCheckStoppedByTheObjectIsNoPass: a custom check's expression is stopped at its
// cost limit or after its time (in the webhook, a share of the time left), and its result is
// then NotAssessed, which the reports show as undecided. The object's author decides when it is
// stopped, by making a list it walks long enough: a Pod whose container holds a literal AWS_SECRET_ACCESS_KEY behind 50,000 empty
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

// TestACustomCheckIsStoppedWithinTheWebhooksTime: a custom check's expression may run two seconds
// (engine.DefaultCustomCheckTimeout) before it is stopped, and the webhook had one second to judge
// a request the API server gives two (judgingBudget). An expression that runs long was never
// stopped within the webhook's time: every request under the profile was answered out of time,
// "could not judge Deployment ... within the webhook's timeout", which names no check. Refused
// either way under Enforce, but the message sent the workload's owner looking for a slow
// operator, not for the custom check their profile enforces. The check is now stopped within a
// share of the time left (at most two seconds) and named.
func TestACustomCheckIsStoppedWithinTheWebhooksTime(t *testing.T) {
	const ns = "enforce-custom-slow"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		// lists.range(n).filter copies the list it builds at every step: cheap in CEL cost
		// units, and seconds of work at this size.
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-slow", Title: "A slow expression",
			Kinds: []string{"Workload"}, Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityCritical,
			Expression: "lists.range(60000).filter(i, true).size() > 0"}}
	})
	k, _ := newClient(t)
	v, err := validator(k, k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	// As the API server calls it: two seconds left, a budget of one.
	r := send(t, srv.URL, creatingDeployment(t, deployment(ns, "agent", false)), "2s")
	if r == nil {
		t.FailNow()
	}
	got := strings.Join(r.Warnings, "\n")
	if r.Result != nil {
		got += r.Result.Message
	}
	if r.Allowed {
		t.Fatalf("a Deployment under a profile enforcing a custom check that cannot finish was admitted: %q", got)
	}
	for _, want := range []string{"custom-slow (Critical)", "expression stopped: it ran longer than"} {
		if !strings.Contains(got, want) {
			t.Errorf("denial %.400q lacks %q", got, want)
		}
	}
}

// TestAStoppedCustomCheckIsWaivedByAnExceptionAsAFailureIs: a custom check stopped on the object
// is refused "as a failure is" (TestACustomCheckStoppedByTheObjectIsNoPass). A failure of that
// check that an Active, approved exception covers is admitted; the stopped check was refused
// whatever exception covered it, so under Enforce the webhook denied a workload the security team
// had waived, and the reports (which never count the stopped check as a failure) and the webhook
// disagreed on what the exception allows. The exception admits it now, and only what it names: a
// Pod it does not name is still refused.
func TestAStoppedCustomCheckIsWaivedByAnExceptionAsAFailureIs(t *testing.T) {
	const ns = "enforce-custom-stopped-excepted"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-aws-secret", Title: "No AWS secret keys in the environment",
			Kinds: []string{"Pod"}, Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.spec.containers.all(c, !has(c.env) || c.env.all(e, !e.name.matches('^AWS_SECRET')))"}}
		// Critical findings may be waived under this profile (by default they may not).
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
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
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-batch-secret", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"custom-no-aws-secret"}, Match: v1alpha1.ResourceMatch{Kinds: []string{"Pod"}, Names: []string{"legacy-batch", "probe"}},
			Reason: "The vendor batch job reads its key from the environment until PAY-7 moves it.", Owner: "payments@example.com",
			Expires: metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
	if err := k.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the custom check enforced and the exception honoured", func() error {
		if err := k.Create(ctx, pod("unwaived", 0), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-no-aws-secret") {
			return fmt.Errorf("a Pod with AWS_SECRET_ACCESS_KEY that no exception names: %v", err)
		}
		if err := k.Create(ctx, pod("probe", 0), client.DryRunAll); err != nil {
			return fmt.Errorf("a Pod with AWS_SECRET_ACCESS_KEY that the exception names: %v", err)
		}
		return nil
	})

	if err := k.Create(ctx, pod("legacy-batch", 50_000), client.DryRunAll); err != nil {
		t.Errorf("a Pod whose custom check was stopped, named by an approved exception for that check, was denied: %.400v", err)
	}
	err := k.Create(ctx, pod("other-batch", 50_000), client.DryRunAll)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a Pod whose custom check was stopped, which the exception does not name, was admitted: %v", err)
	}
	for _, want := range []string{"custom-no-aws-secret (Critical)", "expression stopped"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %.300q lacks %q", err.Error(), want)
		}
	}
}

// TestACustomCheckThatFailsOnTheObjectIsNoPass: a custom check's expression that fails at run
// time is NotAssessed in the reports ("expression failed: no such key: runAsNonRoot"), and the
// object's author decides that too, by leaving out the field the expression reads. Under a
// profile enforcing "object.spec.template.spec.securityContext.runAsNonRoot == true", a Deployment
// setting runAsNonRoot: false was refused and one that does not set it (root by default; the API
// server defaults the pod securityContext to {}) was admitted. Kubernetes refuses what an expression cannot evaluate (a
// ValidatingAdmissionPolicy's failurePolicy defaults to Fail, k8s v1.37.2); so does the webhook,
// naming the check and the error.
func TestACustomCheckThatFailsOnTheObjectIsNoPass(t *testing.T) {
	const ns = "enforce-custom-error"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-nonroot", Title: "Pods run as non-root",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"CC6.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.spec.template.spec.securityContext.runAsNonRoot == true"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	no := false
	explicit := deployment(ns, "explicit-root", false)
	explicit.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &no}
	testenv.Eventually(t, 10*time.Second, "the custom check enforced", func() error {
		if err := k.Create(ctx, explicit, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-nonroot") {
			return fmt.Errorf("a Deployment with runAsNonRoot: false: %v", err)
		}
		return nil
	})

	err := k.Create(ctx, deployment(ns, "no-security-context", false), client.DryRunAll)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a Deployment without the pod securityContext the enforced custom check reads was admitted: %v", err)
	}
	for _, want := range []string{"custom-nonroot (Critical)", "expression failed: no such key: runAsNonRoot"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %.300q lacks %q", err.Error(), want)
		}
	}
	// An expression that reads the object safely is judged as before.
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks[0].Expression = "has(object.spec.template.spec.securityContext.runAsNonRoot) && object.spec.template.spec.securityContext.runAsNonRoot == true"
	})
	testenv.Eventually(t, 10*time.Second, "the safe expression enforced", func() error {
		err := k.Create(ctx, deployment(ns, "no-security-context", false), client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-nonroot (Critical)") || strings.Contains(err.Error(), "expression failed") {
			return fmt.Errorf("a Deployment without a pod securityContext under the safe expression: %v", err)
		}
		return nil
	})
}

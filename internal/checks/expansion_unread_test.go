package checks

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// paddedReferences is a Pod whose container a namespace admin can run (every value under
// Linux's 128 KiB MAX_ARG_STRLEN, 160 KiB in all, far under a quarter of the default 8 MiB stack
// limit) and whose DATABASE_URL the kubelet expands to a URL with a literal password: A's 32
// KiB, referred to three times by B, and P, the password, referred to by D, take up what
// expansion may add (its own text and expansionAllowance) but a few bytes, fewer than P's. padded
// false leaves B and D out: the same credential, within the bound.
func paddedReferences(padded bool) *engine.Object {
	env := []corev1.EnvVar{{Name: "A", Value: strings.Repeat("a", 32<<10)}}
	if padded {
		env = append(env, corev1.EnvVar{Name: "B", Value: "$(A)$(A)$(A)"})
	}
	env = append(env, corev1.EnvVar{Name: "P", Value: "Orders-2024-" + strings.Repeat("q7", 50)})
	if padded {
		// What P's own text adds to the bound, spent.
		env = append(env, corev1.EnvVar{Name: "D", Value: "$(P)"})
	}
	env = append(env, corev1.EnvVar{Name: "DATABASE_URL", Value: "postgres://app:$(P)@db.shop.svc/orders"})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "padded", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: env}}}}
	return engine.NewObject(pod, "v1", "Pod")
}

// TestACredentialPastTheExpansionBoundIsUnread: a namespace admin hid a literal password behind
// $(VAR) references that expand past what the check expands (expansionAllowance), in a
// container that runs: sec-literal-env-credentials was NotAssessed, undecided, so CC6.1 stayed
// Pass, the namespace Compliant and scan's gate passed it. The bound is one the workload's
// author reaches on purpose, in scan as in the operator: the result is unread
// (engine.Result.Unread), which fails closed in the reports and in scan's gate.
func TestACredentialPastTheExpansionBoundIsUnread(t *testing.T) {
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	judge := func(o *engine.Object) engine.Result {
		ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
		if len(ev.Results) != 1 {
			t.Fatalf("%d results, want 1: %+v", len(ev.Results), ev.Results)
		}
		return ev.Results[0]
	}
	if r := judge(paddedReferences(false)); r.Status != engine.StatusFail {
		t.Fatalf("the credential within the bound is %s (%s), want Fail: the test tests nothing", r.Status, r.Message)
	}
	r := judge(paddedReferences(true))
	if r.Status != engine.StatusNotAssessed || !r.Unread || !r.FailedOnObject() || !strings.Contains(r.Message, "$(VAR) references") {
		t.Errorf("padded: %s unread=%v (%s), want NotAssessed, unread, saying the references expand past the bound", r.Status, r.Unread, r.Message)
	}
}

// TestAConfigMapPastTheExpansionBoundIsUnread: sec-configmap-credentials expands the values
// that refer to a ConfigMap's keys within a bound, and follows at most maxConfigMapEnv of a
// container's references to them: past either, what the keys become was not read, by the
// workload author's making (in scan too). Unread, as for sec-literal-env-credentials.
func TestAConfigMapPastTheExpansionBoundIsUnread(t *testing.T) {
	objs := manyReferences(strings.Repeat("abcdefghij", 1000), 2000)
	ev := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil).Evaluate(engine.NewInventory(objs, true), nil,
		engine.Options{Now: fixtureNow, KeepPassing: true})
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !ev.Results[0].Unread {
		t.Errorf("ConfigMap settings: %+v, want NotAssessed and unread", ev.Results)
	}
}

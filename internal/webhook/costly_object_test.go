package webhook_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnObjectCannotBuyItsWayOutOfJudgement: a webhook that outlasts its timeoutSeconds (5)
// leaves the request to its failurePolicy, Ignore by default, which admits it unjudged. The
// object's author chooses what the checks read in it, so no value may cost the checks more than
// a linear pass. Each of these privileged Pods was admitted under Enforce: the search for
// passwords in URLs read a value of "https://user:" over and over (400 KB) once per "://" to its
// end (about 50 s of CPU on a 2-core machine), and the expansion of $(VAR) references read a
// value of "$($($(..." (1.2 MB) once per "$(" (about 20 s). The test asserts the denials, which
// the API server's timeout alone decides, not a time.
func TestAnObjectCannotBuyItsWayOutOfJudgement(t *testing.T) {
	const ns = "enforce-costly"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	yes := true
	for name, value := range map[string]string{
		"urls":       strings.Repeat("https://user:", 400_000/len("https://user:")),
		"references": strings.Repeat("$(", 1_200_000/len("$(")),
	} {
		t.Run(name, func(t *testing.T) {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "agent-" + name, Namespace: ns},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/app:1.0.0",
					SecurityContext: &corev1.SecurityContext{Privileged: &yes},
					Env:             []corev1.EnvVar{{Name: "SETTINGS", Value: value}},
				}}},
			}
			err := k.Create(context.Background(), pod, client.DryRunAll)
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
				t.Fatalf("a privileged Pod with a costly environment under Enforce: want a denial naming wl-privileged, got %v", err)
			}
		})
	}
}

package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAPodWithLongEnvIsJudgedThroughItsReplicaSet: the operator's cache keeps a workload's long
// env values as stand-ins (checks.ReduceEnvValues), and the webhook compares the Pod it is asked
// about, whole, with its ReplicaSet as the cache keeps it: the same values are the same (the
// Pod is judged through its controller and admitted), and a privileged one is denied for its
// securityContext alone, not for an env the template does explain.
func TestAPodWithLongEnvIsJudgedThroughItsReplicaSet(t *testing.T) {
	const ns = "enforce-long-env"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "notes", false)
	for j := range 32 {
		d.Spec.Template.Spec.Containers[0].Env = append(d.Spec.Template.Spec.Containers[0].Env,
			corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", j), Value: strings.Repeat(fmt.Sprint(j%10)+" ", 1000)})
	}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "notes-5d8")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatalf("a ReplicaSet its Deployment's template explains was denied: %v", err)
	}
	// The webhook reads the ReplicaSet from the cache, which keeps stand-ins of its values.
	testenv.Eventually(t, 30*time.Second, "the cache holds the ReplicaSet's env as stand-ins", func() error {
		cached := &appsv1.ReplicaSet{}
		if err := held.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: rs.Name}, cached); err != nil {
			return err
		}
		if _, ok := cached.Annotations[checks.EnvStandInsAnnotation]; !ok {
			return fmt.Errorf("the cache holds the ReplicaSet's env values whole")
		}
		return nil
	})
	if err := k.Create(ctx, podOf(rs, "notes-5d8-abcde")); err != nil {
		t.Errorf("a Pod its ReplicaSet's template explains was denied: %v", err)
	}
	yes := true
	pod := podOf(rs, "notes-5d8-privileged")
	pod.Spec.Containers[0].SecurityContext.Privileged = &yes
	pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	err := k.Create(ctx, pod)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a privileged Pod: want denied, got %v", err)
	}
	if !strings.Contains(err.Error(), "container app's securityContext differs") || strings.Contains(err.Error(), "env differs") {
		t.Errorf("the denial names another difference than the securityContext: %v", err)
	}
}

package tenanttest

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAPodCreatedBeforeItsLimitRangeFailsItsDeployment holds avl-memory-limit to the
// LimitRanger admission plugin of a real API server: a Deployment that leaves its memory limit
// to the namespace's LimitRange fails while its Pod, created before the LimitRange, runs
// without one (LimitRanger fills in resources only when a pod is created), and passes once the
// ReplicaSet's replacement Pod is admitted with the LimitRange's default.
func TestAPodCreatedBeforeItsLimitRangeFailsItsDeployment(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "limitrange", nil)
	web := hardenedDeployment(tn.Namespace, "web")
	web.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-7d9c8b6f5")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	old := podOf(rs, "web-7d9c8b6f5-abcde")
	if err := platform.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "bounds", Namespace: tn.Namespace},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
			Default: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}}}}
	if err := platform.Create(ctx, lr); err != nil { // a namespace admin cannot write LimitRanges
		t.Fatal(err)
	}
	tn.waitReport(t, "avl-memory-limit fails Deployment web, naming the Pod without a limit", func(rep *v1alpha1.ComplianceReport) error {
		f, err := failingFinding(rep, "Deployment", "web", "avl-memory-limit")
		if err != nil {
			return err
		}
		if want := "Pod web-7d9c8b6f5-abcde, created before a LimitRange gave it one"; !strings.Contains(f.Message, want) {
			return errors.New("message " + f.Message + " does not say " + want)
		}
		return nil
	})

	// The ReplicaSet replaces its Pod: LimitRanger gives the new one the default limit. (No
	// kubelet confirms the old Pod's end: it is deleted at once.)
	if err := platform.Delete(ctx, old, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	renewed := podOf(rs, "web-7d9c8b6f5-fghij")
	if err := platform.Create(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	got := &corev1.Pod{}
	if err := platform.Get(ctx, types.NamespacedName{Namespace: tn.Namespace, Name: renewed.Name}, got); err != nil {
		t.Fatal(err)
	}
	if q := got.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]; q.String() != "256Mi" {
		t.Fatalf("the Pod created after the LimitRange has memory limit %q, want LimitRanger's 256Mi", q.String())
	}
	tn.waitReport(t, "avl-memory-limit no longer fails Deployment web", func(rep *v1alpha1.ComplianceReport) error {
		if f := finding(rep, "Deployment", "web", "avl-memory-limit"); f != nil {
			return errors.New("still listed: " + f.Message)
		}
		return nil
	})
}

package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestADenialIsBounded: the API server returns a webhook's denial to the client as it is and
// records it in the audit log with the response status, at every audit level. Each enforced
// failure was a line of it, so a namespace admin's dry-run Pod of 5,000 privileged containers
// (300 KB) drew a denial of megabytes, as often as they liked, into the cluster's audit log.
// The denial names the first failures and how many more there are, as the warnings do.
func TestADenialIsBounded(t *testing.T) {
	const ns = "enforce-denial-size"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "wide", Namespace: ns}}
	template := deployment(ns, "wide", true).Spec.Template.Spec.Containers[0]
	for i := range 5000 {
		c := *template.DeepCopy()
		c.Name = fmt.Sprintf("c%d", i)
		c.SecurityContext.Privileged = ptr.To(true)
		pod.Spec.Containers = append(pod.Spec.Containers, c)
	}
	err := k.Create(context.Background(), pod, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged (Critical) container c0:") {
		t.Fatalf("a Pod of 5,000 privileged containers under Enforce: want a denial naming wl-privileged, got %.300v", err)
	}
	msg := err.Error()
	if len(msg) > 16<<10 {
		t.Errorf("the denial of a Pod of 5,000 privileged containers is %d bytes, want at most 16 KiB", len(msg))
	}
	if !strings.Contains(msg, "more failures") {
		t.Errorf("the denial %.300q... does not say how many failures it leaves out", msg)
	}
}

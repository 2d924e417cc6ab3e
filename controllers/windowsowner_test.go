package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAPodCannotBorrowTheWindowsOSOfTheDaemonSetItNames: DaemonSet agent keeps itself to Windows
// nodes by required node affinity only, so its template is judged as a Windows pod and
// wl-readonly-rootfs is NotApplicable to it. A namespace admin reads its UID and creates a bare
// Pod naming agent as its controller, with agent's labels and containers, but kept to Linux
// nodes by its own node selector (and a long grace period, to outlive a deletion). The real API
// server admits it, and a Linux kubelet runs it with a writable root filesystem. The report must
// list the Pod under wl-readonly-rootfs: it was judged through agent's template, as Windows, and
// had no finding. Pod win-agent-x7k2p of DaemonSet win-agent, which declares spec.os.name
// windows as its template does, is still explained by it and has none.
func TestAPodCannotBorrowTheWindowsOSOfTheDaemonSetItNames(t *testing.T) {
	const ns, profile = "win-owner", "winowner"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{"winowner": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: kubernetes.io/os, operator: In, values: [windows]}]
      containers:
      - {name: agent, image: registry.example.com/platform/agent:3.4.1}
`)
	applyYAML(t, `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: win-agent, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: win-agent}}
  template:
    metadata: {labels: {app: win-agent}}
    spec:
      os: {name: windows}
      containers:
      - {name: agent, image: registry.example.com/platform/agent:3.4.1}
`)
	pod := func(ds, name string, mutate func(*corev1.Pod)) {
		t.Helper()
		owner := &appsv1.DaemonSet{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: ds}, owner); err != nil {
			t.Fatal(err)
		}
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
				Labels: map[string]string{"app": ds, "controller-revision-hash": "5d8f9c7b6", "pod-template-generation": "1"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds, UID: owner.UID,
					Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
			Spec: *owner.Spec.Template.Spec.DeepCopy(),
		}
		mutate(p)
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pod("agent", "agent-x7k2p", func(p *corev1.Pod) {
		p.Spec.Affinity = nil
		p.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
		p.Spec.TerminationGracePeriodSeconds = ptr.To(int64(30 * 24 * 3600))
	})
	pod("win-agent", "win-agent-x7k2p", func(p *corev1.Pod) {})
	createProfile(t, profile, "winowner", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-readonly-rootfs") })
	eventually(t, 20*time.Second, "the forged Pod's wl-readonly-rootfs finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.LastEvaluated == nil {
			return fmt.Errorf("not evaluated yet")
		}
		if f := finding(rep, "wl-readonly-rootfs", "win-agent-x7k2p", "agent"); f != nil {
			return fmt.Errorf("win-agent-x7k2p, a Windows pod of a Windows template, has a finding: %q", f.Message)
		}
		f := finding(rep, "wl-readonly-rootfs", "agent-x7k2p", "agent")
		if f == nil {
			return fmt.Errorf("no finding on agent-x7k2p (findings: %+v)", rep.Status.Findings)
		}
		if f.Resource.Kind != "Pod" || !strings.Contains(f.Message, "judged on its own: not explained by DaemonSet agent's template") {
			return fmt.Errorf("agent-x7k2p's finding is %+v", *f)
		}
		return nil
	})
}

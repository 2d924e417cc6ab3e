package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// osReport is a condition for eventually: the report of profile in ns has been evaluated, the
// resources in fails have a wl-readonly-rootfs finding (container name) and those in passes
// have none.
func osReport(ns, profile, container string, fails, passes []string) func() error {
	return func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.LastEvaluated == nil {
			return fmt.Errorf("not evaluated yet")
		}
		for _, name := range fails {
			if finding(rep, "wl-readonly-rootfs", name, container) == nil {
				return fmt.Errorf("no wl-readonly-rootfs finding on %s (findings: %+v)", name, rep.Status.Findings)
			}
		}
		for _, name := range passes {
			if f := finding(rep, "wl-readonly-rootfs", name, container); f != nil {
				return fmt.Errorf("%s has a wl-readonly-rootfs finding: %q", name, f.Message)
			}
		}
		return nil
	}
}

// TestARuntimeClassThatAdmitsOnlyWindowsNodesMakesItsTemplatesWindows: RuntimeClass
// windows-2022's scheduling.nodeSelector admits only Windows nodes; the RuntimeClass admission
// plugin (on in the real API server) merges it into Pods when they are created, never into
// templates. Deployment iis names it, with a writable root filesystem, which no Windows kubelet
// applies: it had a wl-readonly-rootfs finding, judged as Linux. A bare Pod created with the
// class gets the selector from the API server and has none either. Deployment web names
// windows-2025, which does not exist (the API server stores the template all the same): it is
// judged as Linux and fails, until a cluster admin creates windows-2025 admitting only Windows
// nodes, which re-evaluates the namespace. Deployment sandboxed names a RuntimeClass whose
// selector names no OS, and stays Linux.
func TestARuntimeClassThatAdmitsOnlyWindowsNodesMakesItsTemplatesWindows(t *testing.T) {
	const ns, profile = "rc-os", "rcos"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{"rcos": "true"})
	applyYAML(t, `
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: windows-2022}
handler: runhcs-wcow-process
scheduling:
  nodeSelector: {kubernetes.io/os: windows}
`)
	applyYAML(t, `
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
scheduling:
  nodeSelector: {sandbox.gke.io/runtime: gvisor}
`)
	deployment := func(name, class string) {
		t.Helper()
		applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: `+name+`, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: `+name+`}}
  template:
    metadata: {labels: {app: `+name+`}}
    spec:
      runtimeClassName: `+class+`
      containers:
      - {name: app, image: registry.example.com/shop/app:1.4.2}
`)
	}
	deployment("iis", "windows-2022")
	deployment("web", "windows-2025")
	deployment("sandboxed", "gvisor")
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: ns},
		Spec: corev1.PodSpec{RuntimeClassName: ptr.To("windows-2022"),
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/app:1.4.2"}}}}
	if err := k8s.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if bare.Spec.NodeSelector["kubernetes.io/os"] != "windows" {
		t.Fatalf("the API server's RuntimeClass admission did not merge the class's node selector: %v", bare.Spec.NodeSelector)
	}
	createProfile(t, profile, "rcos", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-readonly-rootfs") })
	eventually(t, 20*time.Second, "Windows by their RuntimeClass: iis and bare; Linux: web and sandboxed",
		osReport(ns, profile, "app", []string{"web", "sandboxed"}, []string{"iis", "bare"}))

	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "windows-2025"}, Handler: "runhcs-wcow-process",
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"kubernetes.io/os": "windows"}}}
	if err := k8s.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), rc) })
	eventually(t, 20*time.Second, "web Windows once windows-2025 exists",
		osReport(ns, profile, "app", []string{"sandboxed"}, []string{"iis", "bare", "web"}))
}

// TestAPodBoundToAWindowsNodeIsJudgedAsWindows: DaemonSet agent keeps itself to Windows nodes by
// required node affinity alone, which the DaemonSet controller replaces in its pods with their
// node's name. Its Pod agent-x7k2p is bound to Node win-1, which the kubelet labelled
// kubernetes.io/os windows: it runs on Windows, is explained by agent's template and has no
// finding of its own (it was judged on its own, as Linux, and listed under wl-readonly-rootfs).
// A Pod bound to a node that does not exist (ghost), and one bound to a node without an OS
// label (node-2), are judged as Linux; when node-2 is labelled windows, the Pod bound to it is
// re-evaluated and its finding goes.
func TestAPodBoundToAWindowsNodeIsJudgedAsWindows(t *testing.T) {
	const ns, profile = "node-os", "nodeos"
	ctx := context.Background()
	createNamespace(t, ns, map[string]string{"nodeos": "true"})
	node := func(name string, labels map[string]string) *corev1.Node {
		t.Helper()
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		if err := k8s.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), n) })
		return n
	}
	node("win-1", map[string]string{"kubernetes.io/os": "windows", "beta.kubernetes.io/os": "windows"})
	node2 := node("node-2", map[string]string{"kubernetes.io/hostname": "node-2"})
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
	owner := &appsv1.DaemonSet{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "agent"}, owner); err != nil {
		t.Fatal(err)
	}
	pod := func(name, nodeName string, controlled bool) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels: map[string]string{"app": "agent", "controller-revision-hash": "5d8f9c7b6", "pod-template-generation": "1"}},
			Spec: *owner.Spec.Template.Spec.DeepCopy()}
		p.Spec.NodeName = nodeName
		// As the DaemonSet controller writes it: the template's affinity replaced by the node's name.
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
				{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}}}}}}}
		if controlled {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: owner.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
		}
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pod("agent-x7k2p", "win-1", true)
	pod("agent-ghost", "ghost", true)
	pod("stray", "node-2", false)
	createProfile(t, profile, "nodeos", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-readonly-rootfs") })
	eventually(t, 20*time.Second, "agent-x7k2p on a Windows node explained; agent-ghost and stray judged as Linux",
		osReport(ns, profile, "agent", []string{"agent-ghost", "stray"}, []string{"agent", "agent-x7k2p"}))

	node2.Labels["kubernetes.io/os"] = "windows"
	if err := k8s.Update(ctx, node2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "stray Windows once its node is labelled so",
		osReport(ns, profile, "agent", []string{"agent-ghost"}, []string{"agent", "agent-x7k2p", "stray"}))
}

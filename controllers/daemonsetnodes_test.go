package controllers

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestADaemonSetsMaxUnavailableIsResolvedAgainstItsNodes: DaemonSet agent rolls out with
// maxUnavailable 67%, which the DaemonSet controller resolves against the nodes that should run
// the daemon, rounded up. The test writes the status as the controller would (envtest runs none):
// of 3 nodes, 67% is 3, every node at once, and the report lists agent under avl-rolling-update
// (it passed: only 100% failed); once 4 nodes run it, 67% is 3 and one keeps it: the finding goes.
// A change of the status alone re-evaluates the namespace (it did not: only spec, labels,
// annotations and owners did).
func TestADaemonSetsMaxUnavailableIsResolvedAgainstItsNodes(t *testing.T) {
	const ns = "ds-nodes"
	createNamespace(t, ns, map[string]string{"dsnodes": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: `+ns+`}
spec:
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: "67%"}
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: registry.example.com/agent:1.4.2}
`)
	createProfile(t, "dsnodes", "dsnodes", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-rolling-update") })
	if rep := waitWritten(t, ns, "dsnodes"); finding(rep, "avl-rolling-update", "agent", "") != nil {
		t.Fatalf("a finding on agent before its nodes are known: %+v", finding(rep, "avl-rolling-update", "agent", ""))
	}
	setNodes := func(n int32) {
		t.Helper()
		ds := &appsv1.DaemonSet{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "agent"}, ds); err != nil {
			t.Fatal(err)
		}
		ds.Status.DesiredNumberScheduled, ds.Status.CurrentNumberScheduled, ds.Status.NumberReady = n, n, n
		if err := k8s.Status().Update(context.Background(), ds); err != nil {
			t.Fatal(err)
		}
	}
	setNodes(3)
	eventuallyFinding(t, 20*time.Second, ns, "dsnodes", "avl-rolling-update", "DaemonSet", "agent",
		"rollingUpdate maxUnavailable 67% stops the daemon on all 3 nodes that run it at once")
	setNodes(4)
	eventually(t, 20*time.Second, "agent's finding gone", findingSays(ns, "dsnodes", "avl-rolling-update", "agent", ""))
}

package controllers

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestACalicoGlobalNetworkPolicyOpensAndClosesTheNamespaces: on a cluster that serves Calico's
// GlobalNetworkPolicy and Cilium's CiliumClusterwideNetworkPolicy (the suite installs minimal
// CRDs of them, cluster-scoped), a tenant's
// default-deny NetworkPolicy passes net-pod-policy-coverage until a GlobalNetworkPolicy ordered
// before the NetworkPolicies (projectcalico.org/v3) selects the tenant's namespace and allows
// ingress from everything: the Deployment's and the namespace's findings name it; so does a
// CiliumClusterwideNetworkPolicy that admits the world to the namespace's pods. Without them and
// without the NetworkPolicy the pod fails, until a GlobalNetworkPolicy of the default tier
// (crd.projectcalico.org/v1) selects every pod of the namespace for ingress and allows none, a
// cluster-wide default deny, which passes the pod and the namespace. Each cluster-scoped
// policy's change alone re-evaluates the namespace.
func TestACalicoGlobalNetworkPolicyOpensAndClosesTheNamespaces(t *testing.T) {
	createNamespace(t, "gnp-tenant", map[string]string{"gnptest": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: gnp-tenant
spec:
  podSelector: {}
  policyTypes: [Ingress]
`)
	applyWebDeployment(t, "gnp-tenant")
	createProfile(t, "gnptest", "gnptest", nil)
	// The policies are cluster-scoped: they select only this test's namespace, and go with it.
	t.Cleanup(func() {
		for _, gv := range []schema.GroupVersion{{Group: "projectcalico.org", Version: "v3"}, {Group: "crd.projectcalico.org", Version: "v1"}} {
			for _, name := range []string{"gnp-open", "gnp-deny"} {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(gv.WithKind("GlobalNetworkPolicy"))
				u.SetName(name)
				_ = client.IgnoreNotFound(k8s.Delete(context.Background(), u))
			}
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "cilium.io", Version: "v2", Kind: "CiliumClusterwideNetworkPolicy"})
		u.SetName("ccnp-open")
		_ = client.IgnoreNotFound(k8s.Delete(context.Background(), u))
	})
	says := func(check, name, want string) func() error {
		return findingSays("gnp-tenant", "gnptest", check, name, want)
	}
	eventually(t, 20*time.Second, "no net-pod-policy-coverage finding behind the default deny", says("net-pod-policy-coverage", "web", ""))

	applyYAML(t, `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: gnp-open
spec:
  order: 100
  namespaceSelector: gnptest == 'true'
  selector: all()
  ingress:
  - action: Allow
`)
	eventually(t, 15*time.Second, "the GlobalNetworkPolicy's finding",
		says("net-pod-policy-coverage", "web", `Calico GlobalNetworkPolicy "gnp-open" admits ingress from anywhere`))
	eventually(t, 15*time.Second, "the GlobalNetworkPolicy's finding on the namespace",
		says("net-namespace-default-deny", "gnp-tenant", `Calico GlobalNetworkPolicy "gnp-open" selects every pod`))

	deleteUnstructured(t, "projectcalico.org", "v3", "GlobalNetworkPolicy", "", "gnp-open")
	eventually(t, 15*time.Second, "no finding once the GlobalNetworkPolicy is gone", says("net-pod-policy-coverage", "web", ""))

	// Cilium's cluster-wide policy, selecting the namespace's pods by the label Cilium gives
	// every endpoint for its namespace.
	applyYAML(t, `
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: ccnp-open
spec:
  endpointSelector:
    matchLabels: {k8s:io.kubernetes.pod.namespace: gnp-tenant}
  ingress:
  - fromEntities: [world]
`)
	eventually(t, 15*time.Second, "the CiliumClusterwideNetworkPolicy's finding",
		says("net-pod-policy-coverage", "web", `CiliumClusterwideNetworkPolicy "ccnp-open" admits ingress from anywhere`))
	deleteUnstructured(t, "cilium.io", "v2", "CiliumClusterwideNetworkPolicy", "", "ccnp-open")
	eventually(t, 15*time.Second, "no finding once the CiliumClusterwideNetworkPolicy is gone", says("net-pod-policy-coverage", "web", ""))

	deleteUnstructured(t, "networking.k8s.io", "v1", "NetworkPolicy", "gnp-tenant", "default-deny")
	eventually(t, 15*time.Second, "the pod unpoliced without the default deny",
		says("net-pod-policy-coverage", "web", `no NetworkPolicy in namespace "gnp-tenant"`))

	applyYAML(t, `
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: gnp-deny
spec:
  namespaceSelector: gnptest == 'true'
  selector: all()
  types: [Ingress]
`)
	eventually(t, 15*time.Second, "no net-pod-policy-coverage finding behind the cluster's default deny", says("net-pod-policy-coverage", "web", ""))
	eventually(t, 15*time.Second, "no net-namespace-default-deny finding behind the cluster's default deny", says("net-namespace-default-deny", "gnp-tenant", ""))
}

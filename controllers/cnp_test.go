package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestClusterNetworkPoliciesDecideBeforeAndAfterTheNetworkPolicies: on a cluster that serves the
// Network Policy API's ClusterNetworkPolicy (the suite installs v0.2.0's real CRD, which serves
// it at v1alpha2 only), a tenant's default-deny NetworkPolicy passes net-pod-policy-coverage
// until an Admin-tier ClusterNetworkPolicy selecting the tenant's namespace accepts every pod of
// every namespace: Accept is final, no NetworkPolicy rule is read, and the Deployment's and the
// namespace's findings name it. Without the NetworkPolicy the pod fails, until a Baseline-tier
// ClusterNetworkPolicy denies every pod of every namespace to the pods no NetworkPolicy selects,
// which passes the pod and the namespace. Each cluster-scoped policy's change alone re-evaluates
// the namespace.
func TestClusterNetworkPoliciesDecideBeforeAndAfterTheNetworkPolicies(t *testing.T) {
	createNamespace(t, "cnp-tenant", map[string]string{"cnptest": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: cnp-tenant
spec:
  podSelector: {}
  policyTypes: [Ingress]
`)
	applyWebDeployment(t, "cnp-tenant")
	createProfile(t, "cnptest", "cnptest", nil)
	// The policies are cluster-scoped: they select only this test's namespace, and go with it.
	deleteClusterNetworkPoliciesAtCleanup(t, "cnp-open", "cnp-baseline")
	says := func(check, name, want string) func() error {
		return findingSays("cnp-tenant", "cnptest", check, name, want)
	}
	eventually(t, 20*time.Second, "no net-pod-policy-coverage finding behind the default deny", says("net-pod-policy-coverage", "web", ""))
	eventually(t, 15*time.Second, "no net-namespace-default-deny finding beside the default deny", says("net-namespace-default-deny", "cnp-tenant", ""))

	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: cnp-open
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels: {cnptest: "true"}
  ingress:
  - action: Accept
    from:
    - namespaces: {}
`)
	eventually(t, 15*time.Second, "the ClusterNetworkPolicy's finding",
		says("net-pod-policy-coverage", "web", `ClusterNetworkPolicy "cnp-open" (Admin tier, priority 10) admits every pod of every namespace on every port`))
	eventually(t, 15*time.Second, "the ClusterNetworkPolicy's finding on the namespace",
		says("net-namespace-default-deny", "cnp-tenant", `ClusterNetworkPolicy "cnp-open" (Admin tier, priority 10) admits every pod of every namespace`))

	deleteUnstructured(t, "policy.networking.k8s.io", "v1alpha2", "ClusterNetworkPolicy", "", "cnp-open")
	deleteUnstructured(t, "networking.k8s.io", "v1", "NetworkPolicy", "cnp-tenant", "default-deny")
	eventually(t, 15*time.Second, "the pod unpoliced without the default deny",
		says("net-pod-policy-coverage", "web", `no NetworkPolicy in namespace "cnp-tenant"`))

	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: cnp-baseline
spec:
  tier: Baseline
  priority: 100
  subject:
    namespaces:
      matchLabels: {cnptest: "true"}
  ingress:
  - action: Deny
    from:
    - pods:
        podSelector: {}
`)
	eventually(t, 15*time.Second, "no net-pod-policy-coverage finding behind the cluster's default deny", says("net-pod-policy-coverage", "web", ""))
	eventually(t, 15*time.Second, "no net-namespace-default-deny finding behind the cluster's default deny", says("net-namespace-default-deny", "cnp-tenant", ""))
}

// TestAPassBeforeAClusterDenyLeavesTheNetworkPoliciesToDecide: an Admin-tier
// ClusterNetworkPolicy whose Pass rules together match every namespace's pods before its Deny
// from every pod hands all the traffic to the NetworkPolicies (the Deny sees none of it), so the
// tenant's allow-all NetworkPolicy opens the pod, and the namespace has no default deny. Until
// December 2026 the Deny passed the Deployment and the namespace, the NetworkPolicies unread.
func TestAPassBeforeAClusterDenyLeavesTheNetworkPoliciesToDecide(t *testing.T) {
	createNamespace(t, "cnp-pass", map[string]string{"cnppass": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
  namespace: cnp-pass
spec:
  podSelector: {}
  ingress:
  - {}
`)
	applyWebDeployment(t, "cnp-pass")
	deleteClusterNetworkPoliciesAtCleanup(t, "cnp-delegate")
	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: cnp-delegate
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels: {cnppass: "true"}
  ingress:
  - name: trusted
    action: Pass
    from:
    - namespaces: {matchLabels: {tier: trusted}}
  - name: the-rest
    action: Pass
    from:
    - namespaces: {matchExpressions: [{key: tier, operator: NotIn, values: [trusted]}]}
  - name: deny
    action: Deny
    from:
    - namespaces: {}
`)
	createProfile(t, "cnppass", "cnppass", nil)
	says := func(check, name, want string) func() error {
		return findingSays("cnp-pass", "cnppass", check, name, want)
	}
	eventually(t, 20*time.Second, "the allow-all NetworkPolicy's finding past the Pass rules",
		says("net-pod-policy-coverage", "web", `NetworkPolicy "allow-all" admits ingress from anywhere`))
	eventually(t, 15*time.Second, "the namespace without a default deny past the Pass rules",
		says("net-namespace-default-deny", "cnp-pass", "none denies ingress by default"))
}

// TestAClusterAcceptFromLabelledPodsOfEveryNamespaceOpensThePods: an Admin-tier
// ClusterNetworkPolicy Accept from the pods labelled app=prometheus of every namespace is final,
// ahead of the tenant's default deny, and any namespace's admins label their own pods
// app=prometheus: the operator reports the Deployment and the namespace open. Until December
// 2026 both passed.
func TestAClusterAcceptFromLabelledPodsOfEveryNamespaceOpensThePods(t *testing.T) {
	createNamespace(t, "cnp-labels", map[string]string{"cnplabels": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: cnp-labels
spec:
  podSelector: {}
  policyTypes: [Ingress]
`)
	applyWebDeployment(t, "cnp-labels")
	deleteClusterNetworkPoliciesAtCleanup(t, "cnp-scrapers")
	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: cnp-scrapers
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels: {cnplabels: "true"}
  ingress:
  - name: prometheus
    action: Accept
    from:
    - pods:
        podSelector: {matchLabels: {app: prometheus}}
`)
	createProfile(t, "cnplabels", "cnplabels", nil)
	const why = "its pods peers select pods by their labels, which each namespace's admins set on their own pods"
	eventually(t, 20*time.Second, "the Accept from labelled pods opens web",
		findingSays("cnp-labels", "cnplabels", "net-pod-policy-coverage", "web", why))
	eventually(t, 15*time.Second, "the Accept from labelled pods undoes the namespace's default deny",
		findingSays("cnp-labels", "cnplabels", "net-namespace-default-deny", "cnp-labels", why))
}

// applyWebDeployment creates Deployment web (container app, pods labelled app=web) in namespace
// ns.
func applyWebDeployment(t *testing.T, ns string) {
	t.Helper()
	applyYAML(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
`, ns))
}

// deleteClusterNetworkPoliciesAtCleanup deletes the named ClusterNetworkPolicies (v1alpha2) when
// the test ends: they are cluster-scoped, so they do not go with the test's namespace.
func deleteClusterNetworkPoliciesAtCleanup(t *testing.T, names ...string) {
	t.Cleanup(func() {
		for _, name := range names {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: "policy.networking.k8s.io", Version: "v1alpha2", Kind: "ClusterNetworkPolicy"})
			u.SetName(name)
			_ = client.IgnoreNotFound(k8s.Delete(context.Background(), u))
		}
	})
}

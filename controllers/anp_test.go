package controllers

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestAdminNetworkPoliciesDecideBeforeAndAfterTheNetworkPolicies: on a cluster that serves the
// Network Policy API (the suite installs minimal CRDs of AdminNetworkPolicy and
// BaselineAdminNetworkPolicy), a tenant's default-deny NetworkPolicy passes
// net-pod-policy-coverage until an AdminNetworkPolicy selecting the tenant's namespaces allows
// every pod of every namespace, which decides before any NetworkPolicy: the Deployment's finding
// names it. Without the NetworkPolicy the pod fails, until the BaselineAdminNetworkPolicy default
// denies every pod of every namespace to the pods no NetworkPolicy selects, which passes the pod
// and the namespace. Each cluster-scoped policy's change alone re-evaluates the namespace.
func TestAdminNetworkPoliciesDecideBeforeAndAfterTheNetworkPolicies(t *testing.T) {
	createNamespace(t, "anp-tenant", map[string]string{"anptest": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: anp-tenant
spec:
  podSelector: {}
  policyTypes: [Ingress]
`)
	applyWebDeployment(t, "anp-tenant")
	createProfile(t, "anptest", "anptest", nil)
	// The policies are cluster-scoped: they select only this test's namespace, and go with it.
	t.Cleanup(func() {
		for kind, name := range map[string]string{"AdminNetworkPolicy": "anp-open", "BaselineAdminNetworkPolicy": "default"} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: "policy.networking.k8s.io", Version: "v1alpha1", Kind: kind})
			u.SetName(name)
			_ = client.IgnoreNotFound(k8s.Delete(context.Background(), u))
		}
	})
	says := func(check, name, want string) func() error {
		return findingSays("anp-tenant", "anptest", check, name, want)
	}
	eventually(t, 20*time.Second, "no net-pod-policy-coverage finding behind the default deny", says("net-pod-policy-coverage", "web", ""))

	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: anp-open
  labels: {anptest: "true"}
spec:
  priority: 10
  subject:
    namespaces:
      matchLabels: {anptest: "true"}
  ingress:
  - action: Allow
    from:
    - namespaces: {}
`)
	eventually(t, 15*time.Second, "the AdminNetworkPolicy's finding",
		says("net-pod-policy-coverage", "web", `AdminNetworkPolicy "anp-open" (priority 10) admits every pod of every namespace on every port`))
	eventually(t, 15*time.Second, "the AdminNetworkPolicy's finding on the namespace",
		says("net-namespace-default-deny", "anp-tenant", `AdminNetworkPolicy "anp-open" (priority 10) admits every pod of every namespace`))

	deleteUnstructured(t, "policy.networking.k8s.io", "v1alpha1", "AdminNetworkPolicy", "", "anp-open")
	deleteUnstructured(t, "networking.k8s.io", "v1", "NetworkPolicy", "anp-tenant", "default-deny")
	eventually(t, 15*time.Second, "the pod unpoliced without the default deny",
		says("net-pod-policy-coverage", "web", `no NetworkPolicy in namespace "anp-tenant"`))

	applyYAML(t, `
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
  labels: {anptest: "true"}
spec:
  subject:
    namespaces:
      matchLabels: {anptest: "true"}
  ingress:
  - action: Deny
    from:
    - namespaces: {}
`)
	eventually(t, 15*time.Second, "no net-pod-policy-coverage finding behind the cluster's default deny", says("net-pod-policy-coverage", "web", ""))
	eventually(t, 15*time.Second, "no net-namespace-default-deny finding behind the cluster's default deny", says("net-namespace-default-deny", "anp-tenant", ""))
}

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestACNIPolicyThatAdmitsEverythingFailsBesideADefaultDeny: on a cluster that serves Cilium's
// CiliumNetworkPolicy and Calico's NetworkPolicy (the suite installs minimal CRDs of them), a
// tenant's namespace with a default-deny NetworkPolicy passes net-pod-policy-coverage; a
// CiliumNetworkPolicy admitting every entity to every pod, and then, in its place, a Calico
// NetworkPolicy (projectcalico.org/v3, then crd.projectcalico.org/v1) with an Allow rule from
// anywhere, opens the pods whatever the NetworkPolicy says: each policy's change alone
// re-evaluates the namespace, and the Deployment's finding names it.
func TestACNIPolicyThatAdmitsEverythingFailsBesideADefaultDeny(t *testing.T) {
	createNamespace(t, "cni-tenant", map[string]string{"cnitest": "true"})
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: cni-tenant
spec:
  podSelector: {}
  policyTypes: [Ingress]
`)
	applyWebDeployment(t, "cni-tenant")
	createProfile(t, "cnitest", "cnitest", nil)
	says := func(want string) func() error {
		return findingSays("cni-tenant", "cnitest", "net-pod-policy-coverage", "web", want)
	}
	eventually(t, 20*time.Second, "no net-pod-policy-coverage finding behind the default deny", says(""))

	applyYAML(t, `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: open-all
  namespace: cni-tenant
spec:
  endpointSelector: {}
  ingress:
  - fromEntities: [all]
`)
	eventually(t, 15*time.Second, "the CiliumNetworkPolicy's finding",
		says(`CiliumNetworkPolicy "open-all" admits ingress from anywhere`))

	deleteUnstructured(t, "cilium.io", "v2", "CiliumNetworkPolicy", "cni-tenant", "open-all")
	eventually(t, 15*time.Second, "no finding once the CiliumNetworkPolicy is gone", says(""))

	for _, apiVersion := range []string{"projectcalico.org/v3", "crd.projectcalico.org/v1"} {
		applyYAML(t, `
apiVersion: `+apiVersion+`
kind: NetworkPolicy
metadata:
  name: allow-everything
  namespace: cni-tenant
spec:
  order: 100
  selector: all()
  ingress:
  - action: Allow
`)
		eventually(t, 15*time.Second, "the Calico NetworkPolicy's finding ("+apiVersion+")",
			says(`Calico NetworkPolicy "allow-everything" admits ingress from anywhere`))
		group, version, _ := strings.Cut(apiVersion, "/")
		deleteUnstructured(t, group, version, "NetworkPolicy", "cni-tenant", "allow-everything")
		eventually(t, 15*time.Second, "no finding once the Calico NetworkPolicy is gone ("+apiVersion+")", says(""))
	}
}

// deleteUnstructured deletes one object of a kind the test client has no Go type for.
func deleteUnstructured(t *testing.T, group, version, kind, namespace, name string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: group, Version: version, Kind: kind})
	u.SetNamespace(namespace)
	u.SetName(name)
	if err := k8s.Delete(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

// TestACustomCheckOfNetworkPoliciesJudgesKubernetesOwnOnly: a profile's custom check names its
// kinds bare, and a bare kind Kubernetes serves names Kubernetes' own (engine
// Options.KubernetesKind): scan leaves a Calico NetworkPolicy (projectcalico.org/v3) to the
// network checks that read it, but the operator, which reads Calico's NetworkPolicies for those
// checks, judged it by a custom check written for Kubernetes' NetworkPolicies: one that asks for
// a podSelector and an owner label failed the Calico policy, owner label and all, whose spec
// selects by selector, as it never could in scan.
func TestACustomCheckOfNetworkPoliciesJudgesKubernetesOwnOnly(t *testing.T) {
	createNamespace(t, "cni-custom", map[string]string{"cnicustom": "true"})
	applyYAML(t, `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: calico-deny
  namespace: cni-custom
  labels: {owner: platform}
spec:
  selector: all()
  types: [Ingress]
`)
	applyYAML(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: unowned
  namespace: cni-custom
spec:
  podSelector: {}
`)
	createProfile(t, "cnicustom", "cnicustom", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-owned-policies", Title: "NetworkPolicies select pods and name an owner",
			Kinds: []string{"NetworkPolicy"}, Criteria: []v1alpha1.Criterion{"CC6.6"}, Severity: v1alpha1.SeverityLow,
			Expression: "has(object.spec.podSelector) && 'owner' in object.metadata.?labels.orValue({})",
			Message:    "no podSelector or no owner label"}}
	})
	eventually(t, 20*time.Second, "a finding on the Kubernetes NetworkPolicy and none on Calico's", func() error {
		rep, err := getReport("cni-custom", "cnicustom")
		if err != nil {
			return err
		}
		if finding(rep, "custom-owned-policies", "unowned", "") == nil {
			return fmt.Errorf("no custom-owned-policies finding on NetworkPolicy unowned yet")
		}
		if f := finding(rep, "custom-owned-policies", "calico-deny", ""); f != nil {
			return fmt.Errorf("custom-owned-policies judged the Calico NetworkPolicy: %s %s %q", f.Resource.APIVersion, f.Result, f.Message)
		}
		return nil
	})
}

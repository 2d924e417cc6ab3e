package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAClaimTemplateWithDeviceAdminAccessFails: the API server (k8s v1.37.2, DRAAdminAccess GA)
// admits a ResourceClaimTemplate whose request sets exactly.adminAccess: true in a namespace
// labelled resource.kubernetes.io/admin-access: "true"; every claim made from it is allocated the
// devices whatever other pods hold them. The operator reads the template (resource.k8s.io/v1,
// which its role must grant) and wl-device-admin-access fails it: the report lists the finding
// and CC6.1 fails; a claim with adminAccess created later is found as well. Before the check,
// nothing in the report named the template and CC6.1 passed.
func TestAClaimTemplateWithDeviceAdminAccessFails(t *testing.T) {
	const ns, profile = "device-admins", "device-admins"
	createNamespace(t, ns, map[string]string{profile: "true", "resource.kubernetes.io/admin-access": "true"})
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu-admin
  namespace: device-admins
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly:
          deviceClassName: gpu.example.com
          allocationMode: All
          adminAccess: true
`)
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu
  namespace: device-admins
spec:
  spec:
    devices:
      requests:
      - name: gpu
        exactly:
          deviceClassName: gpu.example.com
`)
	// What the API server stored: adminAccess is not dropped.
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(schema.GroupVersionKind{Group: "resource.k8s.io", Version: "v1", Kind: "ResourceClaimTemplate"})
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "gpu-admin"}, stored); err != nil {
		t.Fatal(err)
	}
	reqs, _, _ := unstructured.NestedSlice(stored.Object, "spec", "spec", "devices", "requests")
	if len(reqs) != 1 {
		t.Fatalf("stored requests: %v", reqs)
	}
	if on, _, _ := unstructured.NestedBool(reqs[0].(map[string]any), "exactly", "adminAccess"); !on {
		t.Fatalf("the API server dropped adminAccess: %v", reqs[0])
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-device-admin-access") })
	eventually(t, 30*time.Second, "the template's wl-device-admin-access finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "wl-device-admin-access", "gpu-admin", "")
		if f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("gpu-admin: %s", describeFinding(rep, "wl-device-admin-access", "gpu-admin"))
		}
		if f.Resource.Kind != "ResourceClaimTemplate" || !strings.Contains(f.Message, `"gpus" sets exactly.adminAccess: true`) {
			return fmt.Errorf("finding on %s says %q", f.Resource.Kind, f.Message)
		}
		if d := describeFinding(rep, "wl-device-admin-access", "gpu"); d != "none listed" {
			return fmt.Errorf("the ordinary template: %s", d)
		}
		if s := criterionStatus(rep.Status.Criteria, "CC6.1"); s != v1alpha1.CriterionFail {
			return fmt.Errorf("CC6.1 is %s", s)
		}
		return nil
	})
	// A claim made afterwards, with no other change in the namespace: its creation alone
	// re-evaluates the namespace (the operator watches the kind).
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata:
  name: nic-admin
  namespace: device-admins
spec:
  devices:
    requests:
    - name: nic
      exactly:
        deviceClassName: nic.example.com
        adminAccess: true
`)
	eventually(t, 30*time.Second, "the later claim's wl-device-admin-access finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "wl-device-admin-access", "nic-admin", ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "ResourceClaim" {
			return fmt.Errorf("nic-admin: %s", describeFinding(rep, "wl-device-admin-access", "nic-admin"))
		}
		return nil
	})
}

// TestAWorkloadThatUsesADeviceAdminClaimFails: a Deployment whose pods' claims are made from a
// ResourceClaimTemplate that does not exist yet is NotAssessed (its pods wait for it, and what it
// grants is not known), not passed; creating the template with exactly.adminAccess: true, and
// nothing else, re-evaluates the namespace and fails the Deployment with the template. A bare Pod
// that names a shared ResourceClaim with adminAccess fails too, and one that names an ordinary
// claim passes. Before, only the claim and the template failed, and the workloads that get the
// devices passed every check.
func TestAWorkloadThatUsesADeviceAdminClaimFails(t *testing.T) {
	const ns, profile = "device-admin-users", "device-admin-users"
	createNamespace(t, ns, map[string]string{profile: "true", "resource.kubernetes.io/admin-access": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gpu-exporter
  namespace: device-admin-users
spec:
  selector:
    matchLabels: {app: gpu-exporter}
  template:
    metadata:
      labels: {app: gpu-exporter}
    spec:
      resourceClaims:
      - name: gpus
        resourceClaimTemplateName: gpu-admin
      containers:
      - name: exporter
        image: registry.example.com/gpu/exporter:1.2.0
        resources:
          claims: [{name: gpus}]
`)
	for _, claim := range []struct{ name, admin string }{{"nic-admin", "true"}, {"nic", "false"}} {
		applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata:
  name: `+claim.name+`
  namespace: device-admin-users
spec:
  devices:
    requests:
    - name: nic
      exactly:
        deviceClassName: nic.example.com
        adminAccess: `+claim.admin+`
`)
		applyYAML(t, `
apiVersion: v1
kind: Pod
metadata:
  name: probe-`+claim.name+`
  namespace: device-admin-users
spec:
  resourceClaims:
  - name: nic
    resourceClaimName: `+claim.name+`
  containers:
  - name: probe
    image: registry.example.com/net/probe:3.1.0
    resources:
      claims: [{name: nic}]
`)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-device-admin-access") })
	eventually(t, 30*time.Second, "the workloads' wl-device-admin-access results", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "wl-device-admin-access", "probe-nic-admin", ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Pod" ||
			!strings.Contains(f.Message, `claim "nic" uses ResourceClaim "nic-admin", whose device request "nic" sets exactly.adminAccess: true`) {
			return fmt.Errorf("probe-nic-admin: %s", describeFinding(rep, "wl-device-admin-access", "probe-nic-admin"))
		}
		if d := describeFinding(rep, "wl-device-admin-access", "probe-nic"); d != "none listed" {
			return fmt.Errorf("the Pod with an ordinary claim: %s", d)
		}
		// The report lists failures and exceptions only: the Deployment's NotAssessed shows in
		// the counts (the Pod and the claim named nic pass; the Deployment is the one undecided).
		if d := describeFinding(rep, "wl-device-admin-access", "gpu-exporter"); d != "none listed" {
			return fmt.Errorf("the Deployment before its template exists: %s", d)
		}
		if s := rep.Status.Summary; s.NotAssessed != 1 || s.Passed != 2 {
			return fmt.Errorf("summary: %d passed, %d not assessed; want 2 and 1 (the Deployment)", s.Passed, s.NotAssessed)
		}
		return nil
	})
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu-admin
  namespace: device-admin-users
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly:
          deviceClassName: gpu.example.com
          allocationMode: All
          adminAccess: true
`)
	eventually(t, 30*time.Second, "the Deployment's wl-device-admin-access finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "wl-device-admin-access", "gpu-exporter", "")
		if f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Deployment" ||
			!strings.Contains(f.Message, `claim "gpus" uses ResourceClaimTemplate "gpu-admin", whose device request "gpus" sets exactly.adminAccess: true`) {
			return fmt.Errorf("gpu-exporter: %s", describeFinding(rep, "wl-device-admin-access", "gpu-exporter"))
		}
		if s := rep.Status.Summary; s.NotAssessed != 0 {
			return fmt.Errorf("summary: %d not assessed, want 0", s.NotAssessed)
		}
		return nil
	})
}

// TestAPodThatHoldsADeviceAdminClaimMadeFromAnEarlierTemplateFails: a Pod whose claim is made
// from ResourceClaimTemplate gpu, which sets no adminAccess now, holds the claim the
// resourceclaim controller made for it (controlled by the Pod, annotated with the Pod's claim
// name) from what the template was when the Pod was created: adminAccess: true (a template's
// spec cannot change; it was deleted and created again under its name). Envtest runs no
// controller manager, so the test makes the claim as that controller does. The Pod keeps the
// devices until it is replaced: it fails, naming the claim. Before, it passed with the template,
// and only the claim failed.
func TestAPodThatHoldsADeviceAdminClaimMadeFromAnEarlierTemplateFails(t *testing.T) {
	const ns, profile = "device-admin-holders", "device-admin-holders"
	createNamespace(t, ns, map[string]string{profile: "true", "resource.kubernetes.io/admin-access": "true"})
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata:
  name: gpu
  namespace: device-admin-holders
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly:
          deviceClassName: gpu.example.com
`)
	applyYAML(t, `
apiVersion: v1
kind: Pod
metadata:
  name: holder
  namespace: device-admin-holders
spec:
  resourceClaims:
  - name: gpus
    resourceClaimTemplateName: gpu
  containers:
  - name: exporter
    image: registry.example.com/gpu/exporter:1.2.0
    resources:
      claims: [{name: gpus}]
`)
	pod := &corev1.Pod{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "holder"}, pod); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata:
  name: holder-gpus-x7k2q
  namespace: device-admin-holders
  annotations: {resource.kubernetes.io/pod-claim-name: gpus}
  ownerReferences:
  - {apiVersion: v1, kind: Pod, name: holder, uid: `+string(pod.UID)+`, controller: true, blockOwnerDeletion: true}
spec:
  devices:
    requests:
    - name: gpus
      exactly:
        deviceClassName: gpu.example.com
        adminAccess: true
`)
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-device-admin-access") })
	eventually(t, 30*time.Second, "the Pod's wl-device-admin-access finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "wl-device-admin-access", "holder", "")
		if f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Pod" ||
			!strings.Contains(f.Message, `Pod holder holds ResourceClaim "holder-gpus-x7k2q", made for its claim "gpus", whose device request "gpus" sets exactly.adminAccess: true`) {
			return fmt.Errorf("holder: %s", describeFinding(rep, "wl-device-admin-access", "holder"))
		}
		if f := finding(rep, "wl-device-admin-access", "holder-gpus-x7k2q", ""); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "ResourceClaim" {
			return fmt.Errorf("the claim: %s", describeFinding(rep, "wl-device-admin-access", "holder-gpus-x7k2q"))
		}
		return nil
	})
}

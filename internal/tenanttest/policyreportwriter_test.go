package tenanttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAMissingPolicyReportWriterBindingIsSeenAtOnce: with the binding of
// soc2-operator-policyreport-writer deleted, anyone who may write PolicyReports can rewrite the
// operator's; the operator must see it as it sees the other policies go, from its watch, not at
// its five-minute recheck (its watch followed the other three policies only, so the profile said
// Ready and the policies in force for up to five minutes).
func TestAMissingPolicyReportWriterBindingIsSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "prwriter", nil)
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)

	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	binding.Name = admissionpolicy.PolicyReportWriter
	if err := platform.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			if err := applyAdmissionPolicies(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(restore)

	want := "ValidatingAdmissionPolicyBinding " + admissionpolicy.PolicyReportWriter + " is missing"
	testenv.Eventually(t, 30*time.Second, "the profile says "+want, func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := platform.Get(ctx, types.NamespacedName{Name: tn.Profile}, p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, want) {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	restore()
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)
}

// TestOpenReportsOfTheOperatorsSourceAreWrittenOnlyByIt: Policy Reporter 3 (and Kyverno 1.15)
// read OpenReports (openreports.io/v1alpha1 Report and ClusterReport, the PolicyReports'
// successor) beside PolicyReports, and show a result as the operator's by its source, the
// result's or the whole report's. Where their CRDs are installed, anyone who may write them (a
// cluster admin here) could have published a report of source soc2-operator passing a workload
// the operator fails; soc2-operator-policyreport-writer now refuses it, and other sources'
// reports stay allowed.
func TestOpenReportsOfTheOperatorsSourceAreWrittenOnlyByIt(t *testing.T) {
	ctx := context.Background()
	crd := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: reports.openreports.io}
spec:
  group: openreports.io
  scope: Namespaced
  names: {plural: reports, singular: report, kind: Report, listKind: ReportList}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`), &crd.Object); err != nil {
		t.Fatal(err)
	}
	if err := platform.Create(ctx, crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = platform.Delete(context.Background(), crd) })
	ns := newTenant(t, "openreports", nil).Namespace

	report := func(name, yaml string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		if err := sigsyaml.Unmarshal([]byte("apiVersion: openreports.io/v1alpha1\nkind: Report\n"+yaml), &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	create := func(u *unstructured.Unstructured) error {
		var err error
		// The API server serves a new CRD's resource a moment after it is Established.
		testenv.Eventually(t, 30*time.Second, "the Report resource served", func() error {
			err = platform.Create(ctx, u.DeepCopy())
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				return err
			}
			return nil
		})
		return err
	}
	if err := create(report("kyverno", "source: kyverno\nresults:\n- {source: kyverno, policy: require-labels, result: pass}\n")); err != nil {
		t.Fatalf("another tool's report is refused: %v", err)
	}
	for what, u := range map[string]*unstructured.Unstructured{
		"a result of the operator's source": report("forged-result", "results:\n- {source: kyverno, policy: require-labels, result: pass}\n- {source: soc2-operator, policy: wl-privileged, result: pass}\n"),
		"a report of the operator's source": report("forged-report", "source: soc2-operator\nresults:\n- {policy: wl-privileged, result: pass}\n"),
	} {
		if err := create(u); err == nil || !strings.Contains(err.Error(), admissionpolicy.PolicyReportWriterMessage) {
			t.Errorf("%s: want the admission policy's refusal, got %v", what, err)
		}
	}
}

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A namespace that stops being selected (relabelled, as a cluster that lets tenants label their
// namespaces allows; excluded; or a system namespace) lost its report, and the profile counted one
// namespace less, with nothing on the profile saying which namespace went or what its last result
// was: a NonCompliant namespace could leave a profile and the profile read Compliant. The profile
// must get an Event naming the namespace, why it left, and its last result (Warning when it was
// NonCompliant).
func TestANamespaceLeavingAProfileIsRecordedOnTheProfile(t *testing.T) {
	ctx := context.Background()
	const profile = "cov-left"
	createNamespace(t, "cov-left-a", map[string]string{profile: "true"})
	createNamespace(t, "cov-left-b", map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment("cov-left-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	if rep := waitWritten(t, "cov-left-a", profile); rep.Status.Result != v1alpha1.NonCompliant {
		t.Fatalf("cov-left-a result %s, want NonCompliant", rep.Status.Result)
	}
	waitWritten(t, "cov-left-b", profile)

	// The namespace's labels no longer match.
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "cov-left-a"}, ns); err != nil {
		t.Fatal(err)
	}
	delete(ns.Labels, profile)
	if err := k8s.Update(ctx, ns); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the report of cov-left-a deleted and the profile told", func() error {
		if _, err := getReport("cov-left-a", profile); !apierrors.IsNotFound(err) {
			return fmt.Errorf("report still there: %v", err)
		}
		var seen []string
		for _, e := range profileEvents(t, profile, EventNamespaceLeft) {
			seen = append(seen, e.Type+": "+e.Note)
			if e.Type == corev1.EventTypeWarning && strings.Contains(e.Note, "cov-left-a") &&
				strings.Contains(e.Note, "spec.namespaceSelector") && strings.Contains(e.Note, string(v1alpha1.NonCompliant)) {
				return nil
			}
		}
		return fmt.Errorf("no Warning %s Event naming cov-left-a, the selector and its last result NonCompliant: %q", EventNamespaceLeft, seen)
	})

	// Excluded by name: a Normal Event (it was Compliant) that says so.
	updateProfile(t, profile, func(p *v1alpha1.ComplianceProfile) { p.Spec.ExcludedNamespaces = []string{"cov-left-b"} })
	eventually(t, 20*time.Second, "the report of cov-left-b deleted and the profile told", func() error {
		if _, err := getReport("cov-left-b", profile); !apierrors.IsNotFound(err) {
			return fmt.Errorf("report still there: %v", err)
		}
		var seen []string
		for _, e := range profileEvents(t, profile, EventNamespaceLeft) {
			seen = append(seen, e.Type+": "+e.Note)
			if e.Type == corev1.EventTypeNormal && strings.Contains(e.Note, "cov-left-b") && strings.Contains(e.Note, "spec.excludedNamespaces") {
				return nil
			}
		}
		return fmt.Errorf("no Normal %s Event naming cov-left-b and spec.excludedNamespaces: %q", EventNamespaceLeft, seen)
	})
	// Nothing is selected now: the profile says so rather than read Compliant.
	eventually(t, 20*time.Second, "the profile selects no namespace", func() error {
		c, p, err := profileReady(ctx, profile)
		if err != nil {
			return err
		}
		if c.Reason != v1alpha1.ReasonNoNamespacesSelected || p.Status.NamespacesEvaluated != 0 || p.Status.Result == v1alpha1.Compliant {
			return fmt.Errorf("Ready %s %s, result %s, %d namespaces", c.Status, c.Reason, p.Status.Result, p.Status.NamespacesEvaluated)
		}
		return nil
	})
}

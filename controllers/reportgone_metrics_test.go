package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestTheMetricsOfAReportThatCannotBeWrittenAgainAreUnknown: a namespace's report was written
// (the metrics say its result), then deleted, and the API server refuses to create it again
// (an admission policy, a quota). The namespace's latest evaluation is in no report, and
// soc2_operator_reports_stale counts it, but soc2_operator_namespace_result,
// soc2_operator_namespace_compliant and the criteria kept the verdict of the report that was
// deleted, as if current: a namespace that has failed since read Compliant. They read Unknown,
// as a stale report's do (metrics.SetNamespaceStale), until a report is written.
func TestTheMetricsOfAReportThatCannotBeWrittenAgainAreUnknown(t *testing.T) {
	const ns = "write-gone"
	createNamespace(t, ns, nil)
	reports := schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "compliancereports"}
	refuse := false
	c := failing(t, interceptor.Funcs{
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceReport); ok && refuse {
				return apierrors.NewForbidden(reports, obj.GetName(), context.Canceled)
			}
			return cl.Create(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Namespace")
	// A profile of this test alone, not in the API server: the suite's operator does not write
	// its report (and deletes it when it sees it, as a report that names no profile).
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "write-gone", UID: "2b0c7a51-6a0e-4f55-9a43-0b1f2c3d4e5f"}}
	t.Cleanup(func() { metrics.ForgetProfile(profile.Name) })
	ps := r.state.plan(profile, r.Catalogue)
	namespace := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, "v1", "Namespace")
	now := time.Now()
	ev := ps.plan.Evaluate(engine.NewInventory([]*engine.Object{namespace}, true), nil, engine.Options{Now: now})
	var written v1alpha1.ComplianceState
	eventually(t, 20*time.Second, "the report written", func() error {
		if err := r.writeReport(context.Background(), profile, ps, ev, nil, ns, now, ""); err != nil {
			return err
		}
		rep := &v1alpha1.ComplianceReport{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: profile.Name}, rep); err != nil {
			return err
		}
		written = rep.Status.Result
		return nil
	})
	if n := gaugeValue(t, metrics.NamespaceResult.WithLabelValues(profile.Name, ns, string(written))); n != 1 {
		t.Fatalf("soc2_operator_namespace_result{result=%s} = %v after the report was written, want 1", written, n)
	}

	if err := k8s.Delete(context.Background(), &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile.Name}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	refuse = true
	now = now.Add(time.Minute)
	ev = ps.plan.Evaluate(engine.NewInventory([]*engine.Object{namespace}, true), nil, engine.Options{Now: now})
	eventually(t, 20*time.Second, "the creation refused", func() error {
		err := r.writeReport(context.Background(), profile, ps, ev, nil, ns, now, written)
		if !apierrors.IsForbidden(err) {
			return err // the deletion not yet in the cache: the report is still there
		}
		return nil
	})
	if got := collected(t, metrics.NamespaceResult, profile.Name, ns); len(got) != 1 || got[0] != `result="Unknown" 1` {
		t.Errorf("soc2_operator_namespace_result of a namespace whose report was deleted and cannot be created again (was %s): %q, want Unknown only", written, got)
	}
	if got := collected(t, metrics.NamespaceCompliant, profile.Name, ns); len(got) > 0 {
		t.Errorf("soc2_operator_namespace_compliant of a namespace whose report cannot be written: %q, want absent", got)
	}
	for _, s := range collected(t, metrics.CriterionStatus, profile.Name, ns) {
		if !strings.Contains(s, `status="Unknown"`) {
			t.Errorf("soc2_operator_criterion_status of a namespace whose report cannot be written: %s, want Unknown", s)
		}
	}
	if got := collected(t, metrics.Findings, profile.Name, ns); len(got) > 0 {
		t.Errorf("soc2_operator_findings of a namespace whose report cannot be written: %q, want absent", got)
	}
}

// collected is what a scrape of v shows for profile and namespace: each series' other labels
// and its value, without creating any series.
func collected(t *testing.T, v prometheus.Collector, profile, namespace string) []string {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	go func() { v.Collect(ch); close(ch) }()
	var out []string
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		var others []string
		match := 0
		for _, l := range d.GetLabel() {
			switch {
			case l.GetName() == "profile" && l.GetValue() == profile, l.GetName() == "namespace" && l.GetValue() == namespace:
				match++
			case l.GetName() != "profile" && l.GetName() != "namespace":
				others = append(others, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
		}
		if match == 2 {
			out = append(out, fmt.Sprintf("%s %g", strings.Join(others, ","), d.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

// TestTheMetricsOfANamespaceWithNoReportWhoseEvaluationFailedAreUnknown: a namespace's report
// was written (the metrics say its result), then deleted; its next evaluation fails (its objects
// cannot be read). markStale had no report to mark and returned, so the namespace's metrics kept
// the deleted report's verdict as if current. They read Unknown, as a stale report's do.
func TestTheMetricsOfANamespaceWithNoReportWhoseEvaluationFailedAreUnknown(t *testing.T) {
	const ns = "fail-gone"
	createNamespace(t, ns, nil)
	c := failing(t, interceptor.Funcs{})
	r := reconcilerOver(t, c, "Namespace")
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "fail-gone", UID: "6d1e2f3a-7b8c-4d9e-8f0a-1b2c3d4e5f60"}}
	t.Cleanup(func() { metrics.ForgetProfile(profile.Name) })
	ps := r.state.plan(profile, r.Catalogue)
	namespace := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, "v1", "Namespace")
	now := time.Now()
	ev := ps.plan.Evaluate(engine.NewInventory([]*engine.Object{namespace}, true), nil, engine.Options{Now: now})
	if err := r.writeReport(context.Background(), profile, ps, ev, nil, ns, now, ""); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: ns, Name: profile.Name}
	rep := &v1alpha1.ComplianceReport{}
	if err := k8s.Get(context.Background(), key, rep); err != nil {
		t.Fatal(err)
	}
	written := rep.Status.Result
	if n := gaugeValue(t, metrics.NamespaceResult.WithLabelValues(profile.Name, ns, string(written))); n != 1 {
		t.Fatalf("soc2_operator_namespace_result{result=%s} = %v after the report was written, want 1", written, n)
	}
	if err := k8s.Delete(context.Background(), rep); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}

	if err := r.markStale(context.Background(), ps, key, now.Add(time.Minute), v1alpha1.ReasonEvaluationFailed, "The evaluation failed: listing Deployments: boom"); err != nil {
		t.Fatal(err)
	}
	if got := collected(t, metrics.NamespaceResult, profile.Name, ns); len(got) != 1 || got[0] != `result="Unknown" 1` {
		t.Errorf("soc2_operator_namespace_result of a namespace whose evaluation failed and whose report is gone (was %s): %q, want Unknown only", written, got)
	}
	if got := collected(t, metrics.NamespaceCompliant, profile.Name, ns); len(got) > 0 {
		t.Errorf("soc2_operator_namespace_compliant of a namespace whose evaluation failed and whose report is gone: %q, want absent", got)
	}
	for _, s := range collected(t, metrics.CriterionStatus, profile.Name, ns) {
		if !strings.Contains(s, `status="Unknown"`) {
			t.Errorf("soc2_operator_criterion_status of a namespace whose evaluation failed and whose report is gone: %s, want Unknown", s)
		}
	}
}

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestApprovalWrittenBeforeThePoliciesIsNotTrustedInReports: an exception created before the
// admission policies came into force may carry an approval nobody checked (a tenant typed a
// security lead's name into it on a fresh install, before the operator wrote its policies). The
// exception reconciler marks it status.unverifiedApprovalGeneration, but the profiles are
// evaluated at the same moment (both are resynced when the policies come into force): an
// evaluation that runs first must not waive findings with that approval, nor show its approver
// in the report.
func TestApprovalWrittenBeforeThePoliciesIsNotTrustedInReports(t *testing.T) {
	ctx := context.Background()
	profile, _ := privilegedUnderWaivableProfile(t, "predates", "predates-a", "bad")
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: "predates-a"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "Approved by the security lead, honestly.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	since := approval.InForceSince()
	if since.IsZero() {
		t.Fatal("the suite's admission policies are not in force")
	}

	var mu sync.Mutex
	var written *v1alpha1.ComplianceReport
	c := failing(t, interceptor.Funcs{
		// The exception as it would be had it been created, and "approved" by its author, before
		// the policies came into force, and not yet judged by the exception reconciler.
		List: testenv.ListedExceptions(func(it *v1alpha1.ControlException) {
			if it.Namespace == "predates-a" {
				it.CreationTimestamp = metav1.NewTime(since.Add(-time.Minute))
				it.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: "security-lead@example.com"}
				it.Status = v1alpha1.ControlExceptionStatus{}
			}
		}),
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if rep, ok := obj.(*v1alpha1.ComplianceReport); ok && rep.Namespace == "predates-a" {
				mu.Lock()
				written = rep.DeepCopy()
				mu.Unlock()
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "Deployment")
	r.Approval, r.Clock = approval, clk
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "predates-a", Name: profile.Name}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if written == nil {
		t.Fatal("the evaluation wrote no report")
	}
	for _, u := range written.Status.Exceptions {
		if u.Name == "predates-a/forged" && (u.State == v1alpha1.ExceptionActive || u.ApprovedBy != "") {
			t.Errorf("the report lists the exception as %s approved by %q, trusting an approval written before the policies", u.State, u.ApprovedBy)
		}
	}
	if written.Status.Summary.Excepted != 0 {
		t.Errorf("%d findings excepted by an approval written before the policies", written.Status.Summary.Excepted)
	}
}

// TestExceptionMetricsCountTheStateJustWritten: the exception reconciler recounts exceptions by
// state right after writing one's status, from a cache that may not hold that write yet (status
// writes do not requeue the exception). The count must say the state just written, not the one
// before: an exception that just expired must not count in its former state (Active, with its
// expiry series, or PendingApproval as here) for the hour until it is judged again.
func TestExceptionMetricsCountTheStateJustWritten(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "exmetrics", nil)
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "soon", Namespace: "exmetrics"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "Expires during the test, on purpose.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	var before *v1alpha1.ControlException
	eventually(t, 10*time.Second, "the exception judged", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State == "" {
			return fmt.Errorf("no state yet")
		}
		before = got
		return nil
	})
	// A cache that has not seen the status write yet: lists return the exception as it was.
	c := failing(t, interceptor.Funcs{
		List: testenv.ListedExceptions(func(it *v1alpha1.ControlException) {
			if it.Namespace == before.Namespace && it.Name == before.Name {
				*it = *before.DeepCopy()
			}
		}),
	})
	r := &ControlExceptionReconciler{Client: c, Catalogue: checks.Catalogue(), AdminNamespace: adminNamespace,
		Clock: testingclock.NewFakeClock(clk.Now().Add(2 * time.Hour)), Recorder: &events.FakeRecorder{},
		Approval: approval, state: newState(), alerts: alert.NewDispatcher(alert.Options{})}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ex)}); err != nil {
		t.Fatal(err)
	}
	if n := gaugeValue(t, metrics.Exceptions.WithLabelValues("exmetrics", string(v1alpha1.ExceptionExpired))); n != 1 {
		t.Errorf("soc2_operator_exceptions{namespace=exmetrics,state=Expired} = %v after the exception expired, want 1", n)
	}
	if n := gaugeValue(t, metrics.Exceptions.WithLabelValues("exmetrics", string(before.Status.State))); n != 0 {
		t.Errorf("soc2_operator_exceptions{namespace=exmetrics,state=%s} = %v after the exception expired, want 0", before.Status.State, n)
	}
}

// TestDeletingTheProfileRejudgesItsExceptions: an exception Active under a profile says so,
// with the findings it covers there. When that profile is deleted, the exception is judged again
// at once: it no longer claims to apply under the profile, nor to cover its findings (it used to
// keep both until its hourly re-check).
func TestDeletingTheProfileRejudgesItsExceptions(t *testing.T) {
	ctx := context.Background()
	profile, _ := privilegedUnderWaivableProfile(t, "exgone", "exgone-a", "bad")
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "exgone-a"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "The setup step loads a kernel module.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
	createApproved(t, ex)
	got := &v1alpha1.ControlException{}
	eventually(t, 15*time.Second, "the exception Active under the profile", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State != v1alpha1.ExceptionActive || got.Status.MatchedFindings == 0 || !strings.Contains(got.Status.Message, profile.Name) {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	if err := k8s.Delete(ctx, profile); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the exception judged again without the profile", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.MatchedFindings != 0 || strings.Contains(got.Status.Message, "for profiles "+profile.Name) {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
}

// TestAMovedWaiverChangesTheReport: an exception that selects workloads by label covers
// whatever the namespace's tenant labels, now and later. A tenant who takes the label off
// Deployment A and puts it on Deployment B moves the waiver without changing how many findings
// it covers: the report's usage of the exception must show the change (which findings it
// covers, and a digest of them all), not only the unchanged count; and so must the exception's
// status.
func TestAMovedWaiverChangesTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, prof = "exmoved-a", "exmoved"
	profile, _ := privilegedUnderWaivableProfile(t, prof, ns, "alpha")
	beta := deployment(ns, "beta", true)
	if err := k8s.Create(ctx, beta); err != nil {
		t.Fatal(err)
	}
	relabel := func(name, value string) { t.Helper(); relabelWaiver(t, ns, name, value) }
	relabel("alpha", "yes")
	relabel("beta", "no")
	ex := waiverByLabel(ns)
	createApproved(t, ex)
	// usage waits until the report says the exception covers one finding, with the other
	// deployment's finding failing, and returns the exception's usage as the report shows it.
	usage := func(covered, container, failing string) string {
		t.Helper()
		var shown string
		eventually(t, 20*time.Second, "the exception covering "+covered+"/"+container+" only", func() error {
			rep, err := getReport(ns, profile.Name)
			if err != nil {
				return err
			}
			if f := finding(rep, "wl-privileged", failing, "setup"); f == nil || f.Exception != "" {
				return fmt.Errorf("%s's finding is not failing yet: %+v", failing, f)
			}
			if f := finding(rep, "wl-privileged", covered, container); f == nil || f.Exception != ns+"/by-label" {
				return fmt.Errorf("%s's finding is not excepted yet: %+v", covered, f)
			}
			for _, u := range rep.Status.Exceptions {
				if u.Name == ns+"/by-label" && u.Findings == 1 {
					data, err := json.Marshal(u)
					shown = string(data)
					return err
				}
			}
			return fmt.Errorf("the report's exceptions %+v", rep.Status.Exceptions)
		})
		return shown
	}
	// status waits until the exception's status says it covers one finding, with a digest of
	// which other than not, and returns that digest.
	status := func(not string) string {
		t.Helper()
		got := &v1alpha1.ControlException{}
		eventually(t, 20*time.Second, "the exception's status covering one finding", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
				return err
			}
			if got.Status.MatchedFindings != 1 || got.Status.CoveredDigest == "" || got.Status.CoveredDigest == not {
				return fmt.Errorf("status covers %d findings, digest %q", got.Status.MatchedFindings, got.Status.CoveredDigest)
			}
			return nil
		})
		return got.Status.CoveredDigest
	}
	before := usage("alpha", "setup", "beta")
	digest := status("")
	relabel("alpha", "no")
	relabel("beta", "yes")
	after := usage("beta", "setup", "alpha")
	if before == after {
		t.Fatalf("the waiver moved from alpha to beta, and the report's usage of it stayed %s", after)
	}
	if !strings.Contains(after, `"beta"`) || strings.Contains(after, `"alpha"`) {
		t.Errorf("the report's usage after the move does not name what it covers: %s", after)
	}
	digest = status(digest)

	// One write that swaps the finding covered for another, the count never changing on the
	// way: beta's privileged init container renamed.
	d := deployment(ns, "beta", true)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.InitContainers[0].Name = "loader"
	if err := k8s.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	renamed := usage("beta", "loader", "alpha")
	if renamed == after || !strings.Contains(renamed, `"loader"`) {
		t.Errorf("the exception covers beta's loader instead of its setup container, and the report's usage of it says %s", renamed)
	}
	status(digest)
}

// relabelWaiver sets the label waiver=value on the privileged Deployment name of ns (the
// label waiverByLabel's exception selects).
func relabelWaiver(t *testing.T, ns, name, value string) {
	t.Helper()
	ctx := context.Background()
	d := deployment(ns, name, true)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Labels["waiver"] = value
	if err := k8s.Patch(ctx, d, patch); err != nil {
		t.Fatal(err)
	}
}

// waiverByLabel is an exception of ns, by-label, waiving wl-privileged for the workloads
// labelled waiver=yes for an hour.
func waiverByLabel(ns string) *v1alpha1.ControlException {
	return &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "by-label", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Match:  v1alpha1.ResourceMatch{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"waiver": "yes"}}},
			Reason: "The labelled workload loads a kernel module.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
	}
}

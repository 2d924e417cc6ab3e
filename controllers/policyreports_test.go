package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestPolicyReports shows what Policy Reporter sees when a profile turns PolicyReports on: one
// report per evaluated resource, owned by it, with every result (passes too) and the check,
// criteria, severity, container and exception as properties; the report follows the workload;
// turning the option off removes the reports.
func TestPolicyReports(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-a", map[string]string{"preport": "true"})
	d := deployment("preport-a", "agent", true)
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "preport", "preport", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.PolicyReports = true
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	name := policyreport.ReportName("preport", "Deployment", "agent")

	get := func() (*policyreport.PolicyReport, error) {
		rep := &policyreport.PolicyReport{}
		err := k8s.Get(ctx, types.NamespacedName{Namespace: "preport-a", Name: name}, rep)
		return rep, err
	}
	result := func(rep *policyreport.PolicyReport, check, container string) *policyreport.Result {
		for i, r := range rep.Results {
			if r.Policy == check && r.Properties["container"] == container {
				return &rep.Results[i]
			}
		}
		return nil
	}
	var rep *policyreport.PolicyReport
	eventually(t, 20*time.Second, "the Deployment's PolicyReport", func() error {
		var err error
		rep, err = get()
		return err
	})
	if rep.Scope == nil || rep.Scope.Kind != "Deployment" || rep.Scope.Name != "agent" {
		t.Errorf("scope %+v", rep.Scope)
	}
	live := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), live); err != nil {
		t.Fatal(err)
	}
	if len(rep.OwnerReferences) != 1 || rep.OwnerReferences[0].UID != live.UID {
		t.Errorf("owner references %+v: want the Deployment, for garbage collection", rep.OwnerReferences)
	}
	if r := result(rep, "wl-privileged", "setup"); r == nil || r.Result != "fail" || r.Severity != "critical" || r.Properties["criteria"] == "" {
		t.Errorf("wl-privileged on setup: %+v", r)
	}
	if r := result(rep, "wl-privileged", "app"); r == nil || r.Result != "pass" {
		t.Errorf("passes must be in the report too: wl-privileged on app: %+v", r)
	}
	if rep.Summary.Fail == 0 || rep.Summary.Pass == 0 {
		t.Errorf("summary %+v", rep.Summary)
	}

	// An exception shows as skip, naming the exception.
	ex := &v1alpha1.ControlException{}
	ex.Name, ex.Namespace = "setup", "preport-a"
	ex.Spec = v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "The setup step needs the host for now.",
		Owner: "team@example.com", Expires: metaTime(time.Now().Add(24 * time.Hour))}
	createApproved(t, ex)
	eventually(t, 10*time.Second, "the excepted result is a skip with the exception's name", func() error {
		rep, err := get()
		if err != nil {
			return err
		}
		r := result(rep, "wl-privileged", "setup")
		if r == nil || r.Result != "skip" || r.Properties["exception"] != "preport-a/setup" {
			return fmt.Errorf("result %+v", r)
		}
		return nil
	})

	// Turning PolicyReports off removes them.
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "preport"}, p); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.PolicyReports = false
	if err := k8s.Patch(ctx, p, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the reports removed", func() error {
		list := &policyreport.PolicyReportList{}
		if err := k8s.List(ctx, list, client.InNamespace("preport-a")); err != nil {
			return err
		}
		if len(list.Items) != 0 {
			return fmt.Errorf("%d reports left", len(list.Items))
		}
		return nil
	})
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }

// TestPolicyReportsEditedOrDeletedAreWrittenAgain: the operator does not watch PolicyReports
// and skips writing a report whose content it wrote before, so a tenant who may edit
// PolicyReports in their namespace (Kyverno's charts aggregate that into the admin role) could
// turn a failing result into a pass, zero the summary Policy Reporter counts, or delete the
// report, and it stayed so until the evaluation itself changed. The next evaluation of the
// namespace now finds the difference and writes the reports again.
func TestPolicyReportsEditedOrDeletedAreWrittenAgain(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-tamper", map[string]string{"preport-tamper": "true"})
	for _, name := range []string{"edited", "deleted"} {
		if err := k8s.Create(ctx, deployment("preport-tamper", name, true)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, "preport-tamper", "preport-tamper", func(p *v1alpha1.ComplianceProfile) { p.Spec.PolicyReports = true })
	key := func(name string) types.NamespacedName {
		return types.NamespacedName{Namespace: "preport-tamper", Name: policyreport.ReportName("preport-tamper", "Deployment", name)}
	}
	failing := func(rep *policyreport.PolicyReport) error {
		for _, r := range rep.Results {
			if r.Policy == "wl-privileged" && r.Properties["container"] == "setup" {
				if r.Result != "fail" {
					return fmt.Errorf("wl-privileged on setup is %q", r.Result)
				}
				if rep.Summary.Fail == 0 {
					return fmt.Errorf("the summary counts no failure: %+v", rep.Summary)
				}
				return nil
			}
		}
		return fmt.Errorf("no wl-privileged result for setup in %d results", len(rep.Results))
	}
	// bothFailing waits until both reports are there with their failure.
	bothFailing := func(what string) {
		t.Helper()
		for _, name := range []string{"edited", "deleted"} {
			eventually(t, 20*time.Second, name+"'s PolicyReport "+what, func() error {
				rep := &policyreport.PolicyReport{}
				if err := k8s.Get(ctx, key(name), rep); err != nil {
					return err
				}
				return failing(rep)
			})
		}
	}
	bothFailing("with its failure")

	// Anyone but the operator (here a cluster admin) is refused a change to its reports, or a
	// report claiming to be its, by the admission policy soc2-operator-policyreport-writer.
	adminCfg, err := testenv.AddUser(env, "policyreport-editor", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	other, err := client.New(adminCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	rep := &policyreport.PolicyReport{}
	if err := other.Get(ctx, key("edited"), rep); err != nil {
		t.Fatal(err)
	}
	passing := rep.DeepCopy()
	for i := range passing.Results {
		passing.Results[i].Result = "pass"
	}
	passing.Summary = policyreport.Summary{Pass: len(passing.Results)}
	relabelled := rep.DeepCopy()
	relabelled.Labels[v1alpha1.LabelManagedBy] = "someone-else"
	forged := &policyreport.PolicyReport{ObjectMeta: metav1.ObjectMeta{Namespace: "preport-tamper", Name: "soc2-forged",
		Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy}}, Summary: policyreport.Summary{Pass: 1}}
	// Policy Reporter shows a result as soc2-operator's by its source, whatever the report's
	// labels: an unlabelled report whose results claim that source would put a forged pass
	// beside the operator's failure.
	claimed := &policyreport.PolicyReport{ObjectMeta: metav1.ObjectMeta{Namespace: "preport-tamper", Name: "soc2-claimed"},
		Scope: rep.Scope.DeepCopy(), Summary: policyreport.Summary{Pass: 1},
		Results: []policyreport.Result{{Source: policyreport.Source, Policy: "wl-privileged", Result: "pass"}}}
	kyverno := &policyreport.PolicyReport{ObjectMeta: metav1.ObjectMeta{Namespace: "preport-tamper", Name: "kyverno-own"},
		Scope: rep.Scope.DeepCopy(), Summary: policyreport.Summary{Pass: 1},
		Results: []policyreport.Result{{Source: "kyverno", Policy: "disallow-privileged", Result: "pass"}}}
	if err := other.Create(ctx, kyverno); err != nil {
		t.Fatalf("another tool's report is refused: %v", err)
	}
	claiming := kyverno.DeepCopy()
	claiming.Results = append(claiming.Results, claimed.Results[0])
	for what, err := range map[string]error{
		"turning failures into passes":               other.Patch(ctx, passing, client.MergeFrom(rep)),
		"relabelling the report":                     other.Patch(ctx, relabelled, client.MergeFrom(rep)),
		"creating a report as the operator's":        other.Create(ctx, forged),
		"creating a report of the operator's source": other.Create(ctx, claimed),
		"adding a result of the operator's source":   other.Patch(ctx, claiming, client.MergeFrom(kyverno)),
	} {
		if err == nil || !strings.Contains(err.Error(), "written only by the operator") {
			t.Errorf("%s: want the admission policy's refusal, got %v", what, err)
		}
	}
	// The API server never refuses the operator's own user (k8s here): an edit made so (or
	// while the policy was not in force) is undone like a deletion, which stays allowed (the
	// garbage collector and namespace deletion need it).
	if err := k8s.Get(ctx, key("edited"), rep); err != nil {
		t.Fatal(err)
	}
	passing = rep.DeepCopy()
	for i := range passing.Results {
		passing.Results[i].Result = "pass"
	}
	passing.Summary = policyreport.Summary{Pass: len(passing.Results)}
	if err := k8s.Patch(ctx, passing, client.MergeFrom(rep)); err != nil {
		t.Fatal(err)
	}
	gone := &policyreport.PolicyReport{}
	gone.Namespace, gone.Name = key("deleted").Namespace, key("deleted").Name
	if err := other.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}

	// Any change in the namespace evaluates it again (as the profile's interval would).
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "preport-tamper", Name: "nudge"}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	bothFailing("written again with its failure")
}

// TestPolicyReportWriterSeesOnlyOthersChanges: what the writer stored reads back, listed from
// the API server, as unchanged (or every evaluation would be followed by another, writing the
// same reports again), and any change to a stored report's results, summary or labels, or its
// deletion, reads as changed.
func TestPolicyReportWriterSeesOnlyOthersChanges(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-writer", nil)
	d := deployment("preport-writer", "app", true)
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "preport-writer"},
		Spec: v1alpha1.ComplianceProfileSpec{PolicyReports: true}}
	plan := engine.Compile(checks.Catalogue(), nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
		engine.Options{Now: time.Now(), KeepPassing: true})
	w := newPolicyReportWriter(k8s, k8s, k8s.RESTMapper())
	keep, err := w.write(ctx, profile, ev)
	if err != nil || len(keep) != 1 {
		t.Fatalf("write: %v, %d reports", err, len(keep))
	}
	changed := func() bool {
		t.Helper()
		c, err := w.prune(ctx, profile, "preport-writer", keep)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if changed() {
		t.Fatal("the report the writer just wrote reads as changed by someone else")
	}
	key := types.NamespacedName{Namespace: "preport-writer", Name: policyreport.ReportName("preport-writer", "Deployment", "app")}
	for _, tc := range []struct {
		name   string
		change func(*policyreport.PolicyReport)
	}{
		{"a result", func(r *policyreport.PolicyReport) { r.Results[0].Result = "skip" }},
		{"the summary", func(r *policyreport.PolicyReport) { r.Summary.Fail = 0 }},
		{"the managed-by label", func(r *policyreport.PolicyReport) { r.Labels[v1alpha1.LabelManagedBy] = "someone" }},
		{"nothing", nil},
		{"deleted", func(*policyreport.PolicyReport) {}},
	} {
		rep := &policyreport.PolicyReport{}
		if err := k8s.Get(ctx, key, rep); err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.name == "deleted":
			if err := k8s.Delete(ctx, rep); err != nil {
				t.Fatal(err)
			}
		case tc.change != nil:
			tc.change(rep)
			if err := k8s.Update(ctx, rep); err != nil {
				t.Fatal(err)
			}
		}
		if got := changed(); got != (tc.change != nil) {
			t.Errorf("%s changed: prune says changed %v", tc.name, got)
		}
		// The next evaluation writes it again, and then it reads as unchanged.
		if _, err := w.write(ctx, profile, ev); err != nil {
			t.Fatal(err)
		}
		if changed() {
			t.Errorf("after %s changed, the report written again reads as changed", tc.name)
		}
	}
}

// TestPolicyReportsGoWithTheirProfile: PolicyReports are owned by the resources they judge, not
// by the profile, so deleting a profile whose spec.policyReports was on left every one of them
// (a Deployment's "fail", a ClusterRole's "pass") in place for Policy Reporter to show under a
// profile that no longer exists, while the profile's ComplianceReports went with it. Deleting
// the profile now removes them.
func TestPolicyReportsGoWithTheirProfile(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-gone", map[string]string{"preport-gone": "true"})
	if err := k8s.Create(ctx, deployment("preport-gone", "agent", true)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "preport-gone", "preport-gone", func(p *v1alpha1.ComplianceProfile) { p.Spec.PolicyReports = true })
	own := client.MatchingLabels{v1alpha1.LabelProfile: "preport-gone"}
	count := func() (int, int, error) {
		ns := &policyreport.PolicyReportList{}
		if err := k8s.List(ctx, ns, own); err != nil {
			return 0, 0, err
		}
		cl := &policyreport.ClusterPolicyReportList{}
		if err := k8s.List(ctx, cl, own); err != nil {
			return 0, 0, err
		}
		return len(ns.Items), len(cl.Items), nil
	}
	eventually(t, 20*time.Second, "the profile's PolicyReports and ClusterPolicyReports", func() error {
		ns, cl, err := count()
		if err != nil {
			return err
		}
		if ns == 0 || cl == 0 {
			return fmt.Errorf("%d PolicyReports, %d ClusterPolicyReports", ns, cl)
		}
		return nil
	})

	if err := k8s.Delete(ctx, profile); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "no PolicyReport of the deleted profile", func() error {
		ns, cl, err := count()
		if err != nil {
			return err
		}
		if ns != 0 || cl != 0 {
			return fmt.Errorf("%d PolicyReports and %d ClusterPolicyReports of the deleted profile are left", ns, cl)
		}
		return nil
	})
}

// TestPolicyReportsGoWithTheirNamespacesSelection: a namespace the profile stops selecting (its
// label removed) loses its ComplianceReport at once; its PolicyReports, and its Namespace's
// ClusterPolicyReport, stayed until the profile's next full evaluation (an hour here), for
// Policy Reporter to show results of a namespace the profile no longer assesses.
func TestPolicyReportsGoWithTheirNamespacesSelection(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-unselected", map[string]string{"preport-unselected": "true"})
	if err := k8s.Create(ctx, deployment("preport-unselected", "agent", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "preport-unselected", "preport-unselected", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.PolicyReports = true
		p.Spec.EvaluationInterval = &metav1.Duration{Duration: time.Hour}
	})
	deploymentReport := types.NamespacedName{Namespace: "preport-unselected", Name: policyreport.ReportName("preport-unselected", "Deployment", "agent")}
	namespaceReport := types.NamespacedName{Name: policyreport.ReportName("preport-unselected", "Namespace", "preport-unselected")}
	eventually(t, 20*time.Second, "the Deployment's PolicyReport and the Namespace's ClusterPolicyReport", func() error {
		if err := k8s.Get(ctx, deploymentReport, &policyreport.PolicyReport{}); err != nil {
			return err
		}
		return k8s.Get(ctx, namespaceReport, &policyreport.ClusterPolicyReport{})
	})

	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "preport-unselected"}, ns); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ns.DeepCopy())
	delete(ns.Labels, "preport-unselected")
	if err := k8s.Patch(ctx, ns, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the ComplianceReport deleted", func() error {
		err := k8s.Get(ctx, types.NamespacedName{Namespace: "preport-unselected", Name: "preport-unselected"}, &v1alpha1.ComplianceReport{})
		if err == nil {
			return fmt.Errorf("the report is still there")
		}
		return client.IgnoreNotFound(err)
	})
	eventually(t, 10*time.Second, "the PolicyReports of the namespace no longer selected deleted", func() error {
		if err := k8s.Get(ctx, deploymentReport, &policyreport.PolicyReport{}); err == nil {
			return fmt.Errorf("the Deployment's PolicyReport is still there")
		} else if client.IgnoreNotFound(err) != nil {
			return err
		}
		if err := k8s.Get(ctx, namespaceReport, &policyreport.ClusterPolicyReport{}); err == nil {
			return fmt.Errorf("the Namespace's ClusterPolicyReport is still there")
		} else if client.IgnoreNotFound(err) != nil {
			return err
		}
		return nil
	})
}

// TestPolicyReportsOfAProfileDeletedWhileTheOperatorWasDownAreSwept: deleting a profile removes
// its PolicyReports when the operator sees the deletion; a profile deleted while the operator was
// down (an upgrade, a GitOps change applied during an outage) left them for good, Policy Reporter
// showing a Deployment's "fail" under a profile that no longer exists, while its ComplianceReports
// were swept at start. The sweep now takes the PolicyReports and ClusterPolicyReports the
// operator wrote for a profile that does not exist, and leaves a live profile's and other tools'.
func TestPolicyReportsOfAProfileDeletedWhileTheOperatorWasDownAreSwept(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-downtime", map[string]string{"preport-downtime": "true"})
	if err := k8s.Create(ctx, deployment("preport-downtime", "agent", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "preport-live", "preport-downtime", func(p *v1alpha1.ComplianceProfile) { p.Spec.PolicyReports = true })
	live := client.MatchingLabels{v1alpha1.LabelProfile: "preport-live"}
	liveCount := func() int {
		ns := &policyreport.PolicyReportList{}
		if err := k8s.List(ctx, ns, live); err != nil {
			t.Fatal(err)
		}
		return len(ns.Items)
	}
	eventually(t, 20*time.Second, "the live profile's PolicyReports", func() error {
		if n := liveCount(); n == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	before := liveCount()

	// What the operator had written for profile preport-gone before it was deleted while the
	// operator was down, and a report another tool keeps with the same profile label.
	labels := func(managed bool) map[string]string {
		l := map[string]string{v1alpha1.LabelProfile: "preport-gone"}
		if managed {
			l[v1alpha1.LabelManagedBy] = v1alpha1.ManagedBy
		}
		return l
	}
	left := &policyreport.PolicyReport{ObjectMeta: metav1.ObjectMeta{Name: policyreport.ReportName("preport-gone", "Deployment", "agent"),
		Namespace: "preport-downtime", Labels: labels(true)}}
	leftCluster := &policyreport.ClusterPolicyReport{ObjectMeta: metav1.ObjectMeta{Name: policyreport.ReportName("preport-gone", "Namespace", "preport-downtime"),
		Labels: labels(true)}}
	others := &policyreport.PolicyReport{ObjectMeta: metav1.ObjectMeta{Name: "another-tools-report", Namespace: "preport-downtime", Labels: labels(false)}}
	for _, o := range []client.Object{left, leftCluster, others} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	r := &ComplianceProfileReconciler{Client: k8s, apiReader: k8s, state: newState(),
		policyReports: newPolicyReportWriter(k8s, k8s, k8s.RESTMapper())}
	// The watchdog of an operator that starts leading: its start tasks sweep.
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = (&watchdog{client: k8s, profiles: r, period: time.Hour}).Start(wctx)
	}()
	t.Cleanup(func() { stop(); <-done })
	eventually(t, 20*time.Second, "the starting watchdog swept the reports of the profile that is gone", func() error {
		for _, o := range []client.Object{left, leftCluster} {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); err == nil {
				return fmt.Errorf("%s/%s of the profile deleted while the operator was down is still there", o.GetNamespace(), o.GetName())
			} else if !apierrors.IsNotFound(err) {
				return err
			}
		}
		return nil
	})
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(others), others); err != nil {
		t.Errorf("another tool's report with the same profile label: %v; want it left alone", err)
	}
	if n := liveCount(); n != before {
		t.Errorf("the live profile has %d PolicyReports after the sweep, had %d", n, before)
	}
}

// TestPolicyReportsOfTwoProfilesWhoseNamesMeetAreKeptApart: profile preport-clash's report on
// Deployment deployment-web and profile preport-clash-deployment's on Deployment web were both
// named soc2-preport-clash-deployment-deployment-web, and with both profiles selecting the
// namespace each evaluation wrote over the other's: one of the two reports was always missing,
// and Policy Reporter showed one profile's results under the other's. Such names are now hashed.
func TestPolicyReportsOfTwoProfilesWhoseNamesMeetAreKeptApart(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-clash", map[string]string{"preport-clash": "true"})
	for _, d := range []string{"web", "deployment-web"} {
		if err := k8s.Create(ctx, deployment("preport-clash", d, false)); err != nil {
			t.Fatal(err)
		}
	}
	profiles := []string{"preport-clash", "preport-clash-deployment"}
	for _, p := range profiles {
		createProfile(t, p, "preport-clash", func(p *v1alpha1.ComplianceProfile) { p.Spec.PolicyReports = true })
	}
	eventually(t, 20*time.Second, "each profile's PolicyReport on each Deployment", func() error {
		list := &policyreport.PolicyReportList{}
		if err := k8s.List(ctx, list, client.InNamespace("preport-clash")); err != nil {
			return err
		}
		have := map[string]bool{}
		for _, r := range list.Items {
			if r.Scope != nil {
				have[r.Labels[v1alpha1.LabelProfile]+" "+r.Scope.Name] = true
			}
		}
		for _, p := range profiles {
			for _, d := range []string{"web", "deployment-web"} {
				if !have[p+" "+d] {
					return fmt.Errorf("no PolicyReport of profile %s on Deployment %s (have %v)", p, d, have)
				}
			}
		}
		return nil
	})
}

// TestPolicyReportsShowAWaivedUndecidedResultAsSkip: a custom check whose expression fails on
// an object (a field it reads left out) is NotAssessed, and the admission webhook refuses the
// object as it refuses a failure, unless an Active exception would waive that failure; then it
// admits it. The PolicyReport wrote error for both, so Policy Reporter counted an error the
// webhook and scan's gate had waived. The waived one is now skip with the exception, as an
// excepted failure is; the one no exception names is still error.
func TestPolicyReportsShowAWaivedUndecidedResultAsSkip(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-waived", map[string]string{"preport-waived": "true"})
	for _, name := range []string{"waived", "open"} {
		if err := k8s.Create(ctx, deployment("preport-waived", name, false)); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, "preport-waived", "preport-waived", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.PolicyReports = true
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
		// deployment() sets runAsNonRoot on its container only: the expression, which reads the
		// pod's, fails on both.
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-pod-nonroot", Title: "pods run as non-root", Kinds: []string{"Deployment"},
			Criteria: []v1alpha1.Criterion{"CC6.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "object.spec.template.spec.securityContext.runAsNonRoot == true"}}
	})
	ex := &v1alpha1.ControlException{}
	ex.Name, ex.Namespace = "legacy", "preport-waived"
	ex.Spec = v1alpha1.ControlExceptionSpec{Checks: []string{"custom-pod-nonroot"}, Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"waived"}},
		Reason: "The vendor image runs as root until PAY-7.", Owner: "team@example.com", Expires: metaTime(time.Now().Add(24 * time.Hour))}
	createApproved(t, ex)
	for name, want := range map[string]struct{ result, exception string }{
		"waived": {"skip", "preport-waived/legacy"},
		"open":   {"error", ""},
	} {
		eventually(t, 20*time.Second, name+"'s custom-pod-nonroot result "+want.result, func() error {
			rep := &policyreport.PolicyReport{}
			key := types.NamespacedName{Namespace: "preport-waived", Name: policyreport.ReportName("preport-waived", "Deployment", name)}
			if err := k8s.Get(ctx, key, rep); err != nil {
				return err
			}
			for _, r := range rep.Results {
				if r.Policy != "custom-pod-nonroot" {
					continue
				}
				if string(r.Result) != want.result || r.Properties["exception"] != want.exception || !strings.Contains(r.Message, "expression failed") {
					return fmt.Errorf("%s, exception %q: %s", r.Result, r.Properties["exception"], r.Message)
				}
				return nil
			}
			return fmt.Errorf("no custom-pod-nonroot result in %d results", len(rep.Results))
		})
	}
}

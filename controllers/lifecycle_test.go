package controllers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// eventually is testenv.Eventually.
var eventually = testenv.Eventually

func createNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

func createProfile(t *testing.T, name, selectorLabel string, mutate func(*v1alpha1.ComplianceProfile)) *v1alpha1.ComplianceProfile {
	t.Helper()
	p := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{selectorLabel: "true"}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	return p
}

// onlyCheck turns off every built-in check of the profile but id.
func onlyCheck(p *v1alpha1.ComplianceProfile, id string) {
	no := false
	for _, c := range checks.Catalogue() {
		if c.ID != id {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
}

// deployment is a hardened Deployment, or one whose init container runs privileged.
func deployment(ns, name string, privileged bool) *appsv1.Deployment {
	yes, no := true, false
	uid := int64(10001)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": name}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: &no,
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.example.com/app:1.0.0",
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
							Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
					}},
				},
			},
		},
	}
	if privileged {
		d.Spec.Template.Spec.InitContainers = []corev1.Container{{
			Name: "setup", Image: "registry.example.com/setup:1.0.0",
			SecurityContext: &corev1.SecurityContext{Privileged: &yes},
		}}
	}
	return d
}

// updateDeployment reads a Deployment, lets change edit it, and writes it back.
func updateDeployment(t *testing.T, ns, name string, change func(*appsv1.Deployment)) {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	change(d)
	if err := k8s.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// updateProfile reads a profile, lets change edit it, and writes it back, again on a conflict:
// the operator writes the profile's status (which moves its resourceVersion) while it evaluates.
func updateProfile(t *testing.T, name string, change func(*v1alpha1.ComplianceProfile)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		change(p)
		return k8s.Update(context.Background(), p)
	}); err != nil {
		t.Fatal(err)
	}
}

// privilegedUnderWaivableProfile creates namespace ns labelled for profile (of that name), a
// Deployment name in it whose privileged container fails wl-privileged (Critical), and the
// profile, under which Critical findings may be waived; it waits for the namespace's first
// report.
func privilegedUnderWaivableProfile(t *testing.T, profile, ns, name string) (*v1alpha1.ComplianceProfile, *v1alpha1.ComplianceReport) {
	t.Helper()
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(context.Background(), deployment(ns, name, true)); err != nil {
		t.Fatal(err)
	}
	p := createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	return p, waitWritten(t, ns, profile)
}

// waitWritten waits until the namespace's report of the profile has a status, and returns it.
func waitWritten(t *testing.T, ns, profile string) *v1alpha1.ComplianceReport {
	t.Helper()
	var rep *v1alpha1.ComplianceReport
	eventually(t, 20*time.Second, "report "+ns+"/"+profile+" written", func() error {
		var err error
		if rep, err = getReport(ns, profile); err != nil {
			return err
		}
		if rep.Status.Result == "" {
			return fmt.Errorf("no status yet")
		}
		return nil
	})
	return rep
}

func getReport(ns, profile string) (*v1alpha1.ComplianceReport, error) {
	rep := &v1alpha1.ComplianceReport{}
	err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: profile}, rep)
	return rep, err
}

// finding returns the report's finding of a check on a resource and container, if listed.
func finding(rep *v1alpha1.ComplianceReport, check, name, container string) *v1alpha1.Finding {
	for i, f := range rep.Status.Findings {
		if f.Check == check && f.Resource.Name == name && f.Container == container {
			return &rep.Status.Findings[i]
		}
	}
	return nil
}

// findingSays is a condition for eventually: the report of profile in ns has been evaluated and
// holds a finding of check on the resource named name (no container) whose message contains
// want, or, with want "", holds none.
func findingSays(ns, profile, check, name, want string) func() error {
	return func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.LastEvaluated == nil {
			return fmt.Errorf("not evaluated yet")
		}
		f := finding(rep, check, name, "")
		switch {
		case f == nil && want != "":
			return fmt.Errorf("no %s finding yet", check)
		case f == nil:
			return nil
		case want == "":
			return fmt.Errorf("%s finding still there: %q", check, f.Message)
		case !strings.Contains(f.Message, want):
			return fmt.Errorf("%s finding says %q", check, f.Message)
		}
		return nil
	}
}

func criterionStatus(criteria []v1alpha1.CriterionStatus, id v1alpha1.Criterion) v1alpha1.CriterionState {
	for _, c := range criteria {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

// TestLifecycle walks the life of a profile as a user sees it, on the real API server:
// reports appear with the expected criteria; a fixed workload loses its finding; an exception
// turns the finding Excepted with its name; when the exception expires, with nothing else
// changing, the finding fails again; a deselected or deleted namespace loses its report.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "life-a", map[string]string{"life": "true"})
	createNamespace(t, "life-b", map[string]string{"life": "true"})
	createNamespace(t, "life-other", nil)
	for _, d := range []*appsv1.Deployment{deployment("life-a", "bad", true), deployment("life-a", "good", false), deployment("life-b", "good", false)} {
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// Critical findings may be waived: the exception below waives wl-privileged.
	profile := createProfile(t, "life", "life", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})

	t.Run("every selected namespace gets a report owned by the profile", func(t *testing.T) {
		eventually(t, 20*time.Second, "reports in life-a and life-b", func() error {
			for _, ns := range []string{"life-a", "life-b"} {
				rep, err := getReport(ns, "life")
				if err != nil {
					return err
				}
				if rep.Status.Result == "" {
					return fmt.Errorf("report in %s has no status yet", ns)
				}
			}
			return nil
		})
		rep, _ := getReport("life-a", "life")
		ref := metav1.GetControllerOf(rep)
		if ref == nil || ref.Kind != "ComplianceProfile" || ref.Name != "life" || ref.UID != profile.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("owner reference %+v: want the profile as controller, blocking deletion, for garbage collection", ref)
		}
		if rep.Labels[v1alpha1.LabelProfile] != "life" || rep.Spec.Profile != "life" {
			t.Errorf("report labels %v spec %+v: want the profile named", rep.Labels, rep.Spec)
		}
		if _, err := getReport("life-other", "life"); !apierrors.IsNotFound(err) {
			t.Errorf("an unselected namespace has a report: %v", err)
		}
	})

	t.Run("the report shows the failing criteria and the finding", func(t *testing.T) {
		rep, _ := getReport("life-a", "life")
		f := finding(rep, "wl-privileged", "bad", "setup")
		if f == nil || f.Result != v1alpha1.ResultFail || f.Severity != v1alpha1.SeverityCritical || f.FirstSeen == nil {
			t.Fatalf("wl-privileged finding on bad/setup = %+v; findings: %+v", f, rep.Status.Findings)
		}
		if rep.Status.Result != v1alpha1.NonCompliant || criterionStatus(rep.Status.Criteria, "CC6.1") != v1alpha1.CriterionFail {
			t.Errorf("report result %s, CC6.1 %s: want NonCompliant and Fail", rep.Status.Result, criterionStatus(rep.Status.Criteria, "CC6.1"))
		}
		if rep.Status.Summary.Critical < 1 || rep.Status.Summary.Resources != 3 {
			t.Errorf("summary %+v: want a critical finding and 3 resources (2 Deployments and the Namespace)", rep.Status.Summary)
		}
		if !meta.IsStatusConditionTrue(rep.Status.Conditions, v1alpha1.ConditionReady) || !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
			t.Errorf("conditions %+v: want Ready=True, Stale=False", rep.Status.Conditions)
		}
		b, _ := getReport("life-b", "life")
		if f := finding(b, "wl-privileged", "good", "app"); f != nil {
			t.Errorf("the hardened workload has a privileged finding: %+v", f)
		}
		if criterionStatus(b.Status.Criteria, "CC6.8") == v1alpha1.CriterionFail && finding(b, "wl-privileged", "good", "") != nil {
			t.Errorf("life-b CC6.8 fails for privilege")
		}
	})

	t.Run("the profile rolls up the namespaces", func(t *testing.T) {
		eventually(t, 10*time.Second, "profile status", func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: "life"}, p); err != nil {
				return err
			}
			if p.Status.NamespacesEvaluated != 2 || p.Status.NamespacesNonCompliant < 1 || criterionStatus(p.Status.Criteria, "CC6.1") != v1alpha1.CriterionFail {
				return fmt.Errorf("status %+v", p.Status)
			}
			if !meta.IsStatusConditionTrue(p.Status.Conditions, v1alpha1.ConditionReady) {
				return fmt.Errorf("not Ready: %+v", p.Status.Conditions)
			}
			return nil
		})
	})

	t.Run("fixing the workload removes its finding", func(t *testing.T) {
		updateDeployment(t, "life-a", "bad", func(d *appsv1.Deployment) { d.Spec.Template.Spec.InitContainers = nil })
		eventually(t, 10*time.Second, "wl-privileged finding gone", func() error {
			rep, err := getReport("life-a", "life")
			if err != nil {
				return err
			}
			if f := finding(rep, "wl-privileged", "bad", "setup"); f != nil {
				return fmt.Errorf("still listed: %+v", f)
			}
			return nil
		})
	})

	t.Run("an exception turns the finding Excepted, and its expiry turns it back to Fail", func(t *testing.T) {
		updateDeployment(t, "life-a", "bad", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.InitContainers = deployment("", "", true).Spec.Template.Spec.InitContainers
		})
		expires := clk.Now().Add(time.Hour)
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "privileged-setup", Namespace: "life-a"},
			Spec: v1alpha1.ControlExceptionSpec{
				Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"bad"}, Containers: []string{"setup"}},
				Reason: "The setup step loads a kernel module until the node image ships it.", Owner: "team-a@example.com",
				Expires: metav1.NewTime(expires),
			},
		}
		createApproved(t, ex)
		eventually(t, 12*time.Second, "finding Excepted by life-a/privileged-setup", func() error {
			rep, err := getReport("life-a", "life")
			if err != nil {
				return err
			}
			f := finding(rep, "wl-privileged", "bad", "setup")
			if f == nil || f.Result != v1alpha1.ResultExcepted || f.Exception != "life-a/privileged-setup" {
				return fmt.Errorf("finding %+v", f)
			}
			if len(rep.Status.Exceptions) != 1 || rep.Status.Exceptions[0].Findings != 1 || rep.Status.Exceptions[0].State != v1alpha1.ExceptionActive {
				return fmt.Errorf("exceptions in play %+v", rep.Status.Exceptions)
			}
			return nil
		})
		eventually(t, 5*time.Second, "exception status Active covering one finding", func() error {
			got := &v1alpha1.ControlException{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
				return err
			}
			if got.Status.State != v1alpha1.ExceptionActive || got.Status.MatchedFindings != 1 {
				return fmt.Errorf("status %+v", got.Status)
			}
			return nil
		})
		// A second before the expiry, an evaluation still waives the finding.
		resyncAndWait(t, expires.Sub(clk.Now())-time.Second, "life")
		rep, err := getReport("life-a", "life")
		if err != nil {
			t.Fatal(err)
		}
		if f := finding(rep, "wl-privileged", "bad", "setup"); f == nil || f.Result != v1alpha1.ResultExcepted {
			t.Errorf("a second before the expiry: finding %+v, want Excepted", f)
		}
		advance(t, 2*time.Second)
		eventually(t, 20*time.Second, "finding Fail again after the expiry", func() error {
			rep, err := getReport("life-a", "life")
			if err != nil {
				return err
			}
			f := finding(rep, "wl-privileged", "bad", "setup")
			if f == nil || f.Result != v1alpha1.ResultFail {
				return fmt.Errorf("finding %+v", f)
			}
			return nil
		})
		eventually(t, 5*time.Second, "exception status Expired with an event", func() error {
			got := &v1alpha1.ControlException{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
				return err
			}
			if got.Status.State != v1alpha1.ExceptionExpired {
				return fmt.Errorf("status %+v", got.Status)
			}
			return hasEvent(ctx, "life-a", "privileged-setup", EventExceptionExpired)
		})
	})

	t.Run("a deselected namespace loses its report", func(t *testing.T) {
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "life-b"}, ns); err != nil {
			t.Fatal(err)
		}
		delete(ns.Labels, "life")
		if err := k8s.Update(ctx, ns); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "report in life-b deleted", func() error {
			if _, err := getReport("life-b", "life"); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
	})

	t.Run("a deleted namespace is no longer counted", func(t *testing.T) {
		// A namespace being deleted is evaluated while it exists
		// (TestANamespaceBeingDeletedIsStillEvaluated). envtest runs no namespace controller:
		// the test deletes the report as it would, with the namespace's content, and then
		// finalizes the namespace, which removes it.
		if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: objectMeta("life-a")}); err != nil {
			t.Fatal(err)
		}
		if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "life-a", Name: "life"}}); err != nil {
			t.Fatal(err)
		}
		ns := &corev1.Namespace{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "life-a"}, ns); err != nil {
			t.Fatal(err)
		}
		ns.Spec.Finalizers = nil
		if err := k8s.SubResource("finalize").Update(ctx, ns); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "profile counts no namespace", func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: "life"}, p); err != nil {
				return err
			}
			if p.Status.NamespacesEvaluated != 0 {
				return fmt.Errorf("namespacesEvaluated = %d", p.Status.NamespacesEvaluated)
			}
			return nil
		})
	})
}

func hasEvent(ctx context.Context, ns, name, reason string) error {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return err
	}
	var seen []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			return nil
		}
		seen = append(seen, e.Regarding.Name+":"+e.Reason)
	}
	return fmt.Errorf("no %s event on %s/%s; events: %v", reason, ns, name, seen)
}

// TestNoWritesWhenIdle proves that an idle cluster causes no writes: with nothing changing,
// several full re-evaluations, each at a later time, leave every resourceVersion as it was and
// send no update request.
func TestNoWritesWhenIdle(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "idle-a", map[string]string{"idle": "true"})
	createNamespace(t, "idle-b", map[string]string{"idle": "true"})
	for _, d := range []*appsv1.Deployment{deployment("idle-a", "bad", true), deployment("idle-b", "good", false)} {
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, "idle", "idle", nil) // the default interval: the test drives the re-evaluations
	eventually(t, 20*time.Second, "both reports written and the profile ready", func() error {
		for _, ns := range []string{"idle-a", "idle-b"} {
			if rep, err := getReport(ns, "idle"); err != nil || rep.Status.Result == "" {
				return fmt.Errorf("report in %s: %v", ns, err)
			}
		}
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "idle"}, p); err != nil || p.Status.NamespacesEvaluated != 2 {
			return fmt.Errorf("profile: %v %+v", err, p.Status)
		}
		return nil
	})
	versions := func() map[string]string {
		out := map[string]string{}
		for _, ns := range []string{"idle-a", "idle-b"} {
			rep, _ := getReport(ns, "idle")
			out[ns] = rep.ResourceVersion
		}
		p := &v1alpha1.ComplianceProfile{}
		_ = k8s.Get(ctx, types.NamespacedName{Name: "idle"}, p)
		out["profile"] = p.ResourceVersion
		return out
	}
	writes := `soc2_operator_report_writes_total{operation="update",profile="idle",result="ok"}`
	// One evaluation after the first, so that whatever the first one wrote has landed.
	resyncAndWait(t, time.Minute, "idle")
	before := versions()
	writesBefore := scrapeCounter(t, writes)
	const evaluations = 3
	for range evaluations {
		resyncAndWait(t, time.Minute, "idle")
	}
	after := versions()
	// The API server turns an identical update into a no-op, so resourceVersions alone would
	// not show a needless update request: count the requests too.
	if n := scrapeCounter(t, writes) - writesBefore; n != 0 {
		t.Errorf("%v report update requests in %d idle evaluations", n, evaluations)
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s was written while idle: resourceVersion %s -> %s", k, v, after[k])
		}
	}
}

// scrapeCounter reads one series from the manager's metrics endpoint.
func scrapeCounter(t *testing.T, series string) float64 {
	t.Helper()
	body := scrape(t)
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, series+" ") {
			var v float64
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, series+" "), "%g", &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

func scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

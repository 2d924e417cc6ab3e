package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

func profileReady(ctx context.Context, name string) (*metav1.Condition, *v1alpha1.ComplianceProfile, error) {
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		return nil, nil, err
	}
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.ObservedGeneration != p.Generation {
		return nil, p, fmt.Errorf("no Ready condition for generation %d yet: %+v", p.Generation, p.Status.Conditions)
	}
	return c, p, nil
}

// TestProfileProblemsSayWhatToFix shows that a profile with a mistake the schema cannot catch
// is not Ready, with a reason and message a person can act on, while every other check still
// runs and the reports are still written.
func TestProfileProblemsSayWhatToFix(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "problem-a", map[string]string{"problem": "true"})
	if err := k8s.Create(ctx, deployment("problem-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	no := false
	cases := []struct {
		name    string
		mutate  func(*v1alpha1.ComplianceProfile)
		reason  string
		message string
	}{
		{
			name: "problem-unknown-check",
			mutate: func(p *v1alpha1.ComplianceProfile) {
				p.Spec.Checks = []v1alpha1.CheckOverride{{ID: "wl-privilegd", Enabled: &no}}
			},
			reason:  v1alpha1.ReasonUnknownCheck,
			message: `spec.checks[0].id: unknown check "wl-privilegd"; did you mean "wl-privileged"?`,
		},
		{
			name: "problem-broken-cel",
			mutate: func(p *v1alpha1.ComplianceProfile) {
				p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "needs-owner", Title: "owner label", Kinds: []string{"Workload"},
					Expression: "object.metadata.labels.owner ==", Criteria: []v1alpha1.Criterion{"CC8.1"}}}
			},
			reason:  v1alpha1.ReasonInvalidCustomCheck,
			message: `spec.customChecks[0].expression: custom check "needs-owner": does not compile`,
		},
		{
			name: "problem-unread-kind",
			mutate: func(p *v1alpha1.ComplianceProfile) {
				p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "clonesets", Title: "clonesets", Kinds: []string{"CloneSet"},
					Expression: "true", Criteria: []v1alpha1.Criterion{"CC8.1"}}}
			},
			reason:  v1alpha1.ReasonInvalidCustomCheck,
			message: `spec.customChecks[0].kinds[0]: the operator does not read CloneSet objects`,
		},
	}
	parent := t
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			createProfile(parent, tc.name, "problem", tc.mutate)
			eventually(t, 15*time.Second, "Ready=False with the reason", func() error {
				c, _, err := profileReady(ctx, tc.name)
				if err != nil {
					return err
				}
				if c.Status != metav1.ConditionFalse || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) {
					return fmt.Errorf("Ready = %s %s %q", c.Status, c.Reason, c.Message)
				}
				return nil
			})
			eventually(t, 10*time.Second, "the report still shows the built-in checks", func() error {
				rep, err := getReport("problem-a", tc.name)
				if err != nil {
					return err
				}
				if finding(rep, "wl-privileged", "bad", "setup") == nil {
					return fmt.Errorf("no wl-privileged finding: %+v", rep.Status.Findings)
				}
				return nil
			})
			// The event broadcaster writes Events asynchronously, after the status.
			eventually(t, 10*time.Second, "a ProfileInvalid Event", func() error {
				return hasEvent(ctx, "default", tc.name, EventProfileInvalid)
			})
		})
	}

	t.Run("a fixed profile becomes Ready", func(t *testing.T) {
		updateProfile(t, "problem-unknown-check", func(p *v1alpha1.ComplianceProfile) { p.Spec.Checks[0].ID = "wl-privileged" })
		eventually(t, 10*time.Second, "Ready=True", func() error {
			c, _, err := profileReady(ctx, "problem-unknown-check")
			if err != nil {
				return err
			}
			if c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonEvaluated {
				return fmt.Errorf("Ready = %s %s %q", c.Status, c.Reason, c.Message)
			}
			return nil
		})
		eventually(t, 10*time.Second, "the disabled check's finding gone", func() error {
			rep, err := getReport("problem-a", "problem-unknown-check")
			if err != nil {
				return err
			}
			if f := finding(rep, "wl-privileged", "bad", "setup"); f != nil {
				return fmt.Errorf("still there: %+v", f)
			}
			return nil
		})
	})
}

// TestExceptionStates shows the states an exception's status takes, with the reason.
func TestExceptionStates(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "exc-a", map[string]string{"exc": "true"})
	createProfile(t, "exc", "exc", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxDuration: &metav1.Duration{Duration: 30 * 24 * time.Hour}}
	})
	future := metav1.NewTime(time.Now().Add(7 * 24 * time.Hour))
	cases := []struct {
		name, namespace string
		spec            v1alpha1.ControlExceptionSpec
		approve         bool
		state           v1alpha1.ExceptionState
		reason, message string
	}{
		{
			name: "typo", namespace: "exc-a",
			spec:  v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privilegd"}},
			state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonUnknownCheck, message: `unknown check "wl-privilegd"`,
		},
		{
			name: "greedy", namespace: "exc-a",
			spec:  v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"*"}}},
			state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonNamespaceNotAllowed, message: "only exceptions in the operator's namespace",
		},
		{
			// Its own namespace, listed, selects no other: it is the exception without the field.
			name: "own-namespace", namespace: "exc-a",
			spec:    v1alpha1.ControlExceptionSpec{Criteria: []v1alpha1.Criterion{"A1.2"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"exc-a"}}},
			approve: true,
			state:   v1alpha1.ExceptionActive, reason: v1alpha1.ReasonActive, message: "approved by " + testenv.ApproverName,
		},
		{
			name: "own-and-another", namespace: "exc-a",
			spec:  v1alpha1.ControlExceptionSpec{Criteria: []v1alpha1.Criterion{"A1.2"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"exc-a", "default"}}},
			state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonNamespaceNotAllowed, message: "only exceptions in the operator's namespace",
		},
		{
			name: "too-long", namespace: "exc-a",
			spec:  v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Expires: metav1.NewTime(time.Now().Add(90 * 24 * time.Hour))},
			state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonPolicyViolation, message: `profile "exc" allows at most 30d`,
		},
		{
			name: "platform-wide", namespace: adminNamespace,
			spec:    v1alpha1.ControlExceptionSpec{Criteria: []v1alpha1.Criterion{"A1.2"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"exc-a"}}},
			approve: true,
			state:   v1alpha1.ExceptionActive, reason: v1alpha1.ReasonActive, message: "for profiles exc, approved by " + testenv.ApproverName,
		},
		{
			name: "unapproved", namespace: "exc-a",
			spec:  v1alpha1.ControlExceptionSpec{Criteria: []v1alpha1.Criterion{"A1.2"}},
			state: v1alpha1.ExceptionPendingApproval, reason: v1alpha1.ReasonPendingApproval, message: "awaiting approval: a user other than the requester",
		},
		{
			name: "critical", namespace: "exc-a",
			spec:    v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}},
			approve: true,
			state:   v1alpha1.ExceptionActive, reason: v1alpha1.ReasonActive, message: `does not waive Critical findings: profile "exc" waives at most High`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: tc.namespace}, Spec: tc.spec}
			ex.Spec.Reason, ex.Spec.Owner = "A reason that is long enough.", "owner@example.com"
			if ex.Spec.Expires.IsZero() {
				ex.Spec.Expires = future
			}
			if tc.approve {
				createApproved(t, ex)
			} else if err := k8s.Create(ctx, ex); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k8s.Delete(ctx, ex) })
			eventually(t, 10*time.Second, "exception status", func() error {
				got := &v1alpha1.ControlException{}
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
					return err
				}
				c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
				if got.Status.State != tc.state || c == nil || c.Reason != tc.reason || !strings.Contains(got.Status.Message, tc.message) {
					return fmt.Errorf("status %+v", got.Status)
				}
				if tc.approve && tc.state == v1alpha1.ExceptionActive && (got.Status.ApprovedBy != testenv.ApproverName || got.Status.ApprovedAt == nil) {
					return fmt.Errorf("approval not recorded in the status: %q at %v", got.Status.ApprovedBy, got.Status.ApprovedAt)
				}
				return nil
			})
		})
	}
}

// TestAnExceptionInANamespaceTheCacheLacksIsJudgedUnderItsProfiles: one `kubectl apply` of a
// namespace and its exceptions can reach the exception controller before its cache holds the
// namespace. The exception is judged under the profiles that select the namespace as the API
// server has it, not as in no namespace ("No ComplianceProfile it applies to assesses
// namespace ...") until the hourly re-check.
func TestAnExceptionInANamespaceTheCacheLacksIsJudgedUnderItsProfiles(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "exc-lag", map[string]string{"exclag": "true"})
	selecting := createProfile(t, "exclag", "exclag", nil)
	other := createProfile(t, "exclag-other", "exclag-other", nil)
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "exc-lag"}}
	r := &ControlExceptionReconciler{Client: testenv.Lag{Client: k8s, Unseen: []client.Object{&corev1.Namespace{}}}, APIReader: k8s, AdminNamespace: adminNamespace}
	got, err := r.assessing(ctx, ex, []v1alpha1.ComplianceProfile{*other, *selecting})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != selecting.Name {
		t.Errorf("profiles assessing the exception's namespace, which the cache lacks: got %v, want [%s]", profileNames(got), selecting.Name)
	}
	// The cache really lacks it: with nothing else to ask, no profile assesses it.
	r.APIReader = nil
	if got, err := r.assessing(ctx, ex, []v1alpha1.ComplianceProfile{*other, *selecting}); err != nil || len(got) != 0 {
		t.Errorf("with no API reader: got %v, %v; want no profile", profileNames(got), err)
	}
}

func profileNames(ps []v1alpha1.ComplianceProfile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestReportsAreRestored shows that a report edited or deleted by hand comes back as the
// operator last evaluated it.
func TestReportsAreRestored(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "restore-a", map[string]string{"restore": "true"})
	if err := k8s.Create(ctx, deployment("restore-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "restore", "restore", nil)
	var original *v1alpha1.ComplianceReport
	eventually(t, 15*time.Second, "report written", func() error {
		rep, err := getReport("restore-a", "restore")
		if err != nil || rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("%v %+v", err, rep.Status.Result)
		}
		original = rep
		return nil
	})

	t.Run("edited status", func(t *testing.T) {
		rep := original.DeepCopy()
		rep.Status.Result = v1alpha1.Compliant
		rep.Status.Findings = nil
		rep.Status.Summary.Failing = 0
		if err := k8s.Status().Update(ctx, rep); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "status restored", func() error {
			got, err := getReport("restore-a", "restore")
			if err != nil {
				return err
			}
			if got.Status.Result != v1alpha1.NonCompliant || got.Status.Summary.Failing != original.Status.Summary.Failing {
				return fmt.Errorf("result %s, failing %d", got.Status.Result, got.Status.Summary.Failing)
			}
			return nil
		})
	})

	t.Run("edited labels and owner", func(t *testing.T) {
		rep, err := getReport("restore-a", "restore")
		if err != nil {
			t.Fatal(err)
		}
		rep.Labels = map[string]string{"edited": "true"}
		rep.OwnerReferences = nil
		if err := k8s.Update(ctx, rep); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "metadata restored", func() error {
			got, err := getReport("restore-a", "restore")
			if err != nil {
				return err
			}
			if got.Labels[v1alpha1.LabelProfile] != "restore" || metav1.GetControllerOf(got) == nil {
				return fmt.Errorf("labels %v owners %v", got.Labels, got.OwnerReferences)
			}
			return nil
		})
	})

	t.Run("deleted", func(t *testing.T) {
		rep, err := getReport("restore-a", "restore")
		if err != nil {
			t.Fatal(err)
		}
		if err := k8s.Delete(ctx, rep); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "report recreated", func() error {
			got, err := getReport("restore-a", "restore")
			if err != nil {
				return err
			}
			if got.UID == rep.UID || got.Status.Result != v1alpha1.NonCompliant {
				return fmt.Errorf("uid %s result %s", got.UID, got.Status.Result)
			}
			return nil
		})
	})
}

// TestMetricsEndpoint checks that the documented series are served.
func TestMetricsEndpoint(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "metrics-a", map[string]string{"metrics": "true"})
	if err := k8s.Create(ctx, deployment("metrics-a", "bad", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "metrics", "metrics", nil)
	waitWritten(t, "metrics-a", "metrics")
	want := []string{
		`soc2_operator_criterion_status{criterion="CC6.1",namespace="metrics-a",profile="metrics",status="Fail"} 1`,
		`soc2_operator_findings{namespace="metrics-a",profile="metrics",result="Fail",severity="Critical"} 1`,
		`soc2_operator_namespace_compliant{namespace="metrics-a",profile="metrics"} 0`,
		`soc2_operator_evaluation_duration_seconds_count{profile="metrics",scope="cluster"}`,
		`soc2_operator_evaluations_total{outcome="ok",profile="metrics",scope="cluster"}`,
		`soc2_operator_report_writes_total{operation="create",profile="metrics",result="ok"} 1`,
		`soc2_operator_report_writes_total{operation="update",profile="metrics",result="ok"}`,
		`soc2_operator_last_evaluation_timestamp_seconds{profile="metrics"}`,
		`soc2_operator_profile_ready{profile="metrics"} 1`,
	}
	eventually(t, 10*time.Second, "documented series served", func() error {
		body := scrape(t)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return fmt.Errorf("missing %s", w)
			}
		}
		return nil
	})

	// Deleting the profile drops its series.
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceProfile{ObjectMeta: objectMeta("metrics")}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "series of the deleted profile gone", func() error {
		for _, line := range strings.Split(scrape(t), "\n") {
			if strings.Contains(line, `profile="metrics"`) {
				return fmt.Errorf("still served: %s", line)
			}
		}
		return nil
	})
}

// TestAChangeReachesItsReport shows a change in a namespace reaching its report with nothing
// else happening (internal/scaletest measures how fast, against the 2-second target).
func TestAChangeReachesItsReport(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "quick-a", map[string]string{"quick": "true"})
	if err := k8s.Create(ctx, deployment("quick-a", "web", false)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "quick", "quick", nil)
	waitWritten(t, "quick-a", "quick")
	updateDeployment(t, "quick-a", "web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true })
	eventually(t, 15*time.Second, "the hostNetwork finding", func() error {
		rep, err := getReport("quick-a", "quick")
		if err != nil {
			return err
		}
		if finding(rep, "wl-host-network", "web", "") == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// TestPriorityClassesAreJudgedByWhatTheClusterHolds shows avl-priority-class reading the
// cluster's PriorityClasses: a class that does not exist fails (the Priority admission plugin
// refuses the pods), one of value 0 gives no priority and fails, and a class created with a
// positive value reaches the report with nothing else happening, which then lists no finding.
func TestPriorityClassesAreJudgedByWhatTheClusterHolds(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "prio-a", map[string]string{"prio": "true"})
	for name, class := range map[string]string{"web": "prio-test-missing", "zero": "prio-test-zero", "later": "prio-test-later"} {
		d := deployment("prio-a", name, false)
		d.Spec.Template.Spec.PriorityClassName = class
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createPriorityClass := func(name string, value int32) {
		t.Helper()
		pc := &schedulingv1.PriorityClass{ObjectMeta: objectMeta(name), Value: value}
		if err := k8s.Create(ctx, pc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), pc) })
	}
	createPriorityClass("prio-test-zero", 0)
	createProfile(t, "prio", "prio", nil)
	want := map[string]string{
		"web":   `PriorityClass "prio-test-missing" does not exist`,
		"zero":  `PriorityClass "prio-test-zero" has value 0`,
		"later": `PriorityClass "prio-test-later" does not exist`,
	}
	eventually(t, 20*time.Second, "the avl-priority-class findings", func() error {
		rep, err := getReport("prio-a", "prio")
		if err != nil {
			return err
		}
		for name, msg := range want {
			f := finding(rep, "avl-priority-class", name, "")
			if f == nil || !strings.Contains(f.Message, msg) {
				return fmt.Errorf("%s: want a finding saying %q, have %+v", name, msg, f)
			}
		}
		return nil
	})
	createPriorityClass("prio-test-later", 1000)
	eventually(t, 20*time.Second, "the finding on later gone once its class exists", func() error {
		rep, err := getReport("prio-a", "prio")
		if err != nil {
			return err
		}
		if f := finding(rep, "avl-priority-class", "later", ""); f != nil {
			return fmt.Errorf("still listed: %+v", f)
		}
		if finding(rep, "avl-priority-class", "zero", "") == nil {
			return fmt.Errorf("the finding on zero is gone too")
		}
		return nil
	})
}

// TestClusterScopedFindingsAreListedOnTheProfile shows that a ClusterRoleBinding that fails a
// check is listed, and counted, in the profile's status (clusterFindings), where an auditor
// reads the findings of cluster-scoped objects.
func TestClusterScopedFindingsAreListedOnTheProfile(t *testing.T) {
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("everyone-is-admin"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
	}
	if err := k8s.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
	createProfile(t, "cluster-findings", "cluster-findings", nil)
	eventually(t, 20*time.Second, "the ClusterRoleBinding's finding on the profile", func() error {
		_, p, err := profileReady(ctx, "cluster-findings")
		if err != nil {
			return err
		}
		for _, f := range p.Status.ClusterFindings {
			if f.Check == "rbac-cluster-admin-binding" && f.Resource.Kind == "ClusterRoleBinding" && f.Resource.Name == crb.Name {
				if p.Status.ClusterFindingsTotal < int32(len(p.Status.ClusterFindings)) {
					return fmt.Errorf("clusterFindingsTotal is %d, but %d findings are listed", p.Status.ClusterFindingsTotal, len(p.Status.ClusterFindings))
				}
				return nil
			}
		}
		return fmt.Errorf("clusterFindings (total %d) does not list rbac-cluster-admin-binding on ClusterRoleBinding %s: %+v",
			p.Status.ClusterFindingsTotal, crb.Name, p.Status.ClusterFindings)
	})
}

// TestAClaimOnAHostRootVolumeReachesItsReport shows wl-hostpath-pv reading the cluster's
// PersistentVolumeClaims and PersistentVolumes: a Deployment whose claim names a volume that
// does not exist yet passes, and when an administrator creates that volume as a hostPath of the
// node's root, the Deployment's report fails with nothing else happening (the operator watches
// PersistentVolumes), and the volume is listed among the profile's cluster findings.
func TestAClaimOnAHostRootVolumeReachesItsReport(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "claims-a", map[string]string{"claims": "true"})
	d := deployment("claims-a", "web", false)
	d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "data",
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}})
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	size := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	empty := ""
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "claims-a", Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: size}, StorageClassName: &empty, VolumeName: "claims-test-node-root"}}
	if err := k8s.Create(ctx, pvc); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "claims", "claims", nil)
	waitWritten(t, "claims-a", "claims")
	if rep, err := getReport("claims-a", "claims"); err != nil {
		t.Fatal(err)
	} else if f := finding(rep, "wl-hostpath-pv", "web", ""); f != nil {
		t.Fatalf("a finding before the volume exists: %+v", f)
	}
	pv := &corev1.PersistentVolume{ObjectMeta: objectMeta("claims-test-node-root"),
		Spec: corev1.PersistentVolumeSpec{Capacity: size, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}},
			ClaimRef:               &corev1.ObjectReference{Namespace: "claims-a", Name: "data"}}}
	if err := k8s.Create(ctx, pv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pv) })
	eventually(t, 20*time.Second, "the claim's finding and the volume's", func() error {
		rep, err := getReport("claims-a", "claims")
		if err != nil {
			return err
		}
		f := finding(rep, "wl-hostpath-pv", "web", "")
		if f == nil || !strings.Contains(f.Message, `volume "data" is on PersistentVolume "claims-test-node-root", a hostPath volume at "/"`) {
			return fmt.Errorf("web: want the finding naming the volume, have %+v", f)
		}
		_, p, err := profileReady(ctx, "claims")
		if err != nil {
			return err
		}
		for _, f := range p.Status.ClusterFindings {
			if f.Check == "wl-hostpath-pv" && f.Resource.Kind == "PersistentVolume" && f.Resource.Name == pv.Name {
				return nil
			}
		}
		return fmt.Errorf("clusterFindings does not list the volume: %+v", p.Status.ClusterFindings)
	})
}

// TestACustomCheckOnPodsJudgesTheDeploymentsPods: a profile's custom check written for Pods
// (kinds: [Pod], every image from ghcr.io/acme/) judged nothing in a namespace of Deployments:
// their Pods are judged through their templates, and the check was NotApplicable, the report
// Compliant, while every Pod ran another registry's image. The Deployment's pod template is now
// judged as its Pods, and the report lists the finding on the Deployment.
func TestACustomCheckOnPodsJudgesTheDeploymentsPods(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "custom-pods", map[string]string{"custom-pods": "true"})
	if err := k8s.Create(ctx, deployment("custom-pods", "web", false)); err != nil {
		t.Fatal(err)
	}
	profile := createProfile(t, "custom-pods", "custom-pods", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-acme-images", Title: "images from ghcr.io/acme", Kinds: []string{"Pod"},
			Expression: "object.spec.containers.all(c, c.image.startsWith('ghcr.io/acme/'))", Criteria: []v1alpha1.Criterion{"CC8.1"},
			Severity: v1alpha1.SeverityHigh, Message: "every image must come from ghcr.io/acme/"}}
	})
	eventually(t, 20*time.Second, "the custom check's finding on Deployment web", func() error {
		rep := &v1alpha1.ComplianceReport{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "custom-pods", Name: profile.Name}, rep); err != nil {
			return err
		}
		for _, f := range rep.Status.Findings {
			if f.Check == "custom-acme-images" && f.Resource.Kind == "Deployment" && f.Resource.Name == "web" && f.Result == v1alpha1.ResultFail {
				if rep.Status.Result == v1alpha1.Compliant {
					return fmt.Errorf("the report is Compliant with the finding listed")
				}
				return nil
			}
		}
		return fmt.Errorf("report %s: %s, %d findings, none of custom-acme-images on Deployment web", rep.Name, rep.Status.Result, len(rep.Status.Findings))
	})
}

// TestACustomCheckOfWhatTheCacheDropsIsNotAssessed: the operator's cache drops every object's
// managedFields (CacheOptions), so a custom check reading them judged an object without them. A
// change-management check that no Deployment was edited by hand (no field manager kubectl-edit,
// as kubectl edit writes it) passed Deployment web, which kubectl-edit manages, and PI1.1, which
// the check alone supports, read Pass: the check cannot see the field, and says so.
func TestACustomCheckOfWhatTheCacheDropsIsNotAssessed(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "custom-withheld", map[string]string{"custom-withheld": "true"})
	if err := k8s.Create(ctx, deployment("custom-withheld", "web", false), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "custom-withheld", "custom-withheld", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-no-hand-edits", Title: "Deployments are not edited by hand",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "!object.metadata.?managedFields.orValue([]).exists(f, f.manager == 'kubectl-edit')"}}
	})
	eventually(t, 20*time.Second, "PI1.1 NotAssessed", func() error {
		rep, err := getReport("custom-withheld", "custom-withheld")
		if err != nil {
			return err
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "PI1.1" {
				if c.Status != v1alpha1.CriterionNotAssessed || c.UnassessedChecks != 1 {
					return fmt.Errorf("PI1.1 %+v, want NotAssessed with 1 unassessed check", c)
				}
				return nil
			}
		}
		return fmt.Errorf("report %s: no PI1.1 in %+v", rep.Name, rep.Status.Criteria)
	})
}

// TestAPodBoundToANodeIsJudgedAgain: the scheduler binds a Pod to its node through the
// pods/binding subresource, which writes spec.nodeName without a new generation. A custom check
// may read it (here, Pods stay off the control plane): the binding must reach the report.
func TestAPodBoundToANodeIsJudgedAgain(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "bind-a", map[string]string{"bind": "true"})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "bind-a"},
		Spec: *deployment("bind-a", "web", false).Spec.Template.Spec.DeepCopy()}
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "bind", "bind", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-off-control-plane", Title: "Pods run off the control plane",
			Kinds: []string{"Pod"}, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Expression: "!has(object.spec.nodeName) || !object.spec.nodeName.startsWith('control-plane')"}}
	})
	waitWritten(t, "bind-a", "bind")
	generation := pod.Generation
	binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		Target: corev1.ObjectReference{Kind: "Node", Name: "control-plane-1"}}
	if err := k8s.SubResource("binding").Create(ctx, pod, binding); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "control-plane-1" || pod.Generation != generation {
		t.Fatalf("after the binding: node %q, generation %d (was %d); the test's premise is a new node and the same generation",
			pod.Spec.NodeName, pod.Generation, generation)
	}
	eventually(t, 15*time.Second, "the custom finding on the bound Pod", func() error {
		rep, err := getReport("bind-a", "bind")
		if err != nil {
			return err
		}
		if finding(rep, "custom-off-control-plane", "web", "") == nil {
			return fmt.Errorf("no custom-off-control-plane finding on Pod web: %v", rep.Status.Findings)
		}
		return nil
	})
}

// TestACustomCheckTheObjectBreaksFailsTheReport: a custom check whose expression the object
// broke (the label it compares left out: "no such key") is refused by the admission webhook
// under Enforce and fails scan's gate, since the object's author decides it, but the report
// counted it as undecided: with Deployment api passing, PI1.1 (which the check alone supports)
// read Pass, and no finding named web, which left the label out. PI1.1 now fails on web, and the
// report lists the finding, NotAssessed with the expression's error.
func TestACustomCheckTheObjectBreaksFailsTheReport(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "custom-broken", map[string]string{"custom-broken": "true"})
	api := deployment("custom-broken", "api", false)
	api.Labels["data-classification"] = "public"
	for _, d := range []*appsv1.Deployment{api, deployment("custom-broken", "web", false)} {
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, "custom-broken", "custom-broken", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only",
			Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}}
	})
	eventually(t, 20*time.Second, "PI1.1 Fail on web", func() error {
		rep, err := getReport("custom-broken", "custom-broken")
		if err != nil {
			return err
		}
		f := finding(rep, "custom-public", "web", "")
		if f == nil || f.Result != v1alpha1.ResultNotAssessed || !strings.HasPrefix(f.Message, "expression failed: ") {
			return fmt.Errorf("web: want a NotAssessed finding naming the expression's failure, have %+v", f)
		}
		if finding(rep, "custom-public", "api", "") != nil {
			return fmt.Errorf("api, which passes, is listed")
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "PI1.1" {
				if c.Status != v1alpha1.CriterionFail || c.Failed != 1 {
					return fmt.Errorf("PI1.1 %+v, want Fail with 1 failed", c)
				}
				if rep.Status.Result != v1alpha1.NonCompliant {
					return fmt.Errorf("report %s with PI1.1 failing", rep.Status.Result)
				}
				return nil
			}
		}
		return fmt.Errorf("report %s: no PI1.1 in %+v", rep.Name, rep.Status.Criteria)
	})
}

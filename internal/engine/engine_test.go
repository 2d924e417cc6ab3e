package engine_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// privileged fails every privileged container; it stands in for the real catalogue so that
// these tests pin the engine's semantics, not a check's.
var privileged = &engine.Check{
	ID: "test-privileged", Title: "not privileged", Severity: v1alpha1.SeverityCritical,
	Criteria: []v1alpha1.Criterion{"CC6.1", "CC6.8"}, Targets: []string{engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		for _, c := range o.Workload.Containers() {
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				ctx.Fail(c.Name, "container %s is privileged", c.Name)
			} else {
				ctx.Pass(c.Name)
			}
		}
	},
}

// labelled fails workloads without a team label (Low).
var labelled = &engine.Check{
	ID: "test-labelled", Title: "labelled", Severity: v1alpha1.SeverityLow,
	Criteria: []v1alpha1.Criterion{"CC8.1"}, Targets: []string{engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Labels()["team"] == "" {
			ctx.Fail("", "no team label")
			return
		}
		ctx.Pass("")
	},
}

// undecided never has the data it needs.
var undecided = &engine.Check{
	ID: "test-undecided", Title: "needs a scanner", Severity: v1alpha1.SeverityHigh,
	Criteria: []v1alpha1.Criterion{"CC7.1"}, Targets: []string{engine.KindWorkload}, Requires: "a scanner",
	Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.NotAssessed("", "no scanner data") },
}

var catalogue = []*engine.Check{privileged, labelled, undecided}

func deployment(ns, name string, labels map[string]string, privilegedContainers ...string) *engine.Object {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "app:1"}}
	for _, c := range privilegedContainers {
		t := true
		d.Spec.Template.Spec.InitContainers = append(d.Spec.Template.Spec.InitContainers,
			corev1.Container{Name: c, Image: "init:1", SecurityContext: &corev1.SecurityContext{Privileged: &t}})
	}
	return engine.NewObject(d, "apps/v1", "Deployment")
}

func exception(ns, name string, mutate func(*v1alpha1.ControlExceptionSpec)) *v1alpha1.ControlException {
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: metav1.NewTime(now.Add(-24 * time.Hour))},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"test-privileged"}, Reason: "accepted for the test", Owner: "team@example.com",
			Expires: metav1.NewTime(now.Add(24 * time.Hour)), RequestedBy: "alice@example.com",
		},
		Approval: &v1alpha1.ExceptionApproval{ApprovedBy: "bob@example.com"},
	}
	if mutate != nil {
		mutate(&ex.Spec)
	}
	return ex
}

func evaluate(t *testing.T, profile *v1alpha1.ComplianceProfile, objs []*engine.Object, exs ...*v1alpha1.ControlException) *engine.Evaluation {
	t.Helper()
	plan := engine.Compile(catalogue, profile)
	return plan.Evaluate(engine.NewInventory(objs, true), exs, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true,
		Approval: engine.ApprovalEnforced})
}

func resultsOf(ev *engine.Evaluation, check string) []engine.Result {
	var out []engine.Result
	for _, r := range ev.Results {
		if r.Check.ID == check {
			out = append(out, r)
		}
	}
	return out
}

func criterion(s *engine.Summary, id v1alpha1.Criterion) v1alpha1.CriterionStatus {
	for _, c := range s.Criteria {
		if c.ID == id {
			return c
		}
	}
	return v1alpha1.CriterionStatus{}
}

func TestControllerOwnedObjectsAreJudgedThroughTheController(t *testing.T) {
	yes := true
	// A Pod its ReplicaSet's template explains, and a ReplicaSet its Deployment's explains: only
	// the Deployment is judged.
	genuine := webPod()
	// A Pod that claims the same ReplicaSet but runs a privileged container it does not have.
	forged := webPod()
	forged.Name = "web-abc-forged"
	forged.Spec.Containers[0].SecurityContext.Privileged = &yes
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "shop"}}
	bare.Spec.Containers = []corev1.Container{{Name: "shell"}}
	customOwned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kafka-0", Namespace: "shop",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "kafka.strimzi.io/v1beta2", Kind: "Kafka", Name: "kafka", Controller: &yes}}}}
	customOwned.Spec.Containers = []corev1.Container{{Name: "kafka"}}

	ev := evaluate(t, nil, []*engine.Object{
		engine.NewObject(genuine, "v1", "Pod"), engine.NewObject(forged, "v1", "Pod"),
		engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"), engine.NewObject(webDeployment(), "apps/v1", "Deployment"),
		engine.NewObject(bare, "v1", "Pod"), engine.NewObject(customOwned, "v1", "Pod"),
	})
	judged := map[string]bool{}
	for _, r := range resultsOf(ev, "test-privileged") {
		judged[r.Object.Kind+"/"+r.Object.Name] = true
	}
	want := map[string]bool{"Deployment/web": true, "Pod/web-abc-forged": true, "Pod/debug": true, "Pod/kafka-0": true}
	if len(judged) != len(want) {
		t.Fatalf("judged %v, want %v", judged, want)
	}
	for k := range want {
		if !judged[k] {
			t.Errorf("%s was not judged; judged %v", k, judged)
		}
	}
	if n := ev.Summaries["shop"].Resources; n != 4 {
		t.Errorf("resources evaluated = %d, want 4 (the Pod and ReplicaSet the templates explain are not counted)", n)
	}
	var failed *engine.Result
	for _, r := range resultsOf(ev, "test-privileged") {
		if r.Status == engine.StatusFail {
			if failed != nil {
				t.Fatalf("two failures; want only the forged Pod's: %s/%s and %s/%s", failed.Object.Kind, failed.Object.Name, r.Object.Kind, r.Object.Name)
			}
			failed = &r
		}
	}
	if failed == nil || failed.Object.Name != "web-abc-forged" {
		t.Fatalf("want the forged Pod's privileged container to fail, got %+v", failed)
	}
	want1 := "container app is privileged (judged on its own: not explained by ReplicaSet web-abc's template: container app's securityContext differs from the template's)"
	if failed.Message != want1 {
		t.Errorf("message %q, want %q", failed.Message, want1)
	}
}

func TestContainerChecksCoverInitAndEphemeralContainers(t *testing.T) {
	yes := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}}
	pod.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	pod.Spec.Containers = []corev1.Container{{Name: "app"}}
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debugger", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}
	ev := evaluate(t, nil, []*engine.Object{engine.NewObject(pod, "v1", "Pod")})
	got := map[string]engine.Status{}
	for _, r := range resultsOf(ev, "test-privileged") {
		got[r.Container] = r.Status
	}
	want := map[string]engine.Status{"init": engine.StatusPass, "app": engine.StatusPass, "debugger": engine.StatusFail}
	for c, s := range want {
		if got[c] != s {
			t.Errorf("container %s: %v, want %v (all: %v)", c, got[c], s, got)
		}
	}
}

func TestExceptions(t *testing.T) {
	objs := func() []*engine.Object {
		return []*engine.Object{
			deployment("shop", "web", map[string]string{"team": "shop", "tier": "front"}, "setup"),
			deployment("shop", "worker", map[string]string{"team": "shop"}, "setup"),
			deployment("billing", "web", map[string]string{"team": "billing"}, "setup"),
		}
	}
	type want struct {
		excepted []string // Kind/ns/name of excepted results of test-privileged
		state    v1alpha1.ExceptionState
		reason   string
		message  string
	}
	cases := map[string]struct {
		ex   *v1alpha1.ControlException
		want want
	}{
		"an exception by check covers that check in its own namespace only": {
			ex:   exception("shop", "all-privileged", nil),
			want: want{excepted: []string{"shop/web", "shop/worker"}, state: v1alpha1.ExceptionActive},
		},
		"an exception by criterion covers every check of that criterion": {
			ex: exception("shop", "by-criterion", func(s *v1alpha1.ControlExceptionSpec) {
				s.Checks = nil
				s.Criteria = []v1alpha1.Criterion{"CC6.8"}
			}),
			want: want{excepted: []string{"shop/web", "shop/worker"}, state: v1alpha1.ExceptionActive},
		},
		"a criterion the check does not support covers nothing": {
			ex: exception("shop", "other-criterion", func(s *v1alpha1.ControlExceptionSpec) {
				s.Checks = nil
				s.Criteria = []v1alpha1.Criterion{"A1.2"}
			}),
			want: want{state: v1alpha1.ExceptionActive},
		},
		"a name pattern narrows the exception": {
			ex:   exception("shop", "named", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Names = []string{"w?b"} }),
			want: want{excepted: []string{"shop/web"}, state: v1alpha1.ExceptionActive},
		},
		"a label selector narrows the exception": {
			ex: exception("shop", "labelled", func(s *v1alpha1.ControlExceptionSpec) {
				s.Match.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
			}),
			want: want{excepted: []string{"shop/web"}, state: v1alpha1.ExceptionActive},
		},
		"a kind that does not match covers nothing": {
			ex:   exception("shop", "statefulsets", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Kinds = []string{"StatefulSet"} }),
			want: want{state: v1alpha1.ExceptionActive},
		},
		"the Workload kind matches every workload kind": {
			ex:   exception("shop", "workloads", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Kinds = []string{"Workload"} }),
			want: want{excepted: []string{"shop/web", "shop/worker"}, state: v1alpha1.ExceptionActive},
		},
		"a container pattern matches only findings about that container": {
			ex:   exception("shop", "containers", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Containers = []string{"app"} }),
			want: want{state: v1alpha1.ExceptionActive},
		},
		"an expired exception stops applying": {
			ex: exception("shop", "expired", func(s *v1alpha1.ControlExceptionSpec) {
				s.Expires = metav1.NewTime(now.Add(-time.Minute))
			}),
			want: want{state: v1alpha1.ExceptionExpired, reason: v1alpha1.ReasonExpired, message: "expired at 2026-06-01T11:59:00Z"},
		},
		"an exception naming an unknown check is invalid": {
			ex:   exception("shop", "typo", func(s *v1alpha1.ControlExceptionSpec) { s.Checks = []string{"test-privilegd"} }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonUnknownCheck, message: `spec.checks[0]: unknown check "test-privilegd"`},
		},
		"an exception naming neither a check nor a criterion is invalid": {
			ex:   exception("shop", "empty", func(s *v1alpha1.ControlExceptionSpec) { s.Checks = nil }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonNothingWaived, message: "spec: an exception must name at least one check or criterion"},
		},
		"an exception without a reason is invalid": {
			ex:   exception("shop", "no-reason", func(s *v1alpha1.ControlExceptionSpec) { s.Reason = "  " }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonMissingReason, message: "spec.reason: an exception needs a reason"},
		},
		"an exception without an owner is invalid": {
			ex:   exception("shop", "no-owner", func(s *v1alpha1.ControlExceptionSpec) { s.Owner = "" }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonMissingOwner, message: "spec.owner: an exception needs an owner"},
		},
		"an exception without an expiry is invalid": {
			ex:   exception("shop", "no-expiry", func(s *v1alpha1.ControlExceptionSpec) { s.Expires = metav1.Time{} }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonMissingExpiry, message: "spec.expires: an exception needs an expiry"},
		},
		"an exception naming an unknown criterion is invalid": {
			ex: exception("shop", "bad-criterion", func(s *v1alpha1.ControlExceptionSpec) {
				s.Criteria = []v1alpha1.Criterion{"CC6.9"}
			}),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonUnknownCriterion, message: `spec.criteria[0]: unknown SOC 2 criterion "CC6.9"`},
		},
		"an exception with a bad name pattern is invalid": {
			ex:   exception("shop", "bad-pattern", func(s *v1alpha1.ControlExceptionSpec) { s.Match.Containers = []string{"[app"} }),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonInvalidMatch, message: `spec.match.containers[0]: "[app" is not a valid pattern`},
		},
		"an exception with a bad label selector is invalid": {
			ex: exception("shop", "bad-selector", func(s *v1alpha1.ControlExceptionSpec) {
				s.Match.LabelSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}}
			}),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonInvalidMatch, message: "spec.match.labelSelector: "},
		},
		"an exception outside the operator's namespace may not select other namespaces": {
			ex: exception("shop", "greedy", func(s *v1alpha1.ControlExceptionSpec) {
				s.Match.Namespaces = []string{"billing"}
			}),
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonNamespaceNotAllowed},
		},
		"an exception in the operator's namespace may select other namespaces": {
			ex: exception(engine.DefaultAdminNamespace, "platform", func(s *v1alpha1.ControlExceptionSpec) {
				s.Match.Namespaces = []string{"billing"}
			}),
			want: want{excepted: []string{"billing/web"}, state: v1alpha1.ExceptionActive},
		},
		"an exception for another profile does not apply": {
			ex: exception("shop", "other-profile", func(s *v1alpha1.ControlExceptionSpec) {
				s.Profiles = []string{"soc2-strict"}
			}),
			want: want{state: v1alpha1.ExceptionActive},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Critical findings may be waived here: these cases are about what an exception selects.
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "soc2-baseline"},
				Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
			ev := evaluate(t, profile, objs(), tc.ex)
			var excepted []string
			for _, r := range resultsOf(ev, "test-privileged") {
				if r.Status == engine.StatusExcepted {
					excepted = append(excepted, r.Object.Namespace+"/"+r.Object.Name)
					if r.Exception == nil || r.Exception.Key != tc.ex.Namespace+"/"+tc.ex.Name {
						t.Errorf("excepted result does not name its exception: %+v", r.Exception)
					}
					if r.Container != "setup" {
						t.Errorf("excepted result on container %q, want setup", r.Container)
					}
				}
			}
			if strings.Join(excepted, ",") != strings.Join(tc.want.excepted, ",") {
				t.Errorf("excepted %v, want %v", excepted, tc.want.excepted)
			}
			out := ev.Exceptions[0]
			if out.State != tc.want.state {
				t.Errorf("state %s (%s), want %s", out.State, out.Message, tc.want.state)
			}
			if tc.want.reason != "" && out.Reason != tc.want.reason {
				t.Errorf("reason %s, want %s", out.Reason, tc.want.reason)
			}
			if !strings.Contains(out.Message, tc.want.message) {
				t.Errorf("message %q does not contain %q", out.Message, tc.want.message)
			}
			if out.Matched != len(tc.want.excepted) {
				t.Errorf("matched %d findings, want %d (0 means reported as unused)", out.Matched, len(tc.want.excepted))
			}
		})
	}
}

func TestExceptionPolicy(t *testing.T) {
	critical := v1alpha1.SeverityCritical
	no := false
	type want struct {
		state    v1alpha1.ExceptionState
		reason   string
		message  string
		approver string
		excepted int
	}
	cases := map[string]struct {
		policy *v1alpha1.ExceptionPolicy
		ns     string
		trust  engine.ApprovalTrust
		// problem is why approvals are not trusted (with ApprovalUnverified).
		problem string
		mutate  func(*v1alpha1.ControlException)
		want    want
	}{
		"approved by a second user it is active and names its approver": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			want: want{state: v1alpha1.ExceptionActive, reason: v1alpha1.ReasonActive, message: "approved by bob@example.com", approver: "bob@example.com", excepted: 1},
		},
		"without an approval it is pending and waives nothing": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) { ex.Approval = nil },
			want: want{state: v1alpha1.ExceptionPendingApproval, reason: v1alpha1.ReasonPendingApproval,
				message: "awaiting approval: a user other than the requester alice@example.com who may approve controlexceptions in namespace shop"},
		},
		"approved by its own requester it is pending": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) { ex.Approval.ApprovedBy = "alice@example.com" },
			want:   want{state: v1alpha1.ExceptionPendingApproval, message: "approval.approvedBy alice@example.com is the requester"},
		},
		"without a recorded requester the approval is not trusted": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) { ex.Spec.RequestedBy = "" },
			want:   want{state: v1alpha1.ExceptionPendingApproval, message: "spec.requestedBy is empty"},
		},
		"while the admission policies are not verified no approval is trusted": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalUnverified,
			problem: "ValidatingAdmissionPolicyBinding soc2-operator-exception-approval is missing",
			want: want{state: v1alpha1.ExceptionPendingApproval,
				message: "the approval by bob@example.com is not trusted: ValidatingAdmissionPolicyBinding soc2-operator-exception-approval is missing"},
		},
		"an approval first seen while the admission policies were missing is never trusted": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.Generation, ex.Status.UnverifiedApprovalGeneration = 3, 3
			},
			want: want{state: v1alpha1.ExceptionPendingApproval, message: "it was written before the operator had confirmed that the admission policies that check approvals were in force (anyone could have written it then); remove approval and approve again"},
		},
		"an approval written again after that is trusted": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.Generation, ex.Status.UnverifiedApprovalGeneration = 5, 3
			},
			want: want{state: v1alpha1.ExceptionActive, approver: "bob@example.com", excepted: 1},
		},
		"a profile that does not require approval honours an exception without one": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical, RequireApproval: &no}, trust: engine.ApprovalUnverified,
			mutate: func(ex *v1alpha1.ControlException) { ex.Approval = nil },
			want:   want{state: v1alpha1.ExceptionActive, excepted: 1},
		},
		"offline the approval cannot be verified and the exception says so": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalOffline,
			mutate: func(ex *v1alpha1.ControlException) { ex.Approval = nil },
			want:   want{state: v1alpha1.ExceptionActive, message: engine.NoteApprovalOffline, excepted: 1},
		},
		"by default a Critical finding is not waived and the exception says so": {
			trust: engine.ApprovalEnforced,
			want: want{state: v1alpha1.ExceptionActive, approver: "bob@example.com",
				message: `does not waive Critical findings: profile "soc2-strict" waives at most High (spec.exceptionPolicy.maxSeverity)`},
		},
		"a Critical check named through its criterion is not waived either": {
			trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.Spec.Checks, ex.Spec.Criteria = nil, []v1alpha1.Criterion{"CC6.1", "CC8.1"}
			},
			want: want{state: v1alpha1.ExceptionActive, message: "does not waive Critical findings", excepted: 1},
		},
		"tenant exceptions are invalid where the profile allows only the operator's namespace": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical, AllowTenantExceptions: &no}, trust: engine.ApprovalEnforced,
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonPolicyViolation,
				message: `metadata.namespace: profile "soc2-strict" honours exceptions only in the operator's namespace "soc2-operator-system"`},
		},
		"the operator's namespace still holds exceptions where tenants may not": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical, AllowTenantExceptions: &no}, trust: engine.ApprovalEnforced,
			ns:     engine.DefaultAdminNamespace,
			mutate: func(ex *v1alpha1.ControlException) { ex.Spec.Match.Namespaces = []string{"shop"} },
			want:   want{state: v1alpha1.ExceptionActive, approver: "bob@example.com", excepted: 1},
		},
		"longer than the profile allows it is invalid": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical, MaxDuration: &metav1.Duration{Duration: 30 * 24 * time.Hour}}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) { ex.Spec.Expires = metav1.NewTime(now.Add(60 * 24 * time.Hour)) },
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonPolicyViolation,
				message: "the exception runs 61d from its creation; profile \"soc2-strict\" allows at most 30d"},
		},
		"read from a file with no creation time, it runs at least from now and is invalid when that is too long": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalOffline,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.CreationTimestamp = metav1.Time{}
				ex.Spec.Expires = metav1.NewTime(now.Add(10 * 365 * 24 * time.Hour))
			},
			want: want{state: v1alpha1.ExceptionInvalid, reason: v1alpha1.ReasonPolicyViolation,
				message: "the exception runs 3650d from now; profile \"soc2-strict\" allows at most 90d"},
		},
		"read from a file with no creation time, it applies while its expiry is within the limit from now": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalOffline,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.CreationTimestamp = metav1.Time{}
				ex.Spec.Expires = metav1.NewTime(now.Add(89 * 24 * time.Hour))
			},
			want: want{state: v1alpha1.ExceptionActive, message: engine.NoteApprovalOffline, excepted: 1},
		},
		"an approved exception marked for deletion stops applying, whatever finalizer holds it": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				at := metav1.NewTime(now.Add(-time.Hour))
				ex.DeletionTimestamp, ex.Finalizers = &at, []string{"example.com/keep"}
			},
			want: want{state: v1alpha1.ExceptionExpired, reason: v1alpha1.ReasonDeleted,
				message: "deleted at 2026-06-01T11:00:00Z (held by finalizer example.com/keep)"},
		},
		"an exception marked for deletion is Expired, approved or not": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				at := metav1.NewTime(now)
				ex.Approval, ex.DeletionTimestamp = nil, &at
			},
			want: want{state: v1alpha1.ExceptionExpired, reason: v1alpha1.ReasonDeleted},
		},
		"an expired exception is Expired, approved or not": {
			policy: &v1alpha1.ExceptionPolicy{MaxSeverity: critical}, trust: engine.ApprovalEnforced,
			mutate: func(ex *v1alpha1.ControlException) {
				ex.Approval = nil
				ex.Spec.Expires = metav1.NewTime(now.Add(-time.Minute))
			},
			want: want{state: v1alpha1.ExceptionExpired},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "soc2-strict"},
				Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: tc.policy}}
			ns := tc.ns
			if ns == "" {
				ns = "shop"
			}
			ex := exception(ns, "x", nil)
			if tc.mutate != nil {
				tc.mutate(ex)
			}
			objs := []*engine.Object{deployment("shop", "web", nil, "setup")}
			ev := engine.Compile(catalogue, profile).Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex},
				engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: tc.trust, ApprovalProblem: tc.problem})
			out := ev.Exceptions[0]
			if out.State != tc.want.state || !strings.Contains(out.Message, tc.want.message) {
				t.Errorf("got %s %q, want %s containing %q", out.State, out.Message, tc.want.state, tc.want.message)
			}
			if tc.want.reason != "" && out.Reason != tc.want.reason {
				t.Errorf("reason %s, want %s", out.Reason, tc.want.reason)
			}
			if tc.want.approver != "" && out.ApprovedBy != tc.want.approver {
				t.Errorf("approver %q, want %q", out.ApprovedBy, tc.want.approver)
			}
			if out.Matched != tc.want.excepted {
				t.Errorf("the exception covers %d findings, want %d", out.Matched, tc.want.excepted)
			}
			if got := ev.Summaries["shop"].Excepted; got != tc.want.excepted {
				t.Errorf("shop has %d excepted findings, want %d", got, tc.want.excepted)
			}
		})
	}
}

func TestRollUp(t *testing.T) {
	objs := []*engine.Object{
		deployment("shop", "web", map[string]string{"team": "shop"}, "setup"),
		deployment("shop", "api", nil),
		deployment("clean", "web", map[string]string{"team": "clean"}),
	}
	ev := evaluate(t, nil, objs)

	shop := ev.Summaries["shop"]
	if got := criterion(shop, "CC6.1"); got.Status != v1alpha1.CriterionFail || got.Failed != 1 || got.Checks != 1 {
		t.Errorf("shop CC6.1 = %+v, want Fail with 1 failed finding and 1 check", got)
	}
	if got := criterion(shop, "CC8.1"); got.Status != v1alpha1.CriterionFail || got.Failed != 1 {
		t.Errorf("shop CC8.1 = %+v, want Fail with 1 failed finding", got)
	}
	if got := criterion(shop, "CC7.1"); got.Status != v1alpha1.CriterionNotAssessed || got.Checks != 0 {
		t.Errorf("CC7.1 has only an undecided check: %+v, want NotAssessed (never Pass)", got)
	}
	if shop.State != v1alpha1.NonCompliant || shop.FailedCriteria != 3 {
		t.Errorf("shop is %s with %d failed criteria, want NonCompliant with 3", shop.State, shop.FailedCriteria)
	}
	// Both assessed checks fail in shop: score 0. In clean both hold: 100.
	if shop.Score == nil || *shop.Score != 0 {
		t.Errorf("shop score = %v, want 0", shop.Score)
	}
	clean := ev.Summaries["clean"]
	if clean.State != v1alpha1.Compliant || clean.Score == nil || *clean.Score != 100 {
		t.Errorf("clean = %s score %v, want Compliant 100", clean.State, clean.Score)
	}
	if f := shop.Findings; len(f) != 2 || f[0].Check.ID != "test-privileged" || f[1].Check.ID != "test-labelled" {
		t.Errorf("findings not ordered most severe first: %v", f)
	}

	// An exception turns the privileged finding Excepted: CC6.1 and CC6.8 become Excepted, and
	// the excepted check counts as holding in the score (10 of 11 weight points).
	waiveCritical := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	ev = evaluate(t, waiveCritical, objs, exception("shop", "accepted", nil))
	shop = ev.Summaries["shop"]
	if got := criterion(shop, "CC6.1"); got.Status != v1alpha1.CriterionExcepted || got.Excepted != 1 || got.Failed != 0 {
		t.Errorf("excepted CC6.1 = %+v, want Excepted", got)
	}
	if shop.Score == nil || *shop.Score != 90 {
		t.Errorf("score with the exception = %v, want floor(100*10/11) = 90", shop.Score)
	}

	total := ev.Plan.Merge(ev.Summaries["shop"], ev.Summaries["clean"])
	if total.Resources != 3 || total.Failing != 1 || total.Excepted != 1 {
		t.Errorf("merged summary = %d resources, %d failing, %d excepted; want 3, 1, 1", total.Resources, total.Failing, total.Excepted)
	}
	if got := criterion(total, "CC8.1"); got.Status != v1alpha1.CriterionFail || got.Checks != 1 {
		t.Errorf("merged CC8.1 = %+v, want Fail", got)
	}
}

func TestProfiles(t *testing.T) {
	no := false
	objs := []*engine.Object{deployment("shop", "web", nil, "setup")}
	cases := map[string]struct {
		spec     v1alpha1.ComplianceProfileSpec
		objects  int           // Deployments to evaluate (default 1)
		timeout  time.Duration // Options.CustomCheckTimeout (default: the engine's)
		problems []string
		check    func(t *testing.T, ev *engine.Evaluation)
	}{
		"a disabled check does not run": {
			spec: v1alpha1.ComplianceProfileSpec{Checks: []v1alpha1.CheckOverride{{ID: "test-privileged", Enabled: &no}}},
			check: func(t *testing.T, ev *engine.Evaluation) {
				if n := len(resultsOf(ev, "test-privileged")); n != 0 {
					t.Errorf("disabled check produced %d results", n)
				}
			},
		},
		"a severity override changes the findings' severity": {
			spec: v1alpha1.ComplianceProfileSpec{Checks: []v1alpha1.CheckOverride{{ID: "test-privileged", Severity: v1alpha1.SeverityLow}}},
			check: func(t *testing.T, ev *engine.Evaluation) {
				if s := ev.Summaries["shop"].FailingBySeverity; s[v1alpha1.SeverityLow] != 2 || s[v1alpha1.SeverityCritical] != 0 {
					t.Errorf("failing by severity = %v, want 2 Low", s)
				}
			},
		},
		"an unknown check ID is an error, with a suggestion": {
			spec:     v1alpha1.ComplianceProfileSpec{Checks: []v1alpha1.CheckOverride{{ID: "test-privilegd", Enabled: &no}}},
			problems: []string{`spec.checks[0].id: unknown check "test-privilegd"; did you mean "test-privileged"?`},
			check: func(t *testing.T, ev *engine.Evaluation) {
				if n := len(resultsOf(ev, "test-privileged")); n == 0 {
					t.Error("the other checks must still run")
				}
			},
		},
		"a required label no object can carry is a problem naming the field": {
			// The API server refuses these keys on every object (a space, a glob, an empty name
			// after the prefix), so chg-ownership-labels would fail every workload, silently.
			spec: v1alpha1.ComplianceProfileSpec{Parameters: &v1alpha1.CheckParameters{
				RequiredLabels: []string{"app.kubernetes.io/name", "cost center", "owner*", "example.com/"}}},
			problems: []string{
				`spec.parameters.requiredLabels[1]: "cost center" is not a label key`,
				`spec.parameters.requiredLabels[2]: "owner*" is not a label key`,
				`spec.parameters.requiredLabels[3]: "example.com/" is not a label key`,
			},
		},
		"criteria limit which checks run": {
			spec: v1alpha1.ComplianceProfileSpec{Criteria: []v1alpha1.Criterion{"CC8.1"}},
			check: func(t *testing.T, ev *engine.Evaluation) {
				if n := len(resultsOf(ev, "test-privileged")); n != 0 {
					t.Errorf("a check outside the criteria ran (%d results)", n)
				}
				if got := ev.Plan.Scope; len(got) != 1 || got[0] != "CC8.1" {
					t.Errorf("scope = %v, want [CC8.1]", got)
				}
			},
		},
		"a custom check that does not compile is reported while the others run": {
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "broken", Title: "t", Kinds: []string{"Deployment"}, Expression: "object.spec.replicas >", Criteria: []v1alpha1.Criterion{"A1.2"}},
				{ID: "has-replicas", Title: "has replicas", Kinds: []string{"Workload"}, Expression: "has(object.spec.replicas) && object.spec.replicas >= 2",
					Message: "fewer than two replicas", Criteria: []v1alpha1.Criterion{"A1.2"}, Severity: v1alpha1.SeverityHigh},
			}},
			problems: []string{`spec.customChecks[0].expression: custom check "broken": does not compile: ERROR: <input>:1:23: Syntax error`},
			check: func(t *testing.T, ev *engine.Evaluation) {
				rs := resultsOf(ev, "has-replicas")
				if len(rs) != 1 || rs[0].Status != engine.StatusFail || rs[0].Message != "fewer than two replicas" || rs[0].Check.Severity != v1alpha1.SeverityHigh {
					t.Errorf("custom check results = %+v, want one High failure with its message", rs)
				}
				if n := len(resultsOf(ev, "test-privileged")); n == 0 {
					t.Error("the built-in checks must still run")
				}
			},
		},
		"a custom check that takes the ID of a built-in one is an error": {
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "test-labelled", Title: "t", Kinds: []string{"Pod"}, Expression: "true", Criteria: []v1alpha1.Criterion{"A1.2"}},
			}},
			problems: []string{`spec.customChecks[0].id: custom check "test-labelled" has the ID of a built-in check`},
		},
		"a custom check that does not return a bool is an error": {
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "numbers", Title: "t", Kinds: []string{"Pod"}, Expression: "1 + 1", Criteria: []v1alpha1.Criterion{"A1.2"}},
			}},
			problems: []string{`returns int; it must return a bool`},
		},
		"a custom check that runs away is stopped by the cost limit": {
			// Time enough that only the cost limit can stop it: with the default 2 s, a loaded
			// machine under -race reached the timeout first (seen once in 16 runs).
			timeout: time.Minute,
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "runaway", Title: "t", Kinds: []string{"Deployment"},
					Expression: "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))",
					Criteria:   []v1alpha1.Criterion{"A1.2"}},
			}},
			check: func(t *testing.T, ev *engine.Evaluation) {
				rs := resultsOf(ev, "runaway")
				if len(rs) != 1 || rs[0].Status != engine.StatusNotAssessed || !strings.Contains(rs[0].Message, "cost limit") {
					t.Errorf("runaway results = %+v, want NotAssessed for the cost limit", rs)
				}
			},
		},
		"a custom check that runs too long is stopped, and not run again in the evaluation": {
			timeout: 50 * time.Millisecond,
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "slow", Title: "t", Kinds: []string{"Workload"}, Expression: "lists.range(60000).filter(i, true).size() > 0",
					Criteria: []v1alpha1.Criterion{"A1.2"}},
			}},
			objects: 3,
			check: func(t *testing.T, ev *engine.Evaluation) {
				rs := resultsOf(ev, "slow")
				if len(rs) != 3 || rs[0].Status != engine.StatusNotAssessed || !strings.Contains(rs[0].Message, "ran longer than") {
					t.Fatalf("results = %+v, want NotAssessed for running too long", rs)
				}
				for _, r := range rs[1:] {
					if r.Status != engine.StatusNotAssessed || !strings.Contains(r.Message, "not run: the expression ran longer than") {
						t.Errorf("later result %+v, want the check skipped", r)
					}
				}
			},
		},
		"a custom check that fails at run time is NotAssessed, not Pass": {
			spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
				{ID: "missing-field", Title: "t", Kinds: []string{"Deployment"}, Expression: "object.spec.nothing == 1", Criteria: []v1alpha1.Criterion{"A1.2"}},
			}},
			check: func(t *testing.T, ev *engine.Evaluation) {
				rs := resultsOf(ev, "missing-field")
				if len(rs) != 1 || rs[0].Status != engine.StatusNotAssessed || !strings.Contains(rs[0].Message, "no such key") {
					t.Errorf("results = %+v, want NotAssessed naming the missing key", rs)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := objs
			for i := 1; i < tc.objects; i++ {
				objs = append(objs, deployment("shop", fmt.Sprintf("web-%d", i), nil, "setup"))
			}
			plan := engine.Compile(catalogue, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: tc.spec})
			ev := plan.Evaluate(engine.NewInventory(objs, true), nil,
				engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true, CustomCheckTimeout: tc.timeout})
			var got []string
			for _, p := range ev.Plan.Problems {
				got = append(got, p.Message)
			}
			if len(got) != len(tc.problems) {
				t.Fatalf("problems = %q, want %q", got, tc.problems)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.problems[i]) {
					t.Errorf("problem %q does not contain %q", got[i], tc.problems[i])
				}
			}
			if tc.check != nil {
				tc.check(t, ev)
			}
		})
	}
}

func TestABrokenCheckNeverStopsTheOthers(t *testing.T) {
	panicky := &engine.Check{ID: "test-panics", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
		Targets: []string{"Deployment"}, Evaluate: func(*engine.Context, *engine.Object) { panic("boom") }}
	silent := &engine.Check{ID: "test-silent", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC6.1"},
		Targets: []string{"Deployment"}, Evaluate: func(*engine.Context, *engine.Object) {}}
	plan := engine.Compile([]*engine.Check{panicky, silent, labelled}, nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{deployment("shop", "web", nil)}, true), nil, engine.Options{Now: now, KeepPassing: true})
	got := map[string]string{}
	for _, r := range ev.Results {
		got[r.Check.ID] = r.Status.String() + ": " + r.Message
	}
	want := map[string]string{
		"test-panics":   "NotAssessed: internal error in check test-panics: boom",
		"test-silent":   "NotAssessed: the check reported no result",
		"test-labelled": "Fail: no team label",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	// A check that panics on the object is undecided by the object's making, as a custom check's
	// expression the object stopped or broke is: the admission webhook refuses it under Enforce
	// and --fail-on counts it, instead of admitting and passing what crashed the check (the
	// webhook already refused a panic outside the checks). One that reported nothing is not.
	for i := range ev.Results {
		r := &ev.Results[i]
		if want := r.Check.ID == "test-panics"; r.FailedOnObject() != want {
			t.Errorf("%s: FailedOnObject %v, want %v", r.Check.ID, r.FailedOnObject(), want)
		}
	}
}

func TestManifestOnlyChecksDoNotRunInTheOperator(t *testing.T) {
	apiVersion := &engine.Check{ID: "test-api-version", Title: "t", Severity: v1alpha1.SeverityLow, Criteria: []v1alpha1.Criterion{"CC8.1"},
		Targets: []string{"Deployment"}, ManifestOnly: true,
		Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.Fail("", "written as %s", o.APIVersion) }}
	plan := engine.Compile([]*engine.Check{apiVersion}, nil)
	objs := []*engine.Object{deployment("shop", "web", nil)}
	if n := len(plan.Evaluate(engine.NewInventory(objs, false), nil, engine.Options{Now: now, KeepPassing: true}).Results); n != 1 {
		t.Errorf("scan (partial inventory): %d results, want 1", n)
	}
	if n := len(plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, KeepPassing: true}).Results); n != 0 {
		t.Errorf("operator (complete inventory): %d results, want none", n)
	}
}

// TestOnlyJudgesOneObjectAndReadsTheOthers: Options.Only (the admission webhook's evaluation of
// one workload) judges that object alone, while its cross-object checks still read the rest of
// the inventory.
func TestOnlyJudgesOneObjectAndReadsTheOthers(t *testing.T) {
	hasPeer := &engine.Check{
		ID: "test-has-peer", Title: "another Deployment beside it", Severity: v1alpha1.SeverityLow,
		Criteria: []v1alpha1.Criterion{"A1.2"}, Targets: []string{engine.KindWorkload},
		Evaluate: func(ctx *engine.Context, o *engine.Object) {
			if len(ctx.Inventory.List(o.Namespace, "Deployment")) > 1 {
				ctx.Pass("")
				return
			}
			ctx.Fail("", "alone in its namespace")
		},
	}
	judged := deployment("shop", "web", nil, "init")
	objs := []*engine.Object{deployment("shop", "api", nil, "init"), judged, deployment("shop", "worker", nil, "init")}
	plan := engine.Compile([]*engine.Check{privileged, hasPeer}, nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, KeepPassing: true, Only: judged})
	var got []string
	for _, r := range ev.Results {
		got = append(got, fmt.Sprintf("%s %s %s", r.Check.ID, r.Object.Name, r.Status))
	}
	want := []string{"test-privileged web Fail", "test-privileged web Pass", "test-has-peer web Pass"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("results with Only web:\n got %q\nwant %q", got, want)
	}
	if all := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, KeepPassing: true}); len(all.Results) != 3*len(want) {
		t.Errorf("without Only, want every Deployment judged (%d results), got %d", 3*len(want), len(all.Results))
	}
}

// TestOnlyNamespaceJudgesThatNamespaceAndReadsTheOthers: Options.OnlyNamespace (the operator's
// evaluation of one namespace, which also gathers the Gateways of every namespace its routes may
// attach to) judges the objects of that namespace, and its Namespace, alone: another
// namespace's objects are there for lookups, and a check on their kind (a custom check on
// Gateways) would otherwise report them in this namespace's report as well as in their own.
func TestOnlyNamespaceJudgesThatNamespaceAndReadsTheOthers(t *testing.T) {
	namespaces := &engine.Check{
		ID: "test-namespaces", Title: "namespaces beside it", Severity: v1alpha1.SeverityLow,
		Criteria: []v1alpha1.Criterion{"A1.2"}, Targets: []string{"Deployment", "Namespace"},
		Evaluate: func(ctx *engine.Context, o *engine.Object) {
			if len(ctx.Inventory.ListKind("Deployment")) == 2 {
				ctx.Pass("")
				return
			}
			ctx.Fail("", "the other namespace's Deployment is not in view")
		},
	}
	shop := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, "v1", "Namespace")
	infra := engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}}, "v1", "Namespace")
	objs := []*engine.Object{shop, infra, deployment("shop", "web", nil), deployment("infra", "gateway", nil)}
	plan := engine.Compile([]*engine.Check{namespaces}, nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, KeepPassing: true, SkipClusterScoped: true, OnlyNamespace: "shop"})
	var got []string
	for _, r := range ev.Results {
		got = append(got, fmt.Sprintf("%s %s %s", r.Object.Kind, r.Object.Name, r.Status))
	}
	want := []string{"Namespace shop Pass", "Deployment web Pass"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("results with OnlyNamespace shop:\n got %q\nwant %q", got, want)
	}
}

// An exception created before the admission policies came into force, and never judged with
// them in force, carries an approval nobody checked: on a fresh install, a tenant with the
// requester role could write both spec.requestedBy and approval before the operator wrote its
// policies. It is marked unverified once; any later write goes through the policies.
func TestAnExceptionOlderThanThePoliciesIsMarkedUnverifiedOnce(t *testing.T) {
	since := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	forged := func(created time.Time) *v1alpha1.ControlException {
		ex := &v1alpha1.ControlException{}
		ex.Generation = 2
		ex.CreationTimestamp = metav1.NewTime(created)
		ex.Spec.RequestedBy = "mallory"
		ex.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: "security-lead"}
		return ex
	}
	for name, tc := range map[string]struct {
		ex    func() *v1alpha1.ControlException
		since time.Time
		want  bool
	}{
		"created before the policies, never judged with them": {func() *v1alpha1.ControlException { return forged(since.Add(-time.Hour)) }, since, true},
		"created in the second the policies were created":     {func() *v1alpha1.ControlException { return forged(since) }, since, true},
		"created after the policies were in force":            {func() *v1alpha1.ControlException { return forged(since.Add(time.Second)) }, since, false},
		"the policies are not in force (nothing to compare)":  {func() *v1alpha1.ControlException { return forged(since.Add(-time.Hour)) }, time.Time{}, false},
		"its approval was recorded as trusted before": {func() *v1alpha1.ControlException {
			ex := forged(since.Add(-time.Hour))
			ex.Status.ApprovedBy, ex.Status.ApprovedGeneration = "security-lead", 2
			return ex
		}, since, false},
		"already marked (a later approval went through the policies)": {func() *v1alpha1.ControlException {
			ex := forged(since.Add(-time.Hour))
			ex.Generation, ex.Status.UnverifiedApprovalGeneration = 4, 2
			return ex
		}, since, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := engine.PredatesPolicies(tc.ex(), tc.since); got != tc.want {
				t.Errorf("PredatesPolicies = %v, want %v", got, tc.want)
			}
		})
	}
	ex := forged(since.Add(-time.Hour))
	ex.Status.UnverifiedApprovalGeneration = ex.Generation
	if who, why := engine.TrustedApprover(ex, engine.ApprovalEnforced, ""); who != "" || !strings.Contains(why, "is not trusted") {
		t.Errorf("a marked approval is trusted: %q, %q", who, why)
	}
}

// TestACriterionSaysHowManyOfItsChecksAssessedNothing: a criterion passes when the checks that
// could assess held, but an auditor reading Pass must see that a supporting check assessed
// nothing (its evidence is not in the objects), and so that part of it was not shown.
func TestACriterionSaysHowManyOfItsChecksAssessedNothing(t *testing.T) {
	// CC7.1 is supported by test-undecided alone here; add a check that passes it too.
	passes := &engine.Check{ID: "test-passes", Title: "passes", Severity: v1alpha1.SeverityLow,
		Criteria: []v1alpha1.Criterion{"CC7.1"}, Targets: []string{engine.KindWorkload},
		Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.Pass("") }}
	// A check that assessed a resource counts as assessed though it could not judge another.
	partly := &engine.Check{ID: "test-partly", Title: "partly", Severity: v1alpha1.SeverityLow,
		Criteria: []v1alpha1.Criterion{"CC8.1"}, Targets: []string{engine.KindWorkload},
		Evaluate: func(ctx *engine.Context, o *engine.Object) {
			if o.Name == "web" {
				ctx.Pass("")
			} else {
				ctx.NotAssessed("", "cannot tell")
			}
		}}
	plan := engine.Compile(append(slices.Clone(catalogue), passes, partly), nil)
	objs := []*engine.Object{deployment("shop", "web", map[string]string{"team": "shop"}), deployment("shop", "worker", nil), deployment("pay", "api", nil)}
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace})
	for _, s := range []*engine.Summary{ev.Summary("shop"), plan.Merge(ev.Summary("shop"), ev.Summary("pay"))} {
		got := criterion(s, "CC7.1")
		if got.Status != v1alpha1.CriterionPass || got.Checks != 1 || got.UnassessedChecks != 1 {
			t.Errorf("namespace %q: CC7.1 %+v, want Pass on 1 check with 1 check that assessed nothing", s.Namespace, got)
		}
		// The journal names them (the evidence pack's criteria.csv shows them).
		if got := s.UnassessedChecks(plan, "CC7.1"); !slices.Equal(got, []string{"test-undecided"}) {
			t.Errorf("namespace %q: CC7.1's unassessed checks %q, want [test-undecided]", s.Namespace, got)
		}
		if got := criterion(s, "CC8.1"); got.UnassessedChecks != 0 || s.UnassessedChecks(plan, "CC8.1") != nil {
			t.Errorf("namespace %q: CC8.1 %+v, %q: no check of it is undecided", s.Namespace, got, s.UnassessedChecks(plan, "CC8.1"))
		}
		// But test-partly left worker (and, merged, api) undecided: the Pass rests on web alone.
		want := int32(1)
		if s.Namespace == "" {
			want = 2
		}
		if got := criterion(s, "CC8.1"); got.NotAssessed != want || !slices.Equal(s.UndecidedChecks(plan, "CC8.1"), []string{"test-partly"}) {
			t.Errorf("namespace %q: CC8.1 %+v, undecided checks %q: want %d results left NotAssessed by test-partly", s.Namespace, got, s.UndecidedChecks(plan, "CC8.1"), want)
		}
		if got := s.UndecidedChecks(plan, "CC7.1"); got != nil {
			t.Errorf("namespace %q: CC7.1's undecided checks %q: test-undecided assessed nothing (unassessed, not undecided)", s.Namespace, got)
		}
	}
	// A criterion none of whose checks has anything to judge counts none as unassessed.
	if got := criterion(ev.Summary("empty"), "CC7.1"); got.Status != v1alpha1.CriterionNotAssessed || got.UnassessedChecks != 0 || ev.Summary("empty").UnassessedChecks(plan, "CC7.1") != nil {
		t.Errorf("a namespace with nothing in it: CC7.1 %+v", got)
	}
}

// TestACustomCheckThatDoesNotCompileIsNotAssessed: a custom check whose expression does not
// compile judges nothing, like one whose expression fails at run time, and must say so where
// the criteria are read, not vanish from them. It used to be left out of the plan: a criterion
// it shared with checks that passed read Pass, as fully assessed (unassessedChecks 0), and one
// it alone supported was not in the report at all, though the profile meant it to be assessed;
// only the profile's Ready condition said anything.
func TestACustomCheckThatDoesNotCompileIsNotAssessed(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{
			// Beside test-labelled, which web passes.
			{ID: "custom-classified", Title: "classified", Kinds: []string{engine.KindWorkload}, Criteria: []v1alpha1.Criterion{"CC8.1"},
				Expression: "object.metadata.labels.exists(k, k == 'data-classification'"},
			// The only check of PI1.1.
			{ID: "custom-integrity", Title: "integrity", Kinds: []string{"Deployment"}, Criteria: []v1alpha1.Criterion{"PI1.1"},
				Expression: "object.spec.replicas >"},
		},
	}}
	ev := evaluate(t, profile, []*engine.Object{deployment("shop", "web", map[string]string{"team": "shop"})})
	if n := len(ev.Plan.Problems); n != 2 {
		t.Errorf("%d problems, want the 2 custom checks that do not compile: %v", n, ev.Plan.Problems)
	}
	for _, id := range []string{"custom-classified", "custom-integrity"} {
		rs := resultsOf(ev, id)
		if len(rs) != 1 || rs[0].Status != engine.StatusNotAssessed || !strings.Contains(rs[0].Message, "does not compile") {
			t.Errorf("%s: results %+v, want NotAssessed saying its expression does not compile", id, rs)
		}
	}
	s := ev.Summary("shop")
	if got := criterion(s, "CC8.1"); got.Status != v1alpha1.CriterionPass || got.Checks != 1 || got.UnassessedChecks != 1 {
		t.Errorf("CC8.1 %+v, want Pass on test-labelled with 1 unassessed check", got)
	}
	if got := s.UnassessedChecks(ev.Plan, "CC8.1"); !slices.Equal(got, []string{"custom-classified"}) {
		t.Errorf("CC8.1's unassessed checks %q, want [custom-classified]", got)
	}
	if got := criterion(s, "PI1.1"); got.ID != "PI1.1" || got.Status != v1alpha1.CriterionNotAssessed || got.UnassessedChecks != 1 {
		t.Errorf("PI1.1 %+v, want it in scope, NotAssessed, with 1 unassessed check", got)
	}
	// A profile that limits its criteria runs only the broken checks of those criteria, as it
	// runs only the working ones.
	profile.Spec.Criteria = []v1alpha1.Criterion{"CC8.1"}
	if rs := resultsOf(evaluate(t, profile, []*engine.Object{deployment("shop", "web", nil)}), "custom-integrity"); len(rs) != 0 {
		t.Errorf("custom-integrity, of PI1.1, ran under a profile of CC8.1 alone: %+v", rs)
	}
}

// TestACustomCheckOnPodsJudgesEveryWorkloadsPodTemplate: a Pod a controller made is judged
// through its controller's template, so a custom check written for Pods (`kinds: [Pod]`, as a
// Kyverno or Gatekeeper policy for Pods is written) saw only the Pods no controller made: a
// profile requiring images from ghcr.io/acme/ passed a Deployment and a CronJob whose every Pod
// runs another registry's image, and the check was NotApplicable across a cluster of
// Deployments. It now judges each workload's pod template as the Pod it makes (apiVersion v1,
// kind Pod, the template's metadata and spec), the result on the workload, once; a workload kind
// the check names itself is judged as itself.
func TestACustomCheckOnPodsJudgesEveryWorkloadsPodTemplate(t *testing.T) {
	registry := v1alpha1.CustomCheck{ID: "custom-registry", Title: "images from ghcr.io/acme", Kinds: []string{"Pod"},
		Criteria: []v1alpha1.Criterion{"CC8.1"}, Severity: v1alpha1.SeverityHigh,
		Expression: "object.apiVersion == 'v1' && object.kind == 'Pod' && object.metadata.namespace == 'shop' && " +
			"object.metadata.labels.app != '' && object.spec.containers.all(c, c.image.startsWith('ghcr.io/acme/'))"}
	cron := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "shop"}}
	cron.Spec.JobTemplate.Spec.Template = webTemplate()
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "shop", Labels: map[string]string{"app": "debug"}}}
	bare.Spec.Containers = []corev1.Container{{Name: "shell", Image: "ghcr.io/acme/shell:1"}}
	objs := func() []*engine.Object {
		return []*engine.Object{
			engine.NewObject(webPod(), "v1", "Pod"), engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"),
			engine.NewObject(webDeployment(), "apps/v1", "Deployment"), engine.NewObject(cron, "batch/v1", "CronJob"),
			engine.NewObject(bare, "v1", "Pod"),
		}
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{registry}}}
	ev := evaluate(t, profile, objs())
	got := map[string]engine.Status{}
	for _, r := range resultsOf(ev, "custom-registry") {
		ref := r.Object.Kind + "/" + r.Object.Name
		if _, twice := got[ref]; twice {
			t.Errorf("%s judged twice", ref)
		}
		got[ref] = r.Status
	}
	want := map[string]engine.Status{
		"Deployment/web": engine.StatusFail, // registry.example.com/web:1.0 in its template
		"CronJob/report": engine.StatusFail,
		"Pod/debug":      engine.StatusPass,
		// The Deployment's Pod is judged itself too (TestACustomCheckOfPodsJudgesTheirControllersPods);
		// the ReplicaSet between them is judged through the Deployment.
		"Pod/web-abc-x1": engine.StatusFail,
	}
	if !maps.Equal(got, want) {
		t.Errorf("custom-registry judged %v, want %v", got, want)
	}
	if pop := ev.Summary("shop").Population(ev.Plan.Checks[slices.IndexFunc(ev.Plan.Checks, func(c *engine.PlannedCheck) bool { return c.ID == "custom-registry" })]); !slices.Contains(pop, "Deployment/web") {
		t.Errorf("the check's population %v leaves out the Deployment it judged", pop)
	}

	// Naming Deployment too: a Deployment is judged as a Deployment, once.
	registry.Kinds = []string{"Pod", "Deployment"}
	registry.Expression = "object.kind == 'Deployment' || object.kind == 'CronJob'"
	profile.Spec.CustomChecks = []v1alpha1.CustomCheck{registry}
	got = map[string]engine.Status{}
	for _, r := range resultsOf(evaluate(t, profile, objs()), "custom-registry") {
		got[r.Object.Kind+"/"+r.Object.Name] = r.Status
	}
	// The CronJob is judged as its Pods (object.kind Pod, so this expression fails it); the
	// Deployment as itself; the bare Pod as itself. The Deployment's Pod fails as every Pod
	// does, and the Deployment, which passes, does not answer for it: its ReplicaSet, judged as
	// the Pods it makes, does (and the Pod is not listed again).
	want = map[string]engine.Status{"Deployment/web": engine.StatusPass, "CronJob/report": engine.StatusFail, "Pod/debug": engine.StatusFail,
		"ReplicaSet/web-abc": engine.StatusFail}
	if !maps.Equal(got, want) {
		t.Errorf("kinds [Pod, Deployment]: judged %v, want %v", got, want)
	}
}

// TestACustomCheckOfAWithheldFieldIsNotAssessed: the operator's cache drops every object's
// managedFields and the status of Pods, ReplicaSets and Jobs (controllers.Withheld), and a
// custom check judged the objects without them: one that no Deployment is managed by
// kubectl-edit passed them all, one that no container restarted passed every Pod. A check whose
// result depends on a withheld field is NotAssessed, naming it; one that reads other fields is
// judged as before, in an evaluation and in a stream alike.
func TestACustomCheckOfAWithheldFieldIsNotAssessed(t *testing.T) {
	withheld := []engine.WithheldField{
		{Path: []string{"metadata", "managedFields"}, Why: "the cache drops it"},
		{Kind: "Pod", Path: []string{"status"}, Why: "the cache drops it"},
	}
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "shop", Labels: map[string]string{"app": "debug"}}}
	bare.Spec.Containers = []corev1.Container{{Name: "shell", Image: "ghcr.io/acme/shell:1"}}
	for name, tc := range map[string]struct {
		kind, expression string
		want             engine.Status
		reads            string
	}{
		"managed fields read through an optional": {"Deployment",
			"!object.metadata.?managedFields.orValue([]).exists(f, f.manager == 'kubectl-edit')", engine.StatusNotAssessed, "object.metadata.managedFields"},
		"managed fields tested with has": {"Deployment",
			"!has(object.metadata.managedFields) || object.metadata.managedFields.all(f, f.manager != 'kubectl-edit')", engine.StatusNotAssessed, "object.metadata.managedFields"},
		"a Pod's status": {"Pod",
			"object.?status.?containerStatuses.orValue([]).all(s, s.restartCount < 5)", engine.StatusNotAssessed, "object.status"},
		"the whole metadata, which holds them": {"Deployment",
			"object.metadata.exists(k, k == 'managedFields') == false", engine.StatusNotAssessed, "object.metadata"},
		"other metadata": {"Deployment",
			"object.metadata.name == 'web' && object.metadata.namespace == 'shop'", engine.StatusPass, ""},
		"a Deployment's status, which the cache keeps": {"Deployment",
			"!has(object.status.unavailableReplicas)", engine.StatusPass, ""},
		"a Pod's spec": {"Pod",
			"object.spec.containers.all(c, c.image.startsWith('ghcr.io/acme/'))", engine.StatusPass, ""},
		"decided without the withheld field": {"Pod",
			"object.metadata.name == 'debug' || object.status.phase == 'Running'", engine.StatusPass, ""},
	} {
		t.Run(name, func(t *testing.T) {
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
				CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-withheld", Title: "withheld", Kinds: []string{tc.kind},
					Criteria: []v1alpha1.Criterion{"PI1.1"}, Expression: tc.expression}}}}
			plan := engine.Compile(catalogue, profile)
			if len(plan.Problems) > 0 {
				t.Fatal(plan.Problems)
			}
			// One object of the check's kind (a Deployment's template would be judged as a Pod).
			objs := func() []*engine.Object {
				if tc.kind == "Pod" {
					return []*engine.Object{engine.NewObject(bare.DeepCopy(), "v1", "Pod")}
				}
				return []*engine.Object{engine.NewObject(webDeployment(), "apps/v1", "Deployment")}
			}
			opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true, Withheld: withheld}
			s := plan.NewStream(nil, opts, nil)
			for _, o := range objs() {
				s.Add(o)
			}
			for how, ev := range map[string]*engine.Evaluation{
				"evaluation": plan.Evaluate(engine.NewInventory(objs(), true), nil, opts),
				"stream":     s.Finish(),
			} {
				rs := resultsOf(ev, "custom-withheld")
				if len(rs) != 1 || rs[0].Status != tc.want {
					t.Fatalf("%s: results %+v, want one %s", how, rs, tc.want)
				}
				if tc.want == engine.StatusNotAssessed && !strings.Contains(rs[0].Message, "reads "+tc.reads+", which the cache drops it") {
					t.Errorf("%s: message %q, want it to name %s and why it is missing", how, rs[0].Message, tc.reads)
				}
				// Without withheld fields (scan, the webhook) the object is judged as it is.
				if tc.want == engine.StatusNotAssessed {
					opts := opts
					opts.Withheld = nil
					if rs := resultsOf(plan.Evaluate(engine.NewInventory(objs(), true), nil, opts), "custom-withheld"); len(rs) != 1 || rs[0].Status != engine.StatusPass {
						t.Errorf("without withheld fields: results %+v, want one Pass", rs)
					}
				}
			}
		})
	}
}

// TestAPodIsJudgedWhateverItsPhase: a Pod that has finished (Succeeded, Failed: a completed Job's,
// one the kubelet evicted) or is being deleted ran what its spec says, within the period an
// audit covers, and runs it still until its grace period ends: it is judged like a running one.
// No check reads the phase, so every check agrees; the report shows what ran until the Pod is
// gone.
func TestAPodIsJudgedWhateverItsPhase(t *testing.T) {
	yes := true
	deleted := metav1.NewTime(now.Add(-time.Minute))
	cases := map[string]func(*corev1.Pod){
		"succeeded": func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded },
		"failed":    func(p *corev1.Pod) { p.Status.Phase, p.Status.Reason = corev1.PodFailed, "Evicted" },
		"being deleted": func(p *corev1.Pod) {
			p.Status.Phase, p.DeletionTimestamp, p.Finalizers = corev1.PodRunning, &deleted, []string{"example.com/keep"}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}}
			pod.Spec.Containers = []corev1.Container{{Name: "app", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}
			mutate(pod)
			ev := evaluate(t, nil, []*engine.Object{engine.NewObject(pod, "v1", "Pod")})
			rs := resultsOf(ev, "test-privileged")
			if len(rs) != 1 || rs[0].Status != engine.StatusFail {
				t.Errorf("results %+v, want the privileged container to fail", rs)
			}
		})
	}
}

// TestACustomCheckOnPodsSeesOnlyTheMetadataAPodGetsFromItsTemplate: a workload's pod template
// was judged as a Pod with the template's metadata as written, and a template's metadata may
// hold anything: a name, owner references, a UID, which Kubernetes' controllers do not give the
// Pods they make (GetPodFromTemplate, k8s.io/kubernetes v1.37.2 pkg/controller/controller_utils.go,
// copies only its labels, annotations and finalizers; the Pod's name is generated from the
// workload's and its controller sets the owner reference). A Deployment whose template named
// itself `shop-web` passed a check that Pods are named with the team's prefix, and one whose
// template carried a made-up owner reference passed a check that Pods are owned, in scan, at
// admission and in its reports, while every Pod it makes has neither. The template is now judged
// with what the Pod gets: its labels, annotations and finalizers, the workload's namespace and
// name; owner references, which the controller sets, are undecided (NotAssessed), not taken from
// the template.
func TestACustomCheckOnPodsSeesOnlyTheMetadataAPodGetsFromItsTemplate(t *testing.T) {
	d := webDeployment()
	d.Spec.Template.Name = "shop-web"
	d.Spec.Template.UID = "made-up"
	d.Spec.Template.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "made-up", "made-up")}
	d.Spec.Template.Annotations = map[string]string{"team": "shop"}
	d.Spec.Template.Finalizers = []string{"example.com/keep"}
	check := func(id, expression string) v1alpha1.CustomCheck {
		return v1alpha1.CustomCheck{ID: id, Title: id, Kinds: []string{"Pod"}, Criteria: []v1alpha1.Criterion{"CC8.1"},
			Severity: v1alpha1.SeverityHigh, Expression: expression}
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
		check("custom-prefix", "object.metadata.name.startsWith('shop-')"),
		check("custom-owned", "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, o.controller == true || o.kind == 'ReplicaSet')"),
		check("custom-uid", "!has(object.metadata.uid)"),
		check("custom-copied", "object.metadata.name == 'web' && object.metadata.namespace == 'shop' && object.metadata.labels.app == 'web' && "+
			"object.metadata.annotations.team == 'shop' && object.metadata.finalizers == ['example.com/keep']"),
	}}}
	ev := evaluate(t, profile, []*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")})
	want := map[string]engine.Status{
		"custom-prefix": engine.StatusFail, "custom-owned": engine.StatusNotAssessed, "custom-uid": engine.StatusPass, "custom-copied": engine.StatusPass,
	}
	for id, status := range want {
		rs := resultsOf(ev, id)
		if len(rs) != 1 {
			t.Fatalf("%s: %d results, want 1", id, len(rs))
		}
		if rs[0].Status != status {
			t.Errorf("%s: %s %q, want %s", id, rs[0].Status, rs[0].Message, status)
		}
		if status == engine.StatusNotAssessed && (rs[0].FailedOnObject() || !strings.Contains(rs[0].Message, "object.metadata.ownerReferences")) {
			t.Errorf("%s: %q, want it undecided, naming object.metadata.ownerReferences", id, rs[0].Message)
		}
	}
}

package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/selection"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// TestReportSizeDoesNotGrowWithTheNamespace evaluates a namespace of 2,000 workloads that all
// fail many checks: the report lists at most maxFindings findings and stays far below etcd's
// 1.5 MiB object limit, at the default limit and at the largest one the API allows.
func TestReportSizeDoesNotGrowWithTheNamespace(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2000, FailingEvery: 1}))
	for _, tc := range []struct {
		maxFindings int32
		limit       int
	}{{50, 64 << 10}, {500, 256 << 10}} {
		profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{MaxFindings: tc.maxFindings}}
		ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
		st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, CatalogVersion: checks.Version})
		rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team-000"}, Status: st}
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Findings) != int(tc.maxFindings) || !st.FindingsTruncated || int(st.TotalFindings) <= len(st.Findings) {
			t.Errorf("maxFindings %d: %d findings listed of %d, truncated %v", tc.maxFindings, len(st.Findings), st.TotalFindings, st.FindingsTruncated)
		}
		if len(data) > tc.limit {
			t.Errorf("maxFindings %d: the report is %d KiB, over %d KiB", tc.maxFindings, len(data)>>10, tc.limit>>10)
		}
		t.Logf("maxFindings %d: %d of %d findings listed, report %.1f KiB", tc.maxFindings, len(st.Findings), st.TotalFindings, float64(len(data))/1024)
	}
}

// TestFirstSeenIsKept shows that a finding keeps the time it was first seen while it persists,
// and that a new finding is first seen now.
func TestFirstSeenIsKept(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 2}))
	plan := engine.Compile(checks.Catalogue(), nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	first := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	later := now.Add(time.Hour)
	second := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: later, Previous: &first})
	if len(second.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range second.Findings {
		if !f.FirstSeen.Time.Equal(now) {
			t.Errorf("%s on %s: first seen %s, want %s (kept from the previous status)", f.Check, f.Resource.Name, f.FirstSeen, now)
		}
	}
	if !SameContent(&first, &second) || !second.LastEvaluated.Time.Equal(now) {
		t.Errorf("an unchanged evaluation must keep the content and lastEvaluated (%s)", second.LastEvaluated)
	}
	third := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: later, Previous: &v1alpha1.ComplianceReportStatus{}})
	if !third.Findings[0].FirstSeen.Time.Equal(later.Truncate(time.Second)) {
		t.Errorf("a new finding is first seen now, got %s", third.Findings[0].FirstSeen)
	}
}

// TestLastEvaluatedNeverReachesBackPastTheObservation: an unchanged evaluation keeps the
// previous lastEvaluated only when an operator observing now made it; one from before the
// operator began observing (a report written before a restart or a failover) would say nothing
// changed through a time no operator observed, and is replaced by now.
func TestLastEvaluatedNeverReachesBackPastTheObservation(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 2}))
	plan := engine.Compile(checks.Catalogue(), nil)
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	before := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	restarted := now.Add(72*time.Hour + 300*time.Millisecond)
	for name, tc := range map[string]struct {
		since, evaluated, want time.Time
	}{
		"written before the operator began observing: now":         {since: restarted, evaluated: restarted.Add(time.Second), want: restarted.Add(time.Second)},
		"written in the second the operator began observing: kept": {since: now.Add(300 * time.Millisecond), evaluated: now.Add(time.Hour), want: now},
		"written while the operator observes: kept":                {since: now.Add(-time.Hour), evaluated: now.Add(time.Hour), want: now},
		"no observation start known: kept":                         {evaluated: now.Add(time.Hour), want: now},
	} {
		t.Run(name, func(t *testing.T) {
			st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: tc.evaluated, Previous: &before, ObservingSince: tc.since})
			if !SameContent(&before, &st) {
				t.Fatal("the content changed")
			}
			if !st.LastEvaluated.Time.Equal(tc.want.Truncate(time.Second)) {
				t.Errorf("lastEvaluated %s, want %s", st.LastEvaluated.Time.Format(time.RFC3339), tc.want.Truncate(time.Second).Format(time.RFC3339))
			}
		})
	}
}

// TestReportStaysWithinItsBudget lists 500 findings whose messages are each at the message
// bound: the findings stop before the status would pass StatusBudget, the most severe are
// kept, and the report says it is truncated and how many there are.
func TestReportStaysWithinItsBudget(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2000, FailingEvery: 1}))
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		MaxFindings: 500,
		CustomChecks: []v1alpha1.CustomCheck{{
			ID: "custom-long-message", Title: "Long message", Kinds: []string{"Deployment"}, Expression: "false",
			Message: strings.Repeat("a message at the bound ", 60), Criteria: []v1alpha1.Criterion{"CC8.1"},
			Severity: v1alpha1.SeverityCritical,
		}},
	}}
	plan := engine.Compile(checks.Catalogue(), profile)
	if len(plan.Problems) > 0 {
		t.Fatal(plan.Problems)
	}
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, CatalogVersion: checks.Version})
	data, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d findings listed, status %d KiB", len(st.Findings), st.TotalFindings, len(data)>>10)
	if len(data) > StatusBudget-conditionReserve {
		t.Errorf("the status is %d bytes, over the budget of %d", len(data), StatusBudget)
	}
	if len(st.Findings) >= 500 || len(st.Findings) < 100 || !st.FindingsTruncated || int(st.TotalFindings) <= len(st.Findings) {
		t.Errorf("%d findings listed of %d, truncated %v: want the budget to stop the list before maxFindings", len(st.Findings), st.TotalFindings, st.FindingsTruncated)
	}
	for _, f := range st.Findings {
		if f.Severity != v1alpha1.SeverityCritical {
			t.Fatalf("finding %s (%s) listed: the most severe findings come first", f.Check, f.Severity)
		}
		if len(f.Message) > engine.MaxMessageLength {
			t.Fatalf("finding %s: message of %d bytes", f.Check, len(f.Message))
		}
	}
}

// TestExceptionsAreListedByFindingsCovered lists the exceptions covering the most findings
// first, then by name, at most MaxExceptions, with the total.
func TestExceptionsAreListedByFindingsCovered(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 4, FailingEvery: 1}))
	expires := metav1.NewTime(now.Add(24 * time.Hour))
	var exceptions []*v1alpha1.ControlException
	for i := range MaxExceptions + 10 {
		exceptions = append(exceptions, &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("a-unused-%03d", i), Namespace: "team-000"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"nothing"}},
				Reason: "covers nothing at all", Owner: "o", Expires: expires},
		})
	}
	exceptions = append(exceptions, &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "z-real", Namespace: "team-000"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "covers every privileged container", Owner: "o", Expires: expires},
	})
	// Exceptions that need no approval and may waive Critical findings: this is about the list.
	no := false
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{RequireApproval: &no, MaxSeverity: v1alpha1.SeverityCritical}}}
	ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), exceptions, engine.Options{Now: now})
	st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	if len(st.Exceptions) != MaxExceptions || !st.ExceptionsTruncated || st.TotalExceptions != MaxExceptions+11 {
		t.Fatalf("%d exceptions listed of %d, truncated %v", len(st.Exceptions), st.TotalExceptions, st.ExceptionsTruncated)
	}
	if first := st.Exceptions[0]; first.Name != "team-000/z-real" || first.Findings == 0 {
		t.Errorf("first exception %s covering %d: want team-000/z-real, the only one that covers findings", first.Name, first.Findings)
	}
	if second := st.Exceptions[1]; second.Name != "team-000/a-unused-000" {
		t.Errorf("second exception %s: exceptions covering as many findings come by name", second.Name)
	}
}

// TestFirstSeenOutlivesTheReport: the store remembers what a report listed, so a report whose
// previous status is gone (deleted) keeps its first-seen times; forgetting a namespace forgets
// them.
func TestFirstSeenOutlivesTheReport(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 2}))
	ev := engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	store := NewMemoryFirstSeen()
	first := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, FirstSeen: Lookup(store, "p", "team-000", now, nil)})
	store.Record("p", "team-000", first.Findings, Persisting(ev.Summary("team-000").Findings), now)

	later := now.Add(time.Hour)
	recreated := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: later,
		Previous: &v1alpha1.ComplianceReportStatus{}, FirstSeen: Lookup(store, "p", "team-000", now, nil)})
	for _, f := range recreated.Findings {
		if !f.FirstSeen.Time.Equal(now) {
			t.Errorf("%s on %s: first seen %s after the report was deleted, want %s", f.Check, f.Resource.Name, f.FirstSeen, now)
		}
	}
	store.Forget("p", "team-000")
	if _, ok := store.Lookup("p", "team-000", FindingKey(&first.Findings[0])); ok {
		t.Error("a forgotten namespace still has first-seen times")
	}
}

// TestFirstSeenKeepsWhatStillFailsOnly: a finding the report no longer lists keeps its time
// while it still fails (crowded out by more severe ones), and is forgotten once it does not, so
// that one that comes back later is first seen then.
func TestFirstSeenKeepsWhatStillFailsOnly(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 2}))
	ev := engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
	results := ev.Summary("team-000").Findings
	if len(results) < 2 {
		t.Fatalf("%d findings; the test needs two", len(results))
	}
	all := Findings(results, len(results), func(*v1alpha1.Finding) (time.Time, bool) { return time.Time{}, false }, now)
	store := NewMemoryFirstSeen()
	store.Record("p", "team-000", all, Persisting(results), now)
	// Only the first is listed now; the others still fail.
	store.Record("p", "team-000", all[:1], Persisting(results), now)
	if got, ok := store.Lookup("p", "team-000", FindingKey(&all[1])); !ok || !got.Equal(now) {
		t.Errorf("a finding crowded out of the list: remembered %v, %v; want %v", got, ok, now)
	}
	// Only the first still fails.
	store.Record("p", "team-000", all[:1], Persisting(results[:1]), now)
	if got, ok := store.Lookup("p", "team-000", FindingKey(&all[1])); ok {
		t.Errorf("a finding that no longer fails is still remembered, first seen %v", got)
	}
}

// TestProfileResultIsUnknownWhenTheEvaluationCannotBeMade: a profile whose objects could not be
// read, or whose namespace selector does not parse (so no namespace is assessed and every report
// is gone), or one of whose namespaces' latest evaluation failed or is overdue, has no current
// verdict. Its result must not keep saying Compliant from the cluster-scoped objects alone or
// from an earlier evaluation, while its reports say Unknown.
// A problem that leaves the evaluation whole (an unknown check ID) keeps the verdict.
func TestProfileResultIsUnknownWhenTheEvaluationCannotBeMade(t *testing.T) {
	holds := &engine.Check{ID: "test-holds", Title: "holds", Severity: v1alpha1.SeverityHigh,
		Criteria: []v1alpha1.Criterion{"CC6.1"}, Targets: []string{"ClusterRole"},
		Evaluate: func(ctx *engine.Context, _ *engine.Object) { ctx.Pass("") }}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn}}},
		Checks:            []v1alpha1.CheckOverride{{ID: "test-holdz"}},
	}}
	plan := engine.Compile([]*engine.Check{holds}, profile)
	role := engine.NewObject(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "viewer"}}, "rbac.authorization.k8s.io/v1", "ClusterRole")
	cluster := plan.Evaluate(engine.NewInventory([]*engine.Object{role}, true), nil, engine.Options{Now: now}).Summary("")
	if cluster.State != v1alpha1.Compliant {
		t.Fatalf("the cluster-scoped objects are %s; the test needs them Compliant", cluster.State)
	}
	_, selectorProblem := selection.NamespaceSelector(profile)
	if selectorProblem == nil {
		t.Fatal("the selector parses; the test needs one that does not")
	}
	cases := map[string]struct {
		gatherErr error
		problems  []engine.Problem
		want      v1alpha1.ComplianceState
	}{
		"objects could not be read":                 {gatherErr: errors.New("listing Deployment: timeout"), want: v1alpha1.Unknown},
		"the namespace selector does not parse":     {problems: []engine.Problem{*selectorProblem}, want: v1alpha1.Unknown},
		"an unknown check ID leaves the rest whole": {want: v1alpha1.Compliant},
		// The roll-up holds the last summary of a namespace whose latest evaluation failed or is
		// overdue: it is no verdict on the namespace now (controllers' notCurrentProblems).
		"a namespace's latest evaluation failed": {problems: []engine.Problem{{Reason: v1alpha1.ReasonEvaluationFailed, Message: "team-a: listing Deployment: timeout"}},
			want: v1alpha1.Unknown},
		"a namespace's latest evaluation is overdue": {problems: []engine.Problem{{Reason: v1alpha1.ReasonEvaluationOverdue, Message: "team-a: no evaluation since ..."}},
			want: v1alpha1.Unknown},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := ProfileStatus(ProfileInput{Plan: plan, Total: plan.Merge(cluster), Cluster: cluster, Generation: 1, Now: now,
				Problems: tc.problems, GatherError: tc.gatherErr})
			if st.Result != tc.want {
				t.Errorf("result %s, want %s (Ready: %+v)", st.Result, tc.want, st.Conditions)
			}
		})
	}
}

// TestExceptionsSayWhyTheyWaive: each exception a report lists carries its reason beside its
// owner, approver and expiry, so that an auditor reading the report sees why findings are
// waived, and the reason is that of the object whose approval the report shows.
func TestExceptionsSayWhyTheyWaive(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2, FailingEvery: 1}))
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "team-000", Generation: 2},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "the legacy agent needs host access until Q3",
			Owner: "team-a", RequestedBy: "alice", Expires: metav1.NewTime(now.Add(24 * time.Hour))},
		Approval: &v1alpha1.ExceptionApproval{ApprovedBy: "bob"},
	}
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	ev := engine.Compile(checks.Catalogue(), profile).Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex},
		engine.Options{Now: now, Approval: engine.ApprovalEnforced})
	st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now})
	if len(st.Exceptions) != 1 {
		t.Fatalf("%d exceptions listed, want 1", len(st.Exceptions))
	}
	u := st.Exceptions[0]
	if u.State != v1alpha1.ExceptionActive || u.Findings == 0 || u.ApprovedBy != "bob" || u.Owner != "team-a" ||
		u.Expires == nil || !u.Expires.Equal(&ex.Spec.Expires) {
		t.Fatalf("exception listed as %+v, want Active, covering findings, approved by bob, owned by team-a, with its expiry", u)
	}
	if u.Reason != ex.Spec.Reason {
		t.Errorf("exception listed with reason %q, want its spec.reason %q", u.Reason, ex.Spec.Reason)
	}
}

// TestAReportOfWhatTheOperatorCouldNotReadIsNotReady: an evaluation that could not read every
// kind (the operator may not list NetworkPolicies) is no complete evaluation, and its report
// says so in its Ready condition, with the kinds and why, beside the criteria whose checks it
// counts as unassessed; its content changes when the operator can read them again.
func TestAReportOfWhatTheOperatorCouldNotReadIsNotReady(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 2}))
	plan := engine.Compile(checks.Catalogue(), nil)
	inv := engine.NewInventory(objs, true)
	inv.Unseen = map[string]engine.Unseen{"NetworkPolicy": {Namespaced: true, Reason: "the operator may not list networkpolicies.networking.k8s.io"}}
	blind := NamespaceStatus(NamespaceInput{Evaluation: plan.Evaluate(inv, nil, engine.Options{Now: now}), Namespace: "team-000", Now: now})
	ready := meta.FindStatusCondition(blind.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonKindsUnreadable ||
		!strings.Contains(ready.Message, "NetworkPolicy") || !strings.Contains(ready.Message, "may not list networkpolicies.networking.k8s.io") {
		t.Errorf("Ready %+v, want False with reason %s naming NetworkPolicy and why", ready, v1alpha1.ReasonKindsUnreadable)
	}
	seeing := NamespaceStatus(NamespaceInput{Evaluation: plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now}), Namespace: "team-000",
		Now: now.Add(time.Hour), Previous: &blind})
	if ready := meta.FindStatusCondition(seeing.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != v1alpha1.ReasonEvaluated {
		t.Errorf("Ready %+v once every kind is read, want True, Evaluated", ready)
	}
	if SameContent(&blind, &seeing) {
		t.Error("the report read with every kind in view has the same content as the one without NetworkPolicies: it would not be written")
	}
}

// sameNameGateways are tenant shop's Gateway API Gateway edge and Istio Gateway edge, the Istio
// one publishing a TCP port (net-service-exposure) when istioTCP is set, the other always.
func sameNameGateways(t *testing.T, istioTCP bool) []*engine.Object {
	t.Helper()
	istio := `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: cert}
`
	if istioTCP {
		istio += `  - port: {number: 5432, name: postgres, protocol: TCP}
    hosts: ["*"]
`
	}
	objs, errs := manifest.Decode("gateways.yaml", []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: example
  listeners:
  - {name: postgres, protocol: TCP, port: 5432}
---
`+istio))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return objs
}

// TestFirstSeenTellsGroupsApart: the Gateway API Gateway edge has failed since now; Istio's
// Gateway edge starts failing an hour later. Its finding is first seen then, not when the other
// group's Gateway of its name began to fail.
func TestFirstSeenTellsGroupsApart(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	first := NamespaceStatus(NamespaceInput{Namespace: "shop", Now: now,
		Evaluation: plan.Evaluate(engine.NewInventory(sameNameGateways(t, false), true), nil, engine.Options{Now: now})})
	later := now.Add(time.Hour)
	store := NewMemoryFirstSeen()
	store.Record("p", "shop", first.Findings, nil, now)
	for name, lookup := range map[string]FirstSeenLookup{"from the previous status": nil, "from the store": Lookup(store, "p", "shop", later, nil)} {
		ev := plan.Evaluate(engine.NewInventory(sameNameGateways(t, true), true), nil, engine.Options{Now: later})
		second := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "shop", Now: later, Previous: &first, FirstSeen: lookup})
		n := 0
		for _, f := range second.Findings {
			if f.Check != "net-service-exposure" || f.Resource.Name != "edge" {
				continue
			}
			n++
			want := now
			if strings.HasPrefix(f.Resource.APIVersion, "networking.istio.io/") {
				want = later
			}
			if !f.FirstSeen.Time.Equal(want) {
				t.Errorf("%s: %s %s first seen %s, want %s", name, f.Resource.APIVersion, f.Resource.Kind, f.FirstSeen, want)
			}
		}
		if n != 2 {
			t.Errorf("%s: %d net-service-exposure findings on edge, want 2: %+v", name, n, second.Findings)
		}
		// Both are among the evaluation's findings, so both keys persist.
		persists := Persisting(ev.Summary("shop").Findings)
		for _, f := range second.Findings {
			if f.Resource.Name == "edge" && !persists(FindingKey(&f)) {
				t.Errorf("%s: %s %s does not persist", name, f.Resource.APIVersion, f.Check)
			}
		}
	}
}

// An evaluation writes the whole status: it keeps the journal heads the operator published
// there, which a restarted operator checks its journal against.
func TestAProfileStatusKeepsThePublishedJournalHeads(t *testing.T) {
	plan := engine.Compile(nil, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}})
	heads := []v1alpha1.JournalHead{{Cluster: "prod", Sequence: 42, Digest: strings.Repeat("ab", 32), Time: metav1.NewTime(now)}}
	st := ProfileStatus(ProfileInput{Plan: plan, Generation: 1, Now: now, Previous: &v1alpha1.ComplianceProfileStatus{JournalHeads: heads}})
	if len(st.JournalHeads) != 1 || st.JournalHeads[0] != heads[0] {
		t.Errorf("journalHeads %+v, want the previous status's %+v", st.JournalHeads, heads)
	}
}

// TestAProfileThatSelectsNoNamespaceIsNotCompliant: a profile whose selection matches no
// namespace judged the cluster-scoped objects alone; their passing made it read Compliant with
// 0 namespaces. With the NoNamespacesSelected problem its result is NotAssessed and Ready says
// why; a failing cluster-scoped object still makes it NonCompliant.
func TestAProfileThatSelectsNoNamespaceIsNotCompliant(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), nil)
	none := engine.Problem{Reason: v1alpha1.ReasonNoNamespacesSelected, Field: "spec.namespaceSelector", Message: "spec.namespaceSelector: the profile selects no namespace"}
	for name, tc := range map[string]struct {
		cluster, want v1alpha1.ComplianceState
		problems      []engine.Problem
	}{
		"passing cluster-scoped objects and no namespace are no verdict": {cluster: v1alpha1.Compliant, problems: []engine.Problem{none}, want: v1alpha1.NotAssessed},
		"a failing cluster-scoped object still fails":                    {cluster: v1alpha1.NonCompliant, problems: []engine.Problem{none}, want: v1alpha1.NonCompliant},
		"with namespaces selected, passing is Compliant":                 {cluster: v1alpha1.Compliant, want: v1alpha1.Compliant},
	} {
		t.Run(name, func(t *testing.T) {
			st := ProfileStatus(ProfileInput{Plan: plan, Total: &engine.Summary{State: tc.cluster}, Problems: tc.problems, Now: now, Generation: 1})
			if st.Result != tc.want {
				t.Errorf("result %s, want %s", st.Result, tc.want)
			}
			ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
			if wantReady := len(tc.problems) == 0; ready == nil || (ready.Status == metav1.ConditionTrue) != wantReady ||
				(!wantReady && (ready.Reason != v1alpha1.ReasonNoNamespacesSelected || !strings.Contains(ready.Message, "spec.namespaceSelector"))) {
				t.Errorf("Ready %+v", ready)
			}
		})
	}
}

// A namespace admin may create exceptions nobody approved, each with a reason of 2,048
// characters that JSON writes in 6 bytes each ('<' is \u003c): listed in the report, 50 of
// them took 700 KiB, past the whole status budget, and the report listed none of the
// namespace's findings (a privileged workload's included), only their count. The exceptions
// now take at most ExceptionsBudget, the most findings covered first, and the findings are
// listed as before.
func TestExceptionsCannotCrowdTheFindingsOut(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 1, Workloads: 20, FailingEvery: 1}))
	expires := metav1.NewTime(now.Add(24 * time.Hour))
	var exceptions []*v1alpha1.ControlException
	for i := range MaxExceptions {
		exceptions = append(exceptions, &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("padding-%03d", i), Namespace: "team-000"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"nothing"}},
				Reason: strings.Repeat("<", 2048), Owner: strings.Repeat(">", 256), Expires: expires},
		})
	}
	ev := engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory(objs, true), exceptions, engine.Options{Now: now})
	st := NamespaceStatus(NamespaceInput{Evaluation: ev, Namespace: "team-000", Now: now, CatalogVersion: checks.Version})
	data, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := json.Marshal(st.Exceptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d findings, %d of %d exceptions (%d KiB) listed, status %d KiB", len(st.Findings), st.TotalFindings,
		len(st.Exceptions), st.TotalExceptions, len(listed)>>10, len(data)>>10)
	if len(st.Findings) != engine.DefaultMaxFindings {
		t.Errorf("%d findings listed of %d, want %d", len(st.Findings), st.TotalFindings, engine.DefaultMaxFindings)
	}
	if len(listed) > ExceptionsBudget || len(st.Exceptions) == 0 || !st.ExceptionsTruncated || st.TotalExceptions != MaxExceptions {
		t.Errorf("%d exceptions listed in %d bytes (budget %d) of %d, truncated %v", len(st.Exceptions), len(listed), ExceptionsBudget,
			st.TotalExceptions, st.ExceptionsTruncated)
	}
	if len(data) > StatusBudget-conditionReserve {
		t.Errorf("the status is %d bytes, over the budget of %d", len(data), StatusBudget)
	}
}

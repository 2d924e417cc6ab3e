package engine_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestACustomCheckTheObjectBrokeFailsItsCriterion: a custom check whose expression the object
// broke (a field it reads left out: "no such key") is NotAssessed, and the admission webhook and
// scan's --fail-on count it as a failure, since the object's author decides it. The roll-up
// counted it as undecided: a tenant whose Deployment failed `object.spec.template.metadata.
// labels['data-classification'] == 'public'` left the label out and the namespace's report went
// from NonCompliant to Compliant, score 100, C1.1 Pass, no finding, for the object the webhook
// refuses. Its criterion now fails on it (Failed 1), the score and state count it, and it is
// listed among the findings (NotAssessed, with the reason); where an exception would waive it were
// it a failure, it counts as excepted, as the webhook admits it and scan passes it.
func TestACustomCheckTheObjectBrokeFailsItsCriterion(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		Criteria: []v1alpha1.Criterion{"C1.1", "CC8.1"},
		CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only", Kinds: []string{"Deployment"},
			Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}},
	}}
	labelled := map[string]string{"team": "shop", "data-classification": "public"}
	cases := map[string]struct {
		labels     map[string]string
		exceptions []*v1alpha1.ControlException
		criterion  v1alpha1.CriterionState
		failed     int32
		excepted   int32
		state      v1alpha1.ComplianceState
		failing    int
		findings   int
	}{
		"a Deployment with the label passes": {
			labels: labelled, criterion: v1alpha1.CriterionPass, state: v1alpha1.Compliant,
		},
		"a Deployment with another value fails": {
			labels:    map[string]string{"team": "shop", "data-classification": "secret"},
			criterion: v1alpha1.CriterionFail, failed: 1, state: v1alpha1.NonCompliant, failing: 1, findings: 1,
		},
		"a Deployment that leaves the label out breaks the expression, and fails all the same": {
			labels:    map[string]string{"team": "shop"},
			criterion: v1alpha1.CriterionFail, failed: 1, state: v1alpha1.NonCompliant, failing: 1, findings: 1,
		},
		"an exception that would waive its failure waives it": {
			labels: map[string]string{"team": "shop"},
			exceptions: []*v1alpha1.ControlException{exception("shop", "legacy", func(s *v1alpha1.ControlExceptionSpec) {
				s.Checks = []string{"custom-public"}
			})},
			criterion: v1alpha1.CriterionExcepted, excepted: 1, state: v1alpha1.Compliant, findings: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := []*engine.Object{deployment("shop", "web", tc.labels), deployment("shop", "api", labelled)}
			ev := evaluate(t, profile, objs, tc.exceptions...)
			s := ev.Summary("shop")
			got := criterion(s, "C1.1")
			if got.Status != tc.criterion || got.Failed != tc.failed || got.Excepted != tc.excepted {
				t.Errorf("C1.1 %+v, want %s with %d failed and %d excepted", got, tc.criterion, tc.failed, tc.excepted)
			}
			if s.State != tc.state || s.Failing != tc.failing || len(s.Findings) != tc.findings {
				t.Errorf("state %s, %d failing, %d findings; want %s, %d, %d", s.State, s.Failing, len(s.Findings), tc.state, tc.failing, tc.findings)
			}
			if tc.failing > 0 && (s.Score == nil || *s.Score == 100) {
				t.Errorf("score %v, want below 100: custom-public does not hold", s.Score)
			}
			for _, r := range s.Findings {
				if r.Check.ID != "custom-public" || r.Object.Name != "web" {
					t.Errorf("finding %s on %s, want custom-public on web", r.Check.ID, r.Object.Name)
				}
				if r.Status == engine.StatusNotAssessed && !strings.HasPrefix(r.Message, engine.ExpressionFailed) {
					t.Errorf("finding %q, want the expression's failure", r.Message)
				}
			}
		})
	}
}

// TestACheckSkippedAfterAnotherObjectStoppedItIsNoPass: a custom check whose expression runs out
// of time on one object is not run again in the same evaluation (one bad expression costs at
// most its timeout), and every later object's result was NotAssessed, "not run", which neither
// the roll-up nor scan's gate counted. An exception that waived the check on the slow object
// (here Deployment slow, approved as a legacy system) so waived it on every object after it too:
// Deployment bad, which fails the check when it runs, made C1.1 Excepted, the namespace
// Compliant and the gate pass. A skipped result is now undecided as a stopped one is: failing,
// unless an exception waives the check on that object itself.
func TestACheckSkippedAfterAnotherObjectStoppedItIsNoPass(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		Criteria: []v1alpha1.Criterion{"C1.1"},
		CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-slow", Title: "not bad", Kinds: []string{"Deployment"},
			Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.name == 'slow' ? lists.range(60000).filter(i, true).size() < 0 : object.metadata.name != 'bad'"}},
	}}
	waiver := exception("shop", "legacy", func(s *v1alpha1.ControlExceptionSpec) {
		s.Checks = []string{"custom-slow"}
		s.Match.Names = []string{"slow"}
	})
	plan := engine.Compile(catalogue, profile)
	objs := []*engine.Object{deployment("shop", "slow", nil), deployment("shop", "bad", nil)}
	ev := plan.Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{waiver}, engine.Options{Now: now,
		AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true, Approval: engine.ApprovalEnforced, CustomCheckTimeout: 50 * time.Millisecond})
	byName := map[string]engine.Result{}
	for _, r := range resultsOf(ev, "custom-slow") {
		byName[r.Object.Name] = r
	}
	if r := byName["slow"]; !r.FailedOnObject() || r.Exception == nil {
		t.Fatalf("slow: %+v, want stopped and waived", r)
	}
	bad := byName["bad"]
	if bad.Status != engine.StatusNotAssessed || !strings.Contains(bad.Message, "ran longer than") {
		t.Fatalf("bad: %+v, want the check not run", bad)
	}
	if !bad.FailedOnObject() || bad.Exception != nil {
		t.Errorf("bad: FailedOnObject %v, exception %v; want undecided, and not waived by slow's exception", bad.FailedOnObject(), bad.Exception)
	}
	s := ev.Summary("shop")
	if got := criterion(s, "C1.1"); got.Status != v1alpha1.CriterionFail || got.Failed != 1 || got.Excepted != 1 {
		t.Errorf("C1.1 %+v, want Fail with bad failing and slow excepted", got)
	}
	if s.State != v1alpha1.NonCompliant {
		t.Errorf("state %s, want NonCompliant", s.State)
	}
}

// TestAnExceptionThatWaivesAnUndecidedResultCoversIt: a custom check the object broke is
// undecided, and an exception that would waive its failure waives it: the summary counts it
// excepted and the finding names the exception. But the exception's outcome counted only the
// failures it waived, so it covered 0 findings: the report's exceptions said "findings: 0"
// (unused) beside the excepted finding that names it, and the ControlException's
// matchedFindings said 0, while its waiver was all that kept the namespace Compliant. It covers
// the finding, in its namespace.
func TestAnExceptionThatWaivesAnUndecidedResultCoversIt(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		Criteria: []v1alpha1.Criterion{"C1.1"},
		CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-public", Title: "public data only", Kinds: []string{"Deployment"},
			Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "object.metadata.labels['data-classification'] == 'public'"}},
	}}
	waiver := exception("shop", "legacy", func(s *v1alpha1.ControlExceptionSpec) { s.Checks = []string{"custom-public"} })
	ev := evaluate(t, profile, []*engine.Object{deployment("shop", "web", map[string]string{"team": "shop"})}, waiver)
	s := ev.Summary("shop")
	if s.Excepted != 1 || len(s.Findings) != 1 || !s.Findings[0].FailedOnObject() || s.Findings[0].Exception == nil {
		t.Fatalf("excepted %d, findings %+v; want web's undecided result waived by shop/legacy", s.Excepted, s.Findings)
	}
	if len(ev.Exceptions) != 1 {
		t.Fatalf("%d exception outcomes, want 1", len(ev.Exceptions))
	}
	if o := ev.Exceptions[0]; o.Matched != 1 || o.MatchedByNamespace["shop"] != 1 {
		t.Errorf("shop/legacy covers %d findings (%v by namespace), want 1 in shop: the undecided result it waives", o.Matched, o.MatchedByNamespace)
	}
}

package engine_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestACriterionFailsClosedOnWhatWasNotRead: a result NotAssessed because the object holds more
// than the operator reads of it (here a custom check reading annotations the operator's cache
// trimmed: engine.WithheldField.Unread, a size the object's author chose) was counted as
// undecided, so a tenant who padded a failing object past the bound left its criterion Pass,
// the score 100 and the namespace Compliant. Such a result is unread: listed among the
// findings (NotAssessed, naming what was not read), counted in CriterionStatus.Unread (not
// Failed), the criterion Fail and the state NonCompliant, its check not held in the score;
// an exception that would waive its failure makes it Excepted. A field the operator never
// keeps (data it lacks, Unread false) is NotAssessed as before, and the criterion rests on the
// other resources: Pass.
func TestACriterionFailsClosedOnWhatWasNotRead(t *testing.T) {
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		Criteria: []v1alpha1.Criterion{"C1.1"},
		CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-owner", Title: "owner annotated", Kinds: []string{"Deployment"},
			Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityHigh,
			Expression: "has(object.metadata.annotations) && 'owner' in object.metadata.annotations"}},
	}}
	waiver := exception("shop", "legacy", func(s *v1alpha1.ControlExceptionSpec) { s.Checks = []string{"custom-owner"} })
	cases := map[string]struct {
		unread     bool
		exceptions []*v1alpha1.ControlException
		criterion  v1alpha1.CriterionState
		want       v1alpha1.CriterionStatus // Unread, Failed, Excepted, NotAssessed
		state      v1alpha1.ComplianceState
		findings   int
		held       bool
	}{
		"annotations trimmed past the cache's bound fail the criterion closed": {
			unread: true, criterion: v1alpha1.CriterionFail, want: v1alpha1.CriterionStatus{Unread: 1},
			state: v1alpha1.NonCompliant, findings: 1,
		},
		"an exception that would waive its failure waives it": {
			unread: true, exceptions: []*v1alpha1.ControlException{waiver}, criterion: v1alpha1.CriterionExcepted,
			want: v1alpha1.CriterionStatus{Excepted: 1}, state: v1alpha1.Compliant, findings: 1, held: true,
		},
		"a field the operator never keeps is undecided, and the criterion rests on the others": {
			criterion: v1alpha1.CriterionPass, want: v1alpha1.CriterionStatus{NotAssessed: 1},
			state: v1alpha1.Compliant, held: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			padded := deployment("shop", "web", map[string]string{"team": "shop"})
			padded.Withheld = []engine.WithheldField{{Kind: "Deployment", Path: []string{"metadata", "annotations"},
				Why: "the operator does not keep an object's annotations over 16 KiB", Unread: tc.unread}}
			clean := deployment("shop", "api", nil)
			clean.Obj.(metav1.Object).SetAnnotations(map[string]string{"owner": "shop-team"})
			ev := evaluate(t, profile, []*engine.Object{padded, clean}, tc.exceptions...)
			s := ev.Summary("shop")
			got := criterion(s, "C1.1")
			if got.Status != tc.criterion || got.Unread != tc.want.Unread || got.Failed != tc.want.Failed ||
				got.Excepted != tc.want.Excepted || got.NotAssessed != tc.want.NotAssessed || got.Checks != 1 {
				t.Errorf("C1.1 %+v, want %s with %+v", got, tc.criterion, tc.want)
			}
			if s.State != tc.state || len(s.Findings) != tc.findings || s.Failing != 0 || s.Unread != int(tc.want.Unread) {
				t.Errorf("state %s, %d findings, %d failing, %d unread; want %s, %d, 0, %d", s.State, len(s.Findings), s.Failing, s.Unread, tc.state, tc.findings, tc.want.Unread)
			}
			if held := s.Score != nil && *s.Score == 100; held != tc.held {
				t.Errorf("score %v, want custom-owner held: %v", s.Score, tc.held)
			}
			for _, r := range s.Findings {
				if r.Object.Name != "web" || r.Status != engine.StatusNotAssessed || !r.Unread || !strings.Contains(r.Message, "metadata.annotations") {
					t.Errorf("finding %+v on %s, want web's unread result naming metadata.annotations", r, r.Object.Name)
				}
			}
			// The journal's attestation counts an unread resource among those not tested.
			for _, c := range ev.Plan.Checks {
				if _, fail, _, notAssessed := s.CheckCounts(c); c.ID == "custom-owner" && (notAssessed != int(tc.want.NotAssessed+tc.want.Unread) || fail != 0) {
					t.Errorf("custom-owner's counts: %d NotAssessed, %d failed; want %d, 0", notAssessed, fail, tc.want.NotAssessed+tc.want.Unread)
				}
			}
			// The cluster-wide roll-up fails closed as the namespace's does.
			if m := ev.Plan.Merge(s); criterion(m, "C1.1").Status != tc.criterion || m.State != tc.state {
				t.Errorf("merged: C1.1 %+v, state %s; want %s, %s", criterion(m, "C1.1"), m.State, tc.criterion, tc.state)
			}
		})
	}
}

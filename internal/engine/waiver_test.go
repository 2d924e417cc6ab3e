package engine_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Evaluation.Waiver names the exception that would waive a result were it a failure (the
// admission webhook refuses a custom check stopped on the object as a failure, and waives it as
// one): exactly the exceptions that waive failures, under the same rules, and no other.
func TestWaiverIsTheExceptionThatWouldWaiveTheFailure(t *testing.T) {
	objs := []*engine.Object{deployment("shop", "web", nil)}
	for name, tc := range map[string]struct {
		ns          string
		mutate      func(*v1alpha1.ControlException)
		maxSeverity v1alpha1.Severity
		want        bool
	}{
		"an approved exception of the namespace naming the check and object": {ns: "shop", want: true},
		"an exception of another namespace":                                  {ns: "billing"},
		"a check more severe than the profile lets exceptions waive":         {ns: "shop", maxSeverity: v1alpha1.SeverityMedium},
		"an exception awaiting approval":                                     {ns: "shop", mutate: func(ex *v1alpha1.ControlException) { ex.Approval = nil }},
		"an expired exception": {ns: "shop", mutate: func(ex *v1alpha1.ControlException) {
			ex.Spec.Expires = metav1.NewTime(now)
		}},
		"an exception for another profile": {ns: "shop", mutate: func(ex *v1alpha1.ControlException) {
			ex.Spec.Profiles = []string{"other"}
		}},
		"an exception naming another object": {ns: "shop", mutate: func(ex *v1alpha1.ControlException) {
			ex.Spec.Match.Names = []string{"api"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			ex := exception(tc.ns, "scanner-pending", func(s *v1alpha1.ControlExceptionSpec) {
				s.Checks = []string{"test-undecided"}
				s.Match.Names = []string{"web"}
			})
			if tc.mutate != nil {
				tc.mutate(ex)
			}
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: tc.maxSeverity}}}
			ev := engine.Compile(catalogue, profile).Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex},
				engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
			rs := resultsOf(ev, "test-undecided")
			if len(rs) != 1 || rs[0].Status != engine.StatusNotAssessed {
				t.Fatalf("results %+v, want web's one NotAssessed result", rs)
			}
			got := ev.Waiver(&rs[0])
			if (got != nil) != tc.want {
				t.Fatalf("waiver %v, want one: %v (exception %s: %s)", got, tc.want, ev.Exceptions[0].State, ev.Exceptions[0].Message)
			}
			if got != nil && got.Key != tc.ns+"/scanner-pending" {
				t.Errorf("waiver %s", got.Key)
			}
		})
	}
}

package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAStaleReportsCriteriaAreNotShownAsCurrent: a stale report keeps the criteria of its last
// evaluation (result Unknown, Stale=True). `kubectl soc2 status` marked its result Unknown* with
// why under the table, but its CRITERIA cell ("1 pass") and `status -n`'s criteria table
// (STATUS Pass) showed them as a current report's, where the metrics and the dashboard's
// overview say Unknown: they read Unknown, with the state of the last evaluation beside it.
func TestAStaleReportsCriteriaAreNotShownAsCurrent(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evaluated := metav1.NewTime(now.Add(-3 * time.Hour))
	report := func(stale bool) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "soc2-baseline"},
			Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.LastEvaluated = &evaluated
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.1", Title: "Logical access", Status: v1alpha1.CriterionPass, Checks: 4}}
		r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate}}
		if stale {
			r.Status.Result = v1alpha1.Unknown
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluationOverdue,
				Message: "The findings shown are from the evaluation of 2026-03-01T09:00:00Z, whose result was Compliant"}}
		}
		return r
	}
	show := func(r v1alpha1.ComplianceReport) string {
		var out bytes.Buffer
		e := &Env{Stdout: &out, Now: func() time.Time { return now }}
		if err := statusTable(&out, e, []v1alpha1.ComplianceReport{r}, 0); err != nil {
			t.Fatal(err)
		}
		if err := criteriaTable(&out, &r, 0); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	line := func(out, prefix string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
	stale := show(report(true))
	if l := line(stale, "shop"); !strings.HasSuffix(strings.TrimSpace(l), "unknown (stale); at the last evaluation: 1 pass") {
		t.Errorf("status's row of the stale report does not say its criteria are unknown:\n%s", stale)
	}
	if l := line(stale, "CC6.1"); !strings.Contains(l, "Unknown (Pass at the last evaluation)") {
		t.Errorf("the criteria table shows the stale report's CC6.1 as a current Pass:\n%s", stale)
	}
	current := show(report(false))
	if l := line(current, "CC6.1"); !strings.Contains(l, " Pass ") || strings.Contains(current, "Unknown") || strings.Contains(current, "unknown") {
		t.Errorf("a current report's criteria are not shown as they are:\n%s", current)
	}
	if l := line(current, "shop"); !strings.HasSuffix(strings.TrimSpace(l), "1 pass") {
		t.Errorf("a current report's CRITERIA cell is not \"1 pass\":\n%s", current)
	}
}

package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAStaleReportsCriteriaAreNotShownAsCurrent: a stale report keeps the criteria of its last
// evaluation (the operator marks it Stale and its result Unknown, and keeps the rest). The
// overview counts them Unknown and so do the metrics (metrics.SetNamespaceStale), but the
// namespace page showed each with its old green Pass badge, as a current report's: a reader
// took criteria nobody had evaluated for hours as holding now. They read Unknown, with the
// status of the last evaluation beside it.
func TestAStaleReportsCriteriaAreNotShownAsCurrent(t *testing.T) {
	evaluated := metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	report := func(ns string, stale bool) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.LastEvaluated = &evaluated
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.1", Title: "Logical access", Status: v1alpha1.CriterionPass, Checks: 4}}
		r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate}}
		if stale {
			r.Status.Result = v1alpha1.Unknown
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluationOverdue,
				Message: "The findings shown are from the evaluation of 2026-03-01T09:00:00Z, whose result was Compliant. The namespace has not been evaluated for 20m0s"}}
		}
		return r
	}
	s, err := New(Options{Source: memSource{reports: []v1alpha1.ComplianceReport{report("overdue", true), report("current", false)}}, Access: everyone{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	criterionRow := func(ns string) string {
		req := httptest.NewRequest(http.MethodGet, "/namespaces/"+ns, nil)
		req.Header.Set("Authorization", "Bearer x")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /namespaces/%s: %d", ns, rec.Code)
		}
		_, row, _ := strings.Cut(rec.Body.String(), `<th scope="row">CC6.1</th>`)
		row, _, _ = strings.Cut(row, "</tr>")
		return row
	}
	const currentPass = `<span class="badge pass">Pass</span>`
	if row := criterionRow("overdue"); strings.Contains(row, currentPass) || !strings.Contains(row, `<span class="badge unknown">Unknown</span>`) ||
		!strings.Contains(row, "Pass at the last evaluation") {
		t.Errorf("the stale report's CC6.1 is not shown Unknown, with its last evaluation's Pass beside it: %s", row)
	}
	if row := criterionRow("current"); !strings.Contains(row, currentPass) || strings.Contains(row, "Unknown") {
		t.Errorf("a current report's CC6.1 is not its Pass: %s", row)
	}
}

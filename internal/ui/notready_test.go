package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAReportThatIsNotReadySaysSoOnEveryPage: a report evaluated without some kinds (the
// operator may not list NetworkPolicies) says Ready=False, KindsUnreadable: what those kinds
// decide is NotAssessed and its Compliant rests on the rest. The overview and the namespace
// page showed its green Compliant badge as they show a complete one's, with nothing saying the
// evaluation was incomplete; they show a stale report's reason, and must show this one's.
func TestAReportThatIsNotReadySaysSoOnEveryPage(t *testing.T) {
	report := func(ns string, complete bool) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.6", Status: v1alpha1.CriterionPass, Checks: 2, UnassessedChecks: 1}}
		ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated}
		if !complete {
			ready.Status, ready.Reason = metav1.ConditionFalse, v1alpha1.ReasonKindsUnreadable
			ready.Message = "Evaluated 3 resources against profile p, not all of it: the operator may not list NetworkPolicy"
		}
		r.Status.Conditions = []metav1.Condition{ready, {Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate}}
		return r
	}
	s, err := New(Options{Source: memSource{reports: []v1alpha1.ComplianceReport{report("partial", false), report("complete", true)}}, Access: everyone{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer x")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	row := func(body, ns string) string {
		_, r, _ := strings.Cut(body, `<tr data-namespace="`+ns+`">`)
		r, _, _ = strings.Cut(r, "</tr>")
		return r
	}
	const badge = `Not Ready: KindsUnreadable`
	overview := get("/")
	if r := row(overview, "partial"); !strings.Contains(r, badge) || !strings.Contains(r, "may not list NetworkPolicy") {
		t.Errorf("the overview's row of the report that is not Ready does not say so: %s", r)
	}
	// The compliant card counts both; another says one of them is not Ready.
	if !strings.Contains(overview, `<b class="notready-count">1</b>`) {
		t.Errorf("the overview's cards do not say that 1 of the reports is not Ready")
	}
	if r := row(overview, "complete"); strings.Contains(r, "Not Ready") {
		t.Errorf("the overview's row of a Ready report says it is not: %s", r)
	}
	if page := get("/namespaces/partial"); !strings.Contains(page, badge) || !strings.Contains(page, "may not list NetworkPolicy") {
		t.Errorf("the namespace page of the report that is not Ready does not say so:\n%s", page)
	}
	if page := get("/namespaces/complete"); strings.Contains(page, "Not Ready") {
		t.Errorf("the namespace page of a Ready report says it is not")
	}
}

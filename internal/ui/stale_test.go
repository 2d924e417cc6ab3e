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

// TestTheCheckPagesNameTheNamespacesWhoseReportIsStale: the checks and check pages list and
// count the findings of every report, a stale one's too, and said nothing of it, so "No resource
// fails this check" held for namespaces nobody had evaluated for hours. They name the
// namespaces whose report is stale, and only those.
func TestTheCheckPagesNameTheNamespacesWhoseReportIsStale(t *testing.T) {
	evaluated := metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	report := func(ns string, stale bool, findings ...v1alpha1.Finding) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
		r.Status.Result = v1alpha1.NonCompliant
		r.Status.LastEvaluated = &evaluated
		r.Status.Findings = findings
		r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate}}
		if stale {
			r.Status.Result = v1alpha1.Unknown
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluationFailed,
				Message: "The findings shown are from the evaluation of 2026-03-01T09:00:00Z. The evaluation failed: listing Pods: forbidden"}}
		}
		return r
	}
	finding := func(ns, check string) v1alpha1.Finding {
		return v1alpha1.Finding{Check: check, Severity: v1alpha1.SeverityHigh, Result: v1alpha1.ResultFail,
			Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"}, Message: "runs as root"}
	}
	s, err := New(Options{Source: memSource{reports: []v1alpha1.ComplianceReport{
		report("overdue", true, finding("overdue", "wl-run-as-root")),
		report("current", false, finding("current", "wl-run-as-root")),
	}}, Access: everyone{}, Logger: logr.Discard()})
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
	staleNote := func(body string) string {
		_, note, _ := strings.Cut(body, `id="stale">`)
		note, _, _ = strings.Cut(note, "</p>")
		return note
	}
	for _, path := range []string{"/checks", "/checks/wl-run-as-root", "/checks/wl-privileged"} {
		body := get(path)
		if note := staleNote(body); !strings.Contains(note, "overdue") || strings.Contains(note, "current") {
			t.Errorf("GET %s does not name the namespace whose report is stale, and only it: %q", path, note)
		}
	}
	_, none, _ := strings.Cut(get("/checks/wl-privileged"), `id="no-findings">`)
	if none, _, _ = strings.Cut(none, "</p>"); !strings.Contains(none, "overdue are stale") {
		t.Errorf("the check page says no resource fails the check without saying a report is stale: %q", none)
	}
}

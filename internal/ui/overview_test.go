package ui

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTheOverviewCountsAStaleReportsCriteriaAsUnknown: a stale report's result is Unknown (the
// operator keeps its old criteria and findings, saying which evaluation they are from), and the
// overview's criteria across namespaces must not count its old Pass as a current one, as the
// metrics do not (metrics.SetNamespaceStale).
func TestTheOverviewCountsAStaleReportsCriteriaAsUnknown(t *testing.T) {
	report := func(ns string, stale bool, st v1alpha1.CriterionState) *v1alpha1.ComplianceReport {
		r := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: st}}
		if stale {
			r.Status.Result = v1alpha1.Unknown
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluationOverdue}}
		}
		return r
	}
	p := overview([]*v1alpha1.ComplianceReport{
		report("current", false, v1alpha1.CriterionPass),
		report("overdue", true, v1alpha1.CriterionPass),
	})
	if len(p) != 1 || len(p[0].Criteria) != 1 {
		t.Fatalf("overview: %+v", p)
	}
	if got := *p[0].Criteria[0]; got.Pass != 1 || got.Unknown != 1 {
		t.Errorf("CC6.1 across a current and a stale Pass: %+v, want Pass 1 and Unknown 1", got)
	}
}

// TestTheOverviewTellsAPassThatRestsOnSomeChecksOnly: a criterion that passed while some of its
// checks could assess nothing (unassessedChecks) was not shown to hold in full; the namespace
// page says so per criterion, and the overview's count across namespaces must too, not add it
// to the other passes unmarked.
func TestTheOverviewTellsAPassThatRestsOnSomeChecksOnly(t *testing.T) {
	report := func(ns string, unassessed int32) *v1alpha1.ComplianceReport {
		r := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC7.1", Status: v1alpha1.CriterionPass, Checks: 3, UnassessedChecks: unassessed}}
		return r
	}
	p := overview([]*v1alpha1.ComplianceReport{report("complete", 0), report("partial", 2)})
	if got := *p[0].Criteria[0]; got.Pass != 2 || got.PassPartly != 1 {
		t.Errorf("CC7.1 across a complete Pass and one resting on some checks only: %+v, want Pass 2, PassPartly 1", got)
	}
}

// TestTheOverviewsFindingsAreTheFailingOnes: the overview's Findings column beside Critical and
// Excepted is the report's failing findings, the number `kubectl get compliancereports` shows
// under Findings (summary.failing), not failing and excepted together: a namespace whose one
// finding is excepted has no failing finding.
func TestTheOverviewsFindingsAreTheFailingOnes(t *testing.T) {
	r := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "payments"}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
	r.Status.Result = v1alpha1.Compliant
	r.Status.TotalFindings = 1
	r.Status.Summary = v1alpha1.ReportSummary{Failing: 0, Excepted: 1}
	p := overview([]*v1alpha1.ComplianceReport{r})
	if got := p[0].Reports[0]; got.Findings != 0 || got.Excepted != 1 {
		t.Errorf("payments with one excepted finding and none failing: Findings %d, Excepted %d; want 0 and 1", got.Findings, got.Excepted)
	}
}

// TestTheOverviewCountsClusterFindingsApartFromExcepted: the overview's card for findings on
// cluster-scoped objects counted failing and excepted ones together (clusterFindingsTotal), so a
// profile whose every such finding an approved exception waives read "2 findings". It shows the
// failing ones, and the excepted ones apart, as kubectl's Cluster-Findings and Cluster-Excepted.
func TestTheOverviewCountsClusterFindingsApartFromExcepted(t *testing.T) {
	views := []*profileView{{Name: "baseline"}, {Name: "other"}}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "baseline"}}
	profile.Status.ClusterFindingsTotal, profile.Status.ClusterFindingsFailing, profile.Status.ClusterFindingsExcepted = 3, 1, 2
	withClusterFindings(views, []*v1alpha1.ComplianceProfile{profile})
	tmpl, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/overview.html")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page{Title: "Overview", Body: overviewView{Profiles: views}}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	for _, want := range []string{`id="cluster-findings-baseline">1<`, `id="cluster-excepted-baseline">2<`} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	if strings.Contains(body, "cluster-findings-other") {
		t.Errorf("the overview counts cluster-scoped findings for a profile the user may not get")
	}
}

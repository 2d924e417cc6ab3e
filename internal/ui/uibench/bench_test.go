// Package uibench measures how long the dashboard takes to render its pages on a large
// cluster: 100 namespaces whose reports list 100 findings each (10,000 findings), 3 exceptions
// each. The objects come from memory and access decisions from a map (in the operator they
// come from the informer cache and the authorizer's cache of SubjectAccessReviews), so this is
// the dashboard's own cost per page view.
//
//	go test -run '^$' -bench . -benchmem ./internal/ui/uibench/
package uibench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/ui"
)

const (
	namespaces   = 100
	findingsEach = 100
)

// world is the benchmark's reports and exceptions.
type world struct {
	reports    []v1alpha1.ComplianceReport
	exceptions map[string][]v1alpha1.ControlException
}

func (w *world) Reports(context.Context) ([]v1alpha1.ComplianceReport, error)   { return w.reports, nil }
func (w *world) Profiles(context.Context) ([]v1alpha1.ComplianceProfile, error) { return nil, nil }
func (w *world) Exceptions(_ context.Context, ns string) ([]v1alpha1.ControlException, error) {
	return w.exceptions[ns], nil
}

// newWorld builds the reports; with oneCheck every finding is of the same check.
func newWorld(oneCheck bool) *world {
	cat := checks.Catalogue()
	criteria := []v1alpha1.Criterion{"CC6.1", "CC6.3", "CC6.6", "CC6.7", "CC6.8", "CC7.1", "CC7.2", "CC8.1", "A1.1", "A1.2", "C1.1"}
	now := metav1.NewTime(time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC))
	w := &world{exceptions: map[string][]v1alpha1.ControlException{}}
	for i := range namespaces {
		ns := fmt.Sprintf("team-%03d", i)
		score := int32(40 + i%60)
		r := v1alpha1.ComplianceReport{
			ObjectMeta: metav1.ObjectMeta{Name: "soc2-baseline", Namespace: ns},
			Spec:       v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"},
			Status: v1alpha1.ComplianceReportStatus{
				Result: v1alpha1.NonCompliant, Score: &score, TotalFindings: findingsEach * 3, FindingsTruncated: true,
				Summary:       v1alpha1.ReportSummary{FailedCriteria: 4, Failing: findingsEach * 3, Critical: 5, High: 20},
				LastEvaluated: &now,
			},
		}
		if i%3 == 0 {
			r.Status.Result = v1alpha1.Compliant
		}
		for j, c := range criteria {
			st := v1alpha1.CriterionPass
			if (i+j)%4 == 0 {
				st = v1alpha1.CriterionFail
			}
			r.Status.Criteria = append(r.Status.Criteria, v1alpha1.CriterionStatus{ID: c, Title: "Criterion " + string(c), Status: st, Checks: 10, Failed: int32(j)})
		}
		for j := range findingsEach {
			c := cat[(i+j)%len(cat)]
			if oneCheck {
				c = cat[0]
			}
			f := v1alpha1.Finding{
				Check: c.ID, Criteria: c.Criteria, Severity: c.Severity, Result: v1alpha1.ResultFail,
				Resource:  v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: fmt.Sprintf("app-%03d", j)},
				Container: "main", Message: "container runs privileged (securityContext.privileged: true)", FirstSeen: &now,
			}
			if j%10 == 0 {
				f.Result, f.Exception = v1alpha1.ResultExcepted, ns+"/waiver-0"
			}
			r.Status.Findings = append(r.Status.Findings, f)
		}
		w.reports = append(w.reports, r)
		for k := range 3 {
			w.exceptions[ns] = append(w.exceptions[ns], v1alpha1.ControlException{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("waiver-%d", k), Namespace: ns},
				Spec: v1alpha1.ControlExceptionSpec{Checks: []string{cat[k].ID}, Reason: "The vendor image needs it until the rewrite ships.",
					Owner: "team@example.com", RequestedBy: "dev@example.com", Expires: metav1.NewTime(now.AddDate(0, 1, 0))},
				Status: v1alpha1.ControlExceptionStatus{State: v1alpha1.ExceptionActive, ApprovedBy: "security@example.com", MatchedFindings: 10},
			})
		}
	}
	return w
}

// access lets the token "all" read every namespace and "half" the even-numbered ones.
type access struct{}

func (access) Authenticate(r *http.Request) (user.Info, bool, error) {
	switch r.Header.Get("Authorization") {
	case "Bearer all":
		return &user.DefaultInfo{Name: "auditor"}, true, nil
	case "Bearer half":
		return &user.DefaultInfo{Name: "team-lead"}, true, nil
	}
	return nil, false, nil
}

func (access) Authorize(_ context.Context, u user.Info, ns string) (bool, error) {
	if u.GetName() == "auditor" {
		return true, nil
	}
	var i int
	if _, err := fmt.Sscanf(ns, "team-%d", &i); err != nil {
		return false, nil
	}
	return i%2 == 0, nil
}

func (access) AuthorizeProfiles(_ context.Context, u user.Info) (bool, error) {
	return u.GetName() == "auditor", nil
}

func bench(b *testing.B, w *world, token, path string) {
	s, err := ui.New(ui.Options{Source: w, Access: access{}, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

func BenchmarkOverview(b *testing.B)            { bench(b, newWorld(false), "all", "/") }
func BenchmarkOverviewHalfVisible(b *testing.B) { bench(b, newWorld(false), "half", "/") }
func BenchmarkNamespace(b *testing.B)           { bench(b, newWorld(false), "all", "/namespaces/team-042") }
func BenchmarkChecks(b *testing.B)              { bench(b, newWorld(false), "all", "/checks") }
func BenchmarkCheck(b *testing.B) {
	bench(b, newWorld(false), "all", "/checks/"+checks.Catalogue()[0].ID)
}

// BenchmarkCheckAllFindings is the worst case: all 10,000 findings are of one check, so its
// page lists 10,000 rows.
func BenchmarkCheckAllFindings(b *testing.B) {
	bench(b, newWorld(true), "all", "/checks/"+checks.Catalogue()[0].ID)
}

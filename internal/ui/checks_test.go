package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

type memSource struct{ reports []v1alpha1.ComplianceReport }

func (m memSource) Reports(context.Context) ([]v1alpha1.ComplianceReport, error) {
	return m.reports, nil
}
func (m memSource) Exceptions(context.Context, string) ([]v1alpha1.ControlException, error) {
	return nil, nil
}
func (m memSource) Profiles(context.Context) ([]v1alpha1.ComplianceProfile, error) { return nil, nil }

// everyone may read every namespace's reports, and no profile.
type everyone struct{}

func (everyone) Authenticate(*http.Request) (user.Info, bool, error) {
	return &user.DefaultInfo{Name: "auditor"}, true, nil
}
func (everyone) Authorize(context.Context, user.Info, string) (bool, error) { return true, nil }
func (everyone) AuthorizeProfiles(context.Context, user.Info) (bool, error) { return false, nil }

// TestTheChecksPageSaysItsCountsAreOfTheListedFindings: a report lists only its most severe
// findings (maxFindings); the checks page counts what the reports list, so where one lists only
// some, a check's count is short and the page must say so (the check's own page does), not
// show 1 failing for a check that fails on 200 resources.
func TestTheChecksPageSaysItsCountsAreOfTheListedFindings(t *testing.T) {
	r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "legacy"}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
	r.Status.Findings = []v1alpha1.Finding{{Check: "wl-privileged", Severity: v1alpha1.SeverityCritical, Result: v1alpha1.ResultFail,
		Resource: v1alpha1.ResourceRef{Kind: "Deployment", Name: "web"}}}
	r.Status.TotalFindings, r.Status.FindingsTruncated = 200, true
	s, err := New(Options{Source: memSource{reports: []v1alpha1.ComplianceReport{r}}, Access: everyone{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/checks", nil)
	req.Header.Set("Authorization", "Bearer x")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, `id="truncated"`) || !strings.Contains(body, "legacy") {
		t.Errorf("the checks page over a report listing 1 of its 200 findings: %d, does not say its counts are of the listed findings, in legacy", rec.Code)
	}
}

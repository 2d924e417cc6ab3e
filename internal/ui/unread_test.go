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

// TestACriterionFailingOnWhatWasNotReadSaysSo: a criterion fails closed on results its
// resources left unread (CriterionStatus.Unread: a literal credential padded past what the
// operator reads), with failed 0. The namespace page's criteria table showed Fail beside
// Failed 0 and nothing else: the reason it fails, the one an auditor must see, was not on the
// page. Its row shows how many results were not read, under a column that says what that is.
func TestACriterionFailingOnWhatWasNotReadSaysSo(t *testing.T) {
	r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: v1alpha1.ComplianceReportSpec{Profile: "p"}}
	r.Status.Result = v1alpha1.NonCompliant
	r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionFail, Checks: 1, Unread: 3}}
	s, err := New(Options{Source: memSource{reports: []v1alpha1.ComplianceReport{r}}, Access: everyone{}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/namespaces/shop", nil)
	req.Header.Set("Authorization", "Bearer x")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /namespaces/shop: %d", rec.Code)
	}
	body := rec.Body.String()
	_, table, _ := strings.Cut(body, `<table class="criteria">`)
	table, _, _ = strings.Cut(table, "</table>")
	head, rows, _ := strings.Cut(table, "<tbody>")
	_, row, _ := strings.Cut(rows, `<th scope="row">CC6.1</th>`)
	row, _, _ = strings.Cut(row, "</tr>")
	if !strings.Contains(head, ">Not read<") {
		t.Errorf("the criteria table has no column of the results not read: %s", head)
	}
	if !strings.Contains(row, `<td class="n fail">3</td>`) {
		t.Errorf("CC6.1's row does not show its 3 results not read: %s", row)
	}
}

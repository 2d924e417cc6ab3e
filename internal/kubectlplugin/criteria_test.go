package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTheCriteriaCellSaysWhichPassesRestOnSomeChecksOnly: status -A's CRITERIA cell counts the
// passing criteria; a Pass with unassessedChecks (some of the criterion's checks could assess
// nothing) was not shown to hold in full, as `status NS`'s UNASSESSED column says, and the cell
// must not count it as one more plain pass.
func TestTheCriteriaCellSaysWhichPassesRestOnSomeChecksOnly(t *testing.T) {
	got := criteriaCell([]v1alpha1.CriterionStatus{
		{ID: "CC6.1", Status: v1alpha1.CriterionPass, Checks: 5},
		{ID: "CC7.1", Status: v1alpha1.CriterionPass, Checks: 3, UnassessedChecks: 2},
	})
	if want := "2 pass (1 partly assessed: CC7.1)"; got != want {
		t.Errorf("criteriaCell = %q, want %q", got, want)
	}
}

// TestTheCriteriaTableSaysACriterionFailsOnWhatWasNotRead: a criterion the operator failed closed
// on a resource larger than it reads (unread 1, failed 0) showed as Fail with FAILED 0 and nothing
// saying why; the UNREAD column counts those results.
func TestTheCriteriaTableSaysACriterionFailsOnWhatWasNotRead(t *testing.T) {
	r := &v1alpha1.ComplianceReport{}
	r.Namespace, r.Name = "shop", "soc2-baseline"
	r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.1", Title: "Logical access", Status: v1alpha1.CriterionFail, Checks: 2, Unread: 1}}
	var out bytes.Buffer
	if err := criteriaTable(&out, r, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	var header, row []string
	for _, l := range lines {
		switch f := strings.Fields(l); {
		case len(f) > 0 && f[0] == "CRITERION":
			header = f
		case len(f) > 0 && f[0] == "CC6.1":
			row = f
		}
	}
	for i, h := range header {
		if h == "UNREAD" && i < len(row) && row[i] == "1" && row[i-1] == "0" {
			return
		}
	}
	t.Errorf("want an UNREAD column of 1 beside FAILED 0:\n%s", out.String())
}

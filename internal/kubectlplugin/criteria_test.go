package kubectlplugin

import (
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

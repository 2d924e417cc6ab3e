package evidence

import (
	"io"
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// writeControls describes every check of the catalogue: the criteria it supports, what it tests
// and how, so an auditor can map the populations and deviations to controls.
func writeControls(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"check", "criteria", "severity", "title", "what_it_tests", "how_it_is_tested", "remediation", "catalogue_version"})
	for _, c := range checks.Catalogue() {
		crit := make([]string, len(c.Criteria))
		for i, x := range c.Criteria {
			crit[i] = string(x)
		}
		cw.Write([]string{c.ID, strings.Join(crit, ";"), string(c.Severity), c.Title, c.Description, howTested(c), c.Remediation, checks.Version})
	}
	cw.Flush()
	return cw.Error()
}

// howTested is controls.csv's how_it_is_tested: what the check reads and when, or, for a check
// nothing it reads can decide, that it is not tested.
func howTested(c *engine.Check) string {
	if c.Unassessable {
		return "Not tested by the operator: it needs " + c.Requires + ", which no Kubernetes object it reads shows; every result is NotAssessed, and the control needs separate evidence"
	}
	how := "Evaluated on every " + strings.Join(c.Targets, ", ")
	if len(c.Reads) > 0 {
		how += ", reading " + strings.Join(c.Reads, ", ")
	}
	how += ", whenever it changes and at every full evaluation; results are Pass, Fail, Excepted, NotApplicable or NotAssessed (never Pass without data)"
	if c.Requires != "" {
		how += "; needs " + c.Requires + " (NotAssessed without it)"
	}
	return how
}

package evidence

import (
	"io"
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/checks"
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
		how := "Evaluated on every " + strings.Join(c.Targets, ", ")
		if len(c.Reads) > 0 {
			how += ", reading " + strings.Join(c.Reads, ", ")
		}
		switch {
		case c.Unassessable:
			how = "Not tested by the operator: it needs " + c.Requires + ", which no Kubernetes object it reads shows; every result is NotAssessed, and the control needs separate evidence"
		default:
			how += ", whenever it changes and at every full evaluation; results are Pass, Fail, Excepted, NotApplicable or NotAssessed (never Pass without data)"
			if c.Requires != "" {
				how += "; needs " + c.Requires + " (NotAssessed without it)"
			}
		}
		cw.Write([]string{c.ID, strings.Join(crit, ";"), string(c.Severity), c.Title, c.Description, how, c.Remediation, checks.Version})
	}
	cw.Flush()
	return cw.Error()
}

package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Info is a check of the catalogue as the commands print it in JSON (and YAML):
// `soc2-operator checks -o json` lists the InfoOf of every check, the catalogue version printed
// once beside them; `kubectl soc2 explain CHECK -o json|yaml` prints one Explanation, which also
// fills the fields marked "explain only".
type Info struct {
	ID       string               `json:"id"`
	Title    string               `json:"title"`
	Severity v1alpha1.Severity    `json:"severity"`
	Criteria []v1alpha1.Criterion `json:"criteria"`
	// PodSecurityControls are the Pod Security Standards controls the check reports, as
	// "ID (level)" (explain only).
	PodSecurityControls []string `json:"podSecurityControls,omitempty"`
	Targets             []string `json:"targets"`
	Reads               []string `json:"reads,omitempty"`
	Requires            string   `json:"requires,omitempty"`
	// ManifestOnly is set for a check only `soc2-operator scan` runs (explain only).
	ManifestOnly bool   `json:"manifestOnly,omitempty"`
	Description  string `json:"description"`
	Remediation  string `json:"remediation"`
	// CatalogVersion is the catalogue's Version (explain only: `checks` prints it once).
	CatalogVersion string `json:"catalogVersion,omitempty"`
}

// InfoOf is c as `soc2-operator checks -o json` lists it.
func InfoOf(c *engine.Check) Info {
	return Info{ID: c.ID, Title: c.Title, Severity: c.Severity, Criteria: c.Criteria, Targets: c.Targets,
		Reads: c.Reads, Requires: c.Requires, Description: c.Description, Remediation: c.Remediation}
}

// Explanation is c as `kubectl soc2 explain CHECK -o json` prints it: InfoOf(c) with its Pod
// Security Standards controls, whether it is manifest-only and the catalogue version.
func Explanation(c *engine.Check) Info {
	x := InfoOf(c)
	x.ManifestOnly = c.ManifestOnly
	x.CatalogVersion = Version
	for _, p := range PodSecurityControls(c.ID) {
		x.PodSecurityControls = append(x.PodSecurityControls, fmt.Sprintf("%s (%s)", p.ID, p.Level))
	}
	return x
}

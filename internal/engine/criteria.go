package engine

import (
	"slices"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// CriterionInfo is a SOC 2 Trust Services criterion (TSC 2017), paraphrased.
type CriterionInfo struct {
	ID    v1alpha1.Criterion
	Title string
}

// Criteria lists every criterion the API accepts, in the order reports show them.
var Criteria = []CriterionInfo{
	{"CC6.1", "Logical access security over protected information assets"},
	{"CC6.2", "Registration and authorisation of new users"},
	{"CC6.3", "Role-based access, least privilege and segregation of duties"},
	{"CC6.4", "Physical access restrictions"},
	{"CC6.5", "Discontinued protection of disposed assets"},
	{"CC6.6", "Boundary protection against threats from outside the system"},
	{"CC6.7", "Restriction and protection of data in transmission and movement"},
	{"CC6.8", "Prevention and detection of unauthorised or malicious software"},
	{"CC7.1", "Detection of configuration changes and new vulnerabilities"},
	{"CC7.2", "Monitoring of system components for anomalies"},
	{"CC7.3", "Evaluation of security events"},
	{"CC7.4", "Response to identified security incidents"},
	{"CC7.5", "Recovery from identified security incidents"},
	{"CC8.1", "Authorised, tested and approved changes"},
	{"CC9.1", "Mitigation of risks from business disruption"},
	{"A1.1", "Capacity management"},
	{"A1.2", "Availability and recovery infrastructure"},
	{"A1.3", "Recovery plan testing"},
	{"C1.1", "Identification and protection of confidential information"},
	{"C1.2", "Disposal of confidential information"},
	{"PI1.1", "Processing integrity: definitions of data processed"},
	{"PI1.2", "Processing integrity: system inputs"},
	{"PI1.3", "Processing integrity: system processing"},
	{"PI1.4", "Processing integrity: system outputs"},
	{"PI1.5", "Processing integrity: storage of inputs and outputs"},
}

var criterionIndex = func() map[v1alpha1.Criterion]int {
	m := make(map[v1alpha1.Criterion]int, len(Criteria))
	for i, c := range Criteria {
		m[c.ID] = i
	}
	return m
}()

// CriterionTitle returns the title of a criterion, or "" for an unknown one.
func CriterionTitle(id v1alpha1.Criterion) string {
	if i, ok := criterionIndex[id]; ok {
		return Criteria[i].Title
	}
	return ""
}

// KnownCriterion reports whether id is a criterion the API accepts.
func KnownCriterion(id v1alpha1.Criterion) bool {
	_, ok := criterionIndex[id]
	return ok
}

// SeverityRank orders severities as v1alpha1.Severities does, most severe first; unknown
// severities sort last.
func SeverityRank(s v1alpha1.Severity) int {
	if i := slices.Index(v1alpha1.Severities, s); i >= 0 {
		return i
	}
	return len(v1alpha1.Severities)
}

// SeverityAtLeast reports whether s is as severe as min or more.
func SeverityAtLeast(s, min v1alpha1.Severity) bool { return SeverityRank(s) <= SeverityRank(min) }

// severityWeight weighs a check in the score.
func severityWeight(s v1alpha1.Severity) int {
	switch s {
	case v1alpha1.SeverityCritical:
		return 10
	case v1alpha1.SeverityHigh:
		return 5
	case v1alpha1.SeverityMedium:
		return 2
	}
	return 1
}

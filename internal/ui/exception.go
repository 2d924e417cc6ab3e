package ui

import "github.com/soc2-operator/soc2-operator/api/v1alpha1"

// requestedBy is who asked for the exception, as the API server recorded it.
func requestedBy(e *v1alpha1.ControlException) string { return e.Spec.RequestedBy }

// approvedBy is who approved it and when: the approval the operator trusted for its current
// spec, else an approval it does not trust (yet, or ever: first seen before the operator
// confirmed its admission policies), marked as such. An approval of an earlier spec is not
// shown: a changed spec is not approved.
func approvedBy(e *v1alpha1.ControlException) string {
	if e.Status.ApprovedBy != "" && e.Status.ApprovedGeneration == e.Generation {
		if e.Status.ApprovedAt != nil {
			return e.Status.ApprovedBy + " at " + timeText(&e.Status.ApprovedAt.Time)
		}
		return e.Status.ApprovedBy
	}
	if e.Approval != nil && e.Approval.ApprovedBy != "" {
		if e.Status.UnverifiedApprovalGeneration != 0 && e.Status.UnverifiedApprovalGeneration == e.Generation {
			return e.Approval.ApprovedBy + " (not trusted: written while approvals were not checked; approve again)"
		}
		return e.Approval.ApprovedBy + " (not yet trusted)"
	}
	return ""
}

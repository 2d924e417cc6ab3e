package ui

import "github.com/soc2-operator/soc2-operator/api/v1alpha1"

// requestedBy is who asked for the exception, as the API server recorded it.
func requestedBy(e *v1alpha1.ControlException) string { return e.Spec.RequestedBy }

// approvedBy is who approved it: the approver the operator trusted, else an approval it does
// not (yet) trust, marked as such.
func approvedBy(e *v1alpha1.ControlException) string {
	if e.Status.ApprovedBy != "" {
		return e.Status.ApprovedBy
	}
	if e.Approval != nil && e.Approval.ApprovedBy != "" {
		return e.Approval.ApprovedBy + " (not yet trusted)"
	}
	return ""
}

package ui

import "github.com/soc2-operator/soc2-operator/api/v1alpha1"

// requestedBy is who asked for the exception.
func requestedBy(e *v1alpha1.ControlException) string { return "" }

// approvedBy is who approved it.
func approvedBy(e *v1alpha1.ControlException) string { return e.Spec.Approver }

package ui

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAChangedExceptionIsNotShownWithTheApprovalOfItsOldSpec: a requester who widens an
// approved exception (generation 2) gets no approval for the new spec; until the operator has
// judged it (status of generation 1: a follower whose leader is down, a busy queue), the page
// must not show it Active and approved by the approver of generation 1.
func TestAChangedExceptionIsNotShownWithTheApprovalOfItsOldSpec(t *testing.T) {
	now := time.Now()
	approved := metav1.NewTime(now.Add(-time.Hour))
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "wide", Namespace: "shop", Generation: 2},
		Spec: v1alpha1.ControlExceptionSpec{Criteria: []v1alpha1.Criterion{"CC6.1"}, Reason: "widened after approval",
			Owner: "shop@example.com", RequestedBy: "shop-dev", Expires: metav1.NewTime(now.Add(24 * time.Hour))},
		Status: v1alpha1.ControlExceptionStatus{ObservedGeneration: 1, State: v1alpha1.ExceptionActive,
			ApprovedBy: "security-lead", ApprovedAt: &approved, ApprovedGeneration: 1},
	}
	v := newException(ex, now)
	if v.State == string(v1alpha1.ExceptionActive) {
		t.Errorf("an exception whose spec the operator has not judged is shown %s", v.State)
	}
	if strings.Contains(v.ApprovedBy, "security-lead") {
		t.Errorf("generation 2 is shown approved by %q, who approved generation 1", v.ApprovedBy)
	}

	// Once judged, the operator's state and trusted approval show as they are.
	ex.Generation, ex.Status.ObservedGeneration, ex.Status.ApprovedGeneration = 1, 1, 1
	if v := newException(ex, now); v.State != string(v1alpha1.ExceptionActive) || !strings.HasPrefix(v.ApprovedBy, "security-lead at ") {
		t.Errorf("a judged, approved exception: state %q, approved by %q", v.State, v.ApprovedBy)
	}
}

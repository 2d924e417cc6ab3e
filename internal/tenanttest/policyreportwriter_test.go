package tenanttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAMissingPolicyReportWriterBindingIsSeenAtOnce: with the binding of
// soc2-operator-policyreport-writer deleted, anyone who may write PolicyReports can rewrite the
// operator's; the operator must see it as it sees the other policies go, from its watch, not at
// its five-minute recheck (its watch followed the other three policies only, so the profile said
// Ready and the policies in force for up to five minutes).
func TestAMissingPolicyReportWriterBindingIsSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "prwriter", nil)
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)

	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	binding.Name = admissionpolicy.PolicyReportWriter
	if err := platform.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			if err := applyAdmissionPolicies(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(restore)

	want := "ValidatingAdmissionPolicyBinding " + admissionpolicy.PolicyReportWriter + " is missing"
	testenv.Eventually(t, 30*time.Second, "the profile says "+want, func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := platform.Get(ctx, types.NamespacedName{Name: tn.Profile}, p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, want) {
			return fmt.Errorf("Ready %+v", c)
		}
		return nil
	})
	restore()
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)
}

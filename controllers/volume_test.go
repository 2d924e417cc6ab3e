package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A namespace admin may create exceptions that nobody approves, each with a reason of 2,048
// characters and an owner of 256 that JSON writes in 6 bytes each ('<' is \u003c), as the API
// server accepts them. Listed in the report, 40 of them took more than the status budget, so
// the report listed none of the namespace's findings (its privileged Deployment's included),
// only their count: the exceptions are now listed within report.ExceptionsBudget.
func TestATenantsExceptionsDoNotCrowdItsFindingsOutOfTheReport(t *testing.T) {
	ctx := context.Background()
	privilegedUnderWaivableProfile(t, "padded", "padded-a", "bad")
	const n = 40
	for i := range n {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("padding-%02d", i), Namespace: "padded-a"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"nothing"}},
				Reason: strings.Repeat("<", 2048), Owner: strings.Repeat(">", 256), Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the report lists the exceptions' total and the privileged finding", func() error {
		rep, err := getReport("padded-a", "padded")
		if err != nil {
			return err
		}
		if rep.Status.TotalExceptions != n {
			return fmt.Errorf("%d exceptions counted, want %d", rep.Status.TotalExceptions, n)
		}
		if finding(rep, "wl-privileged", "bad", "setup") == nil {
			return fmt.Errorf("%d of %d findings listed, none wl-privileged on bad; %d exceptions listed", len(rep.Status.Findings),
				rep.Status.TotalFindings, len(rep.Status.Exceptions))
		}
		if !rep.Status.ExceptionsTruncated {
			return fmt.Errorf("%d exceptions listed of %d, not said to be truncated", len(rep.Status.Exceptions), n)
		}
		return nil
	})
}

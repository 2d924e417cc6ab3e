package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// TestPolicyReports shows what Policy Reporter sees when a profile turns PolicyReports on: one
// report per evaluated resource, owned by it, with every result (passes too) and the check,
// criteria, severity, container and exception as properties; the report follows the workload;
// turning the option off removes the reports.
func TestPolicyReports(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "preport-a", map[string]string{"preport": "true"})
	d := deployment("preport-a", "agent", true)
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "preport", "preport", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.PolicyReports = true
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	name := policyreport.ReportName("preport", "Deployment", "agent")

	get := func() (*policyreport.PolicyReport, error) {
		rep := &policyreport.PolicyReport{}
		err := k8s.Get(ctx, types.NamespacedName{Namespace: "preport-a", Name: name}, rep)
		return rep, err
	}
	result := func(rep *policyreport.PolicyReport, check, container string) *policyreport.Result {
		for i, r := range rep.Results {
			if r.Policy == check && r.Properties["container"] == container {
				return &rep.Results[i]
			}
		}
		return nil
	}
	var rep *policyreport.PolicyReport
	eventually(t, 20*time.Second, "the Deployment's PolicyReport", func() error {
		var err error
		rep, err = get()
		return err
	})
	if rep.Scope == nil || rep.Scope.Kind != "Deployment" || rep.Scope.Name != "agent" {
		t.Errorf("scope %+v", rep.Scope)
	}
	live := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), live); err != nil {
		t.Fatal(err)
	}
	if len(rep.OwnerReferences) != 1 || rep.OwnerReferences[0].UID != live.UID {
		t.Errorf("owner references %+v: want the Deployment, for garbage collection", rep.OwnerReferences)
	}
	if r := result(rep, "wl-privileged", "setup"); r == nil || r.Result != "fail" || r.Severity != "critical" || r.Properties["criteria"] == "" {
		t.Errorf("wl-privileged on setup: %+v", r)
	}
	if r := result(rep, "wl-privileged", "app"); r == nil || r.Result != "pass" {
		t.Errorf("passes must be in the report too: wl-privileged on app: %+v", r)
	}
	if rep.Summary.Fail == 0 || rep.Summary.Pass == 0 {
		t.Errorf("summary %+v", rep.Summary)
	}

	// An exception shows as skip, naming the exception.
	ex := &v1alpha1.ControlException{}
	ex.Name, ex.Namespace = "setup", "preport-a"
	ex.Spec = v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "The setup step needs the host for now.",
		Owner: "team@example.com", Expires: metaTime(time.Now().Add(24 * time.Hour))}
	createApproved(t, ex)
	eventually(t, 10*time.Second, "the excepted result is a skip with the exception's name", func() error {
		rep, err := get()
		if err != nil {
			return err
		}
		r := result(rep, "wl-privileged", "setup")
		if r == nil || r.Result != "skip" || r.Properties["exception"] != "preport-a/setup" {
			return fmt.Errorf("result %+v", r)
		}
		return nil
	})

	// Turning PolicyReports off removes them.
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "preport"}, p); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.PolicyReports = false
	if err := k8s.Patch(ctx, p, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the reports removed", func() error {
		list := &policyreport.PolicyReportList{}
		if err := k8s.List(ctx, list, client.InNamespace("preport-a")); err != nil {
			return err
		}
		if len(list.Items) != 0 {
			return fmt.Errorf("%d reports left", len(list.Items))
		}
		return nil
	})
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }

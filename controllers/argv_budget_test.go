package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// argvDeployment is a Deployment of ns whose container runs with args.
func argvDeployment(ns, name string, args []string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0",
					Command: []string{"/app"}, Args: args}}}}}}
}

// TestCommandLinesPastWhatTheOperatorReadsAreNotAssessed (real API server): a namespace admin's
// Deployments whose args are 1.4 MB of text on which every gitleaks rule runs (7 to 20 s an
// evaluation each, read whole, at every evaluation of the namespace) are NotAssessed for
// sec-literal-env-credentials (the operator reads command lines with gitleaks' rules within
// checks' argvCredentialWork), never Pass: unread, listed among the findings, their criterion
// failing closed (the report NonCompliant), their PolicyReport result an error naming what was
// not read; and while the tenants keep changing them, a change in another namespace still reaches
// its report.
func TestCommandLinesPastWhatTheOperatorReadsAreNotAssessed(t *testing.T) {
	ctx := context.Background()
	const profile, other = "argvbudget", "argv-other"
	tenants := []string{"argv-tenant-a", "argv-tenant-b"}
	for _, ns := range append([]string{other}, tenants...) {
		createNamespace(t, ns, map[string]string{"argvbudget": "true"})
	}
	dense := denseText(t, 140000)
	args := make([]string, 10) // 1.4 MB, within the API server's 1.5 MiB an object
	for i := range args {
		args[i] = dense
	}
	for _, ns := range tenants {
		for _, name := range []string{"dense-0", "dense-1"} {
			if err := k8s.Create(ctx, argvDeployment(ns, name, args)); err != nil {
				t.Fatal(err)
			}
		}
	}
	createProfile(t, profile, "argvbudget", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "sec-literal-env-credentials")
		p.Spec.PolicyReports = true
	})
	for _, ns := range tenants {
		eventually(t, 90*time.Second, ns+": both Deployments NotAssessed", func() error {
			rep, err := getReport(ns, profile)
			if err != nil {
				return err
			}
			if s := rep.Status.Summary; s.NotAssessed != 2 || s.Failing != 0 || s.Passed != 0 {
				return fmt.Errorf("want 2 not assessed, none failing or passed; have %+v", s)
			}
			if rep.Status.Result != v1alpha1.NonCompliant || len(rep.Status.Findings) != 2 {
				return fmt.Errorf("want NonCompliant with the 2 unread findings, have %s, %+v", rep.Status.Result, rep.Status.Findings)
			}
			return nil
		})
	}
	eventually(t, 30*time.Second, "dense-0's PolicyReport says why", func() error {
		rep := &policyreport.PolicyReport{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: tenants[0], Name: policyreport.ReportName(profile, "Deployment", "dense-0")}, rep); err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Policy != "sec-literal-env-credentials" {
				continue
			}
			if r.Result != policyreport.StatusError || r.Properties[policyreport.PropertyReason] != policyreport.ReasonNotAssessed ||
				!strings.Contains(r.Message, "args[0]") || !strings.Contains(r.Message, "not read by gitleaks' rules") ||
				!strings.Contains(r.Message, "1 MiB") {
				return fmt.Errorf("result %+v", r)
			}
			return nil
		}
		return fmt.Errorf("no sec-literal-env-credentials result in %+v", rep.Results)
	})
	// The tenants change their Deployments (each change queues an evaluation of their
	// namespace), then another namespace gets a Deployment with a literal password.
	for round := range 3 {
		for _, ns := range tenants {
			for _, name := range []string{"dense-0", "dense-1"} {
				err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
					d := &appsv1.Deployment{}
					if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
						return err
					}
					d.Spec.Template.Annotations = map[string]string{"round": fmt.Sprint(round)}
					return k8s.Update(ctx, d)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := k8s.Create(ctx, argvDeployment(other, "web", []string{"--db-password=Orders-2024-x9Kq"})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "web failing in "+other, func() error {
		rep, err := getReport(other, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "sec-literal-env-credentials", "web", "app"); f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("web: want a Fail finding, have %+v", f)
		}
		return nil
	})
}

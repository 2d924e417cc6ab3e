package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestAnUnreadFindingIsCountedWhereFindingsAre (real API server): a namespace whose only
// problem is a Deployment padded so that the operator does not read its literal credential
// (sec-literal-env-credentials, High, unread) is NonCompliant with its criteria failing closed, yet
// its report's summary counted no finding (failing 0, high 0: kubectl printed Findings 0 beside
// Failed-Criteria 2) and soc2_operator_findings counted none (result="Fail" 0 at every
// severity): a findings panel or alert saw nothing. The summary counts it in unread, apart from
// failing, and soc2_operator_findings serves it as result="Unread" at its check's severity;
// both go when the Deployment is fixed.
func TestAnUnreadFindingIsCountedWhereFindingsAre(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "unread-counted", "unreadcounted"
	t.Cleanup(func() { metrics.ForgetProfile(profile) })
	createNamespace(t, ns, map[string]string{profile: "true"})
	url := corev1.EnvVar{Name: "NOTES_URL", Value: "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)}
	hidden := envDeployment(ns, "hidden", url)
	if envCredentialFailure(hidden.DeepCopy()) == "" {
		t.Fatal("the whole Deployment hidden does not fail sec-literal-env-credentials: the test tests nothing")
	}
	if err := k8s.Create(ctx, hidden); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyChecks(p, "sec-literal-env-credentials") })

	// unreadSeries are the namespace's result="Unread" series that are not 0.
	unreadSeries := func() []string {
		return slices.DeleteFunc(collected(t, metrics.Findings, profile, ns), func(s string) bool {
			return !strings.Contains(s, `result="Unread"`) || strings.HasSuffix(s, " 0")
		})
	}
	eventually(t, 90*time.Second, ns+": NonCompliant on hidden's unread finding, counted", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "sec-literal-env-credentials", "hidden", "app"); rep.Status.Result != v1alpha1.NonCompliant || f == nil || f.Result != v1alpha1.ResultNotAssessed {
			return fmt.Errorf("result %s, hidden's finding %+v", rep.Status.Result, f)
		}
		if s := rep.Status.Summary; s.Unread != 1 || s.Failing != 0 || s.High != 0 || s.FailedCriteria == 0 {
			return fmt.Errorf("summary %+v: want unread 1 beside failing 0, high 0 and failed criteria", s)
		}
		return nil
	})
	want := []string{`result="Unread",severity="High" 1`}
	if got := unreadSeries(); !slices.Equal(got, want) {
		t.Errorf("soc2_operator_findings of %s, unread and not 0: %q, want %q", ns, got, want)
	}
	if got := gaugeValue(t, metrics.Findings.WithLabelValues(profile, ns, string(v1alpha1.SeverityHigh), string(v1alpha1.ResultFail))); got != 0 {
		t.Errorf("soc2_operator_findings{result=\"Fail\",severity=\"High\"} is %g; the unread finding is not a failure", got)
	}

	// Fixed: the padding and the credential removed.
	eventually(t, 20*time.Second, "hidden fixed", func() error {
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "hidden"}, d); err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "PORT", Value: "8080"}}
		return k8s.Update(ctx, d)
	})
	eventually(t, 90*time.Second, ns+": Compliant, nothing unread", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.Result != v1alpha1.Compliant || rep.Status.Summary.Unread != 0 {
			return fmt.Errorf("result %s, summary %+v", rep.Status.Result, rep.Status.Summary)
		}
		if got := unreadSeries(); len(got) != 0 {
			return fmt.Errorf("unread series still served: %q", got)
		}
		return nil
	})
	if got := collected(t, metrics.Findings, profile, ns); !slices.Contains(got, `result="Unread",severity="High" 0`) {
		t.Errorf("soc2_operator_findings of %s after the fix: %q; want result=\"Unread\" 0 at each severity, as result=\"Fail\"", ns, got)
	}
}

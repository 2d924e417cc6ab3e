package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestACredentialReferredToPastTheExpansionBoundFailsClosed (real API server): a namespace
// admin's Deployment refers to a literal password through $(VAR) references past what
// sec-literal-env-credentials expands (its own text and 64 KiB: 32 KiB referred to three times,
// then the password), in a container Linux runs. The result was NotAssessed, undecided: CC6.1
// Pass and the report Compliant. It is unread: CC6.1 Fails closed, the finding is listed, and
// the namespace is NonCompliant.
func TestACredentialReferredToPastTheExpansionBoundFailsClosed(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "expansion-unread", "expansionunread"
	createNamespace(t, ns, map[string]string{profile: "true"})
	d := argvDeployment(ns, "padded", []string{"--port=8080"})
	d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "A", Value: strings.Repeat("a", 32<<10)},
		{Name: "B", Value: "$(A)$(A)$(A)"},
		{Name: "P", Value: "Orders-2024-" + strings.Repeat("q7", 50)},
		{Name: "D", Value: "$(P)"},
		{Name: "DATABASE_URL", Value: "postgres://app:$(P)@db.shop.svc/orders"},
	}
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyChecks(p, "sec-literal-env-credentials") })
	eventually(t, 60*time.Second, ns+": NonCompliant, CC6.1 failing closed on padded", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		cc61 := criterionOf(rep, "CC6.1")
		if cc61 == nil || cc61.Status != v1alpha1.CriterionFail || cc61.Unread != 1 {
			return fmt.Errorf("CC6.1: want Fail with unread 1; have %+v", cc61)
		}
		f := finding(rep, "sec-literal-env-credentials", "padded", "app")
		if rep.Status.Result != v1alpha1.NonCompliant || f == nil || f.Result != v1alpha1.ResultNotAssessed || !strings.Contains(f.Message, "$(VAR) references") {
			return fmt.Errorf("result %s, padded's finding %+v", rep.Status.Result, f)
		}
		return nil
	})
}

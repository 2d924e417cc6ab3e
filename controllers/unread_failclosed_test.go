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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// criterionOf is the report's status of criterion id, or nil.
func criterionOf(rep *v1alpha1.ComplianceReport, id v1alpha1.Criterion) *v1alpha1.CriterionStatus {
	for i, c := range rep.Status.Criteria {
		if c.ID == id {
			return &rep.Status.Criteria[i]
		}
	}
	return nil
}

// onlyChecks enables only the checks ids in p.
func onlyChecks(p *v1alpha1.ComplianceProfile, ids ...string) {
	no := false
	for _, c := range checks.Catalogue() {
		if !slices.Contains(ids, c.ID) {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
}

// TestATenantCannotPadACredentialOutOfTheReport (real API server): a namespace admin's
// Deployment with a literal credential in env, padded with 256 KiB of notes so that the
// operator does not read the credential (it reads at most 32 KiB of a workload's long env
// values), left sec-literal-env-credentials NotAssessed on it, and beside a clean Deployment
// CC6.1 stayed Pass, the score 100 and the report Compliant: the tenant hid a High failure. A
// result NotAssessed because its object holds more than the operator reads is unread, and the
// criterion fails closed on it: NonCompliant, CC6.1 Fail with unread 1, the finding listed
// (NotAssessed, naming what was not read), its PolicyReport result an error; an active
// exception covering it makes it Excepted and the report Compliant again. A NotAssessed for
// data the operator lacks (img-embedded-secrets without Trivy Operator's reports) in another
// namespace still leaves CC6.1 Pass.
func TestATenantCannotPadACredentialOutOfTheReport(t *testing.T) {
	ctx := context.Background()
	const ns, missing, profile = "unread-padded", "unread-missing", "unreadfc"
	createNamespace(t, ns, map[string]string{"unreadfc": "true"})
	createNamespace(t, missing, map[string]string{"unreadfc": "true"})
	url := corev1.EnvVar{Name: "NOTES_URL", Value: "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)}
	hidden := envDeployment(ns, "hidden", url)
	if envCredentialFailure(hidden.DeepCopy()) == "" {
		t.Fatal("the whole Deployment hidden does not fail sec-literal-env-credentials: the test tests nothing")
	}
	for _, d := range []*appsv1.Deployment{hidden, argvDeployment(ns, "clean", []string{"--port=8080"}), argvDeployment(missing, "clean", []string{"--port=8080"})} {
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "unreadfc", func(p *v1alpha1.ComplianceProfile) {
		onlyChecks(p, "sec-literal-env-credentials", "img-embedded-secrets")
		p.Spec.PolicyReports = true
	})
	eventually(t, 90*time.Second, ns+": NonCompliant, CC6.1 failing closed on hidden", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		cc61 := criterionOf(rep, "CC6.1")
		if cc61 == nil || cc61.Status != v1alpha1.CriterionFail || cc61.Unread != 1 || cc61.Failed != 0 {
			return fmt.Errorf("CC6.1: want Fail with unread 1, failed 0; have %+v", cc61)
		}
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("want NonCompliant, have %s", rep.Status.Result)
		}
		if rep.Status.Score == nil || *rep.Status.Score == 100 {
			return fmt.Errorf("want a score below 100, have %v", rep.Status.Score)
		}
		f := finding(rep, "sec-literal-env-credentials", "hidden", "app")
		if f == nil || f.Result != v1alpha1.ResultNotAssessed || !strings.Contains(f.Message, "not read for literal credentials") {
			return fmt.Errorf("hidden: want a NotAssessed finding naming what was not read, have %+v", f)
		}
		return nil
	})
	eventually(t, 30*time.Second, "hidden's PolicyReport result is an error", func() error {
		rep := &policyreport.PolicyReport{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: policyreport.ReportName(profile, "Deployment", "hidden")}, rep); err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Policy == "sec-literal-env-credentials" {
				if r.Result != policyreport.StatusError || !strings.Contains(r.Message, "not read for literal credentials") {
					return fmt.Errorf("result %+v", r)
				}
				return nil
			}
		}
		return fmt.Errorf("no sec-literal-env-credentials result in %+v", rep.Results)
	})
	eventually(t, 30*time.Second, missing+": Compliant, CC6.1 Pass beside img-embedded-secrets without reports", func() error {
		rep, err := getReport(missing, profile)
		if err != nil {
			return err
		}
		cc61 := criterionOf(rep, "CC6.1")
		if cc61 == nil || cc61.Status != v1alpha1.CriterionPass || cc61.Unread != 0 || cc61.UnassessedChecks != 1 {
			return fmt.Errorf("CC6.1: want Pass, unread 0, img-embedded-secrets unassessed; have %+v", cc61)
		}
		if rep.Status.Result != v1alpha1.Compliant || len(rep.Status.Findings) != 0 {
			return fmt.Errorf("want Compliant with no finding, have %s, %+v", rep.Status.Result, rep.Status.Findings)
		}
		return nil
	})

	createApproved(t, &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "hidden-notes", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"sec-literal-env-credentials"}, Reason: "The notes move to a ConfigMap this sprint.",
			Owner: "shop-team@example.com", Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
			Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"hidden"}}},
	})
	eventually(t, 30*time.Second, ns+": the exception waives the unread result", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		cc61 := criterionOf(rep, "CC6.1")
		if cc61 == nil || cc61.Status != v1alpha1.CriterionExcepted || cc61.Unread != 0 || cc61.Excepted != 1 {
			return fmt.Errorf("CC6.1: want Excepted with excepted 1, unread 0; have %+v", cc61)
		}
		if rep.Status.Result != v1alpha1.Compliant {
			return fmt.Errorf("want Compliant, have %s", rep.Status.Result)
		}
		f := finding(rep, "sec-literal-env-credentials", "hidden", "app")
		if f == nil || f.Result != v1alpha1.ResultNotAssessed || f.Exception != ns+"/hidden-notes" {
			return fmt.Errorf("hidden: want the NotAssessed finding naming the exception, have %+v", f)
		}
		return nil
	})
}

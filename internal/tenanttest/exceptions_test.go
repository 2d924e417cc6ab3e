package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// everyCriterion is every SOC 2 criterion a built-in check supports.
func everyCriterion() []v1alpha1.Criterion {
	var out []v1alpha1.Criterion
	for _, c := range checks.Catalogue() {
		for _, cr := range c.Criteria {
			if !slices.Contains(out, cr) {
				out = append(out, cr)
			}
		}
	}
	slices.Sort(out)
	return out
}

// selfExemption is the exception of attack 1: every criterion, no match, in the tenant's own
// namespace.
func selfExemption(ns, name string) *v1alpha1.ControlException {
	return &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Criteria: everyCriterion(),
			Reason:   "We accept every risk in this namespace",
			Owner:    "tenant@example.com",
			Expires:  metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
}

// waitJudged waits until the operator has judged the exception and the tenant's report lists
// it (so the report reflects it), and returns both.
func (tn *tenant) waitJudged(t *testing.T, name string, want v1alpha1.ExceptionState) (*v1alpha1.ControlException, *v1alpha1.ComplianceReport) {
	t.Helper()
	ex := &v1alpha1.ControlException{}
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("exception %s/%s judged %s", tn.Namespace, name, want), func() error {
		if err := platform.Get(context.Background(), types.NamespacedName{Namespace: tn.Namespace, Name: name}, ex); err != nil {
			return err
		}
		if ex.Status.State != want || ex.Status.ObservedGeneration != ex.Generation {
			return fmt.Errorf("state %q (%s) at generation %d of %d", ex.Status.State, ex.Status.Message, ex.Status.ObservedGeneration, ex.Generation)
		}
		return nil
	})
	rep := tn.waitReport(t, "lists exception "+name+" as "+string(want), func(rep *v1alpha1.ComplianceReport) error {
		for _, u := range rep.Status.Exceptions {
			if u.Name == tn.Namespace+"/"+name {
				if u.State != want {
					return fmt.Errorf("listed as %s", u.State)
				}
				return nil
			}
		}
		return errors.New("not listed")
	})
	return ex, rep
}

// finding returns the report's finding of check on resource name, or an error.
func finding(rep *v1alpha1.ComplianceReport, check, name string) (*v1alpha1.Finding, error) {
	for i := range rep.Status.Findings {
		if f := &rep.Status.Findings[i]; f.Check == check && f.Resource.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no %s finding on %s in %s (result %s)", check, name, rep.Namespace, rep.Status.Result)
}

// TestSelfExemptionWaivesNothing is attack 1: the tenant waives every criterion in their own
// namespace. The report must stay NonCompliant with the Critical finding failing.
func TestSelfExemptionWaivesNothing(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "self-exempt", nil)
	if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "wl-privileged failing", func(rep *v1alpha1.ComplianceReport) error {
		_, err := finding(rep, "wl-privileged", "web")
		return err
	})
	if err := tn.Client.Create(ctx, selfExemption(tn.Namespace, "everything")); err != nil {
		t.Fatalf("the tenant may request an exception: %v", err)
	}
	_, rep := tn.waitJudged(t, "everything", v1alpha1.ExceptionPendingApproval)
	if rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("report result %s after a self-exemption, want NonCompliant", rep.Status.Result)
	}
	f, err := finding(rep, "wl-privileged", "web")
	if err != nil {
		t.Fatal(err)
	}
	if f.Result != v1alpha1.ResultFail {
		t.Errorf("wl-privileged on web is %s (exception %q), want Fail", f.Result, f.Exception)
	}
}

// TestSelfExemptionDoesNotPassEnforce is attack 1 under Enforce: the privileged Deployment is
// denied, and stays denied after the tenant's own exception for CC6.1/CC6.8.
func TestSelfExemptionDoesNotPassEnforce(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "self-exempt-enforce", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Enforcement = &v1alpha1.Enforcement{Mode: v1alpha1.EnforcementEnforce, Severity: v1alpha1.SeverityHigh}
	})
	waitEnforced(t, tn)
	ex := selfExemption(tn.Namespace, "privileged-ok")
	ex.Spec.Criteria = []v1alpha1.Criterion{"CC6.1", "CC6.8"}
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	tn.waitJudged(t, "privileged-ok", v1alpha1.ExceptionPendingApproval)
	err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web"))
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Fatalf("privileged Deployment after a self-exemption: want denied, got %v", err)
	}
}

// waitEnforced waits until the webhook denies a privileged Deployment in the tenant's
// namespace (the profile is in the webhook's cache).
func waitEnforced(t *testing.T, tn *tenant) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "Enforce denies a privileged Deployment", func() error {
		err := tn.Client.Create(context.Background(), privilegedDeployment(tn.Namespace, "probe"), client.DryRunAll)
		if err == nil {
			return errors.New("admitted")
		}
		if !strings.Contains(err.Error(), "wl-privileged") {
			return err
		}
		return nil
	})
}

// grantReportWriter gives the tenant create, update and patch on ComplianceReports and their
// status in their namespace: a role broader than any shipped one (a custom role, or `*` on the
// group), so that only the admission policy stands between the tenant and a forged report.
func grantReportWriter(t *testing.T, tn *tenant) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "report-writer", Namespace: tn.Namespace},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"compliancereports", "compliancereports/status"},
			Verbs:     []string{"get", "list", "create", "update", "patch"},
		}},
	}
	if err := platform.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "report-writer", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tn.User}},
	}
	if err := platform.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
}

// TestTenantCannotForgeReports is attack 5: a tenant who (through some broad role) may write
// ComplianceReports still cannot create one, change one, or change its status.
func TestTenantCannotForgeReports(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "forge-report", nil)
	grantReportWriter(t, tn)
	if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "NonCompliant", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", rep.Status.Result)
		}
		return nil
	})
	refused := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: the API server accepted it, want it refused by the admission policy", what)
			return
		}
		if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "ComplianceReports are written only by the operator") {
			t.Errorf("%s: want the admission policy's refusal, got %v", what, err)
		}
	}

	ghost := &v1alpha1.ComplianceReport{
		ObjectMeta: metav1.ObjectMeta{Name: "no-such-profile", Namespace: tn.Namespace},
		Spec:       v1alpha1.ComplianceReportSpec{Profile: "no-such-profile"},
	}
	refused("creating a report", tn.Client.Create(ctx, ghost))

	rep, err := tn.report()
	if err != nil {
		t.Fatal(err)
	}
	forged := rep.DeepCopy()
	forged.Status.Result = v1alpha1.Compliant
	forged.Status.Findings = nil
	refused("writing the report's status", tn.Client.Status().Update(ctx, forged))
	refused("patching the report's status", tn.Client.Status().Patch(ctx, forged, client.MergeFrom(rep)))
	if rep, err = tn.report(); err != nil {
		t.Fatal(err)
	}
	relabelled := rep.DeepCopy()
	relabelled.Labels["compliance.soc2-operator.io/profile"] = "other"
	refused("relabelling the report", tn.Client.Patch(ctx, relabelled, client.MergeFrom(rep)))

	if rep, err = tn.report(); err != nil {
		t.Fatal(err)
	}
	if rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("report result %s after the tenant's attempts, want NonCompliant", rep.Status.Result)
	}
}

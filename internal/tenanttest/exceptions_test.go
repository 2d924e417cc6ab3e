package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
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

// checkFinding returns the report's finding of check on resource name, or an error.
func checkFinding(rep *v1alpha1.ComplianceReport, check, name string) (*v1alpha1.Finding, error) {
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
		_, err := checkFinding(rep, "wl-privileged", "web")
		return err
	})
	if err := tn.Client.Create(ctx, selfExemption(tn.Namespace, "everything")); err != nil {
		t.Fatalf("the tenant may request an exception: %v", err)
	}
	_, rep := tn.waitJudged(t, "everything", v1alpha1.ExceptionPendingApproval)
	if rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("report result %s after a self-exemption, want NonCompliant", rep.Status.Result)
	}
	f, err := checkFinding(rep, "wl-privileged", "web")
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
	// Patches carry no resourceVersion, so a concurrent write by the operator cannot turn the
	// refusal under test into a conflict.
	refused("writing the report's status", tn.Client.Status().Patch(ctx, forged,
		client.RawPatch(types.MergePatchType, []byte(`{"status":{"result":"Compliant","findings":[]}}`))))
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

// approver binds a security reviewer to the shipped approver role in the tenant's namespace
// (as the README says to) and returns their client and user name.
func (tn *tenant) approver(t *testing.T) (client.Client, string) {
	t.Helper()
	user := "security@" + tn.Namespace
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "exception-approvers", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "controlexception-approver-role"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := platform.Create(context.Background(), rb); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	c, _ := impersonate(t, user)
	return c, user
}

// approve approves an exception in the tenant's namespace as its security reviewer.
func (tn *tenant) approve(t *testing.T, name string) {
	t.Helper()
	c, user := tn.approver(t)
	if err := testenv.Approve(context.Background(), c, user, types.NamespacedName{Namespace: tn.Namespace, Name: name}); err != nil {
		t.Fatal(err)
	}
}

// credentialsDeployment has a literal password in its environment: a High finding
// (sec-literal-env-credentials), which an approved exception may waive.
func credentialsDeployment(ns, name string) *appsv1.Deployment {
	d := privilegedDeployment(ns, name)
	c := &d.Spec.Template.Spec.Containers[0]
	c.SecurityContext = nil
	c.Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	return d
}

// credentialsException is the tenant's request to waive the literal password.
func credentialsException(ns string) *v1alpha1.ControlException {
	return &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks:  []string{"sec-literal-env-credentials"},
			Match:   v1alpha1.ResourceMatch{Names: []string{"api"}},
			Reason:  "Moving the password to a Secret this sprint.",
			Owner:   "api-team@example.com",
			Expires: metav1.NewTime(time.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)),
		},
	}
}

// findingIs waits until the tenant's report shows check on resource name with result want.
func (tn *tenant) findingIs(t *testing.T, check, name string, want v1alpha1.CheckResult) *v1alpha1.ComplianceReport {
	t.Helper()
	return tn.waitReport(t, fmt.Sprintf("%s on %s is %s", check, name, want), func(rep *v1alpha1.ComplianceReport) error {
		f, err := checkFinding(rep, check, name)
		if err != nil {
			return err
		}
		if f.Result != want {
			return fmt.Errorf("%s (exception %q)", f.Result, f.Exception)
		}
		return nil
	})
}

// refusedBy asserts that err is the API server refusing a write with a message holding want.
func refusedBy(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: the API server accepted it", what)
		return
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: want a refusal saying %q, got %v", what, want, err)
	}
}

// TestApprovalSeparatesDuties is attack 1's variants: the tenant cannot approve their own
// exception, approve it in someone else's name, choose its recorded requester, or keep an
// approval across an edit; a reviewer bound to the approver role can approve it.
func TestApprovalSeparatesDuties(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "approval", nil)
	if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultFail)

	ex := credentialsException(tn.Namespace)
	ex.Spec.RequestedBy = "someone-else@example.com"
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if ex.Spec.RequestedBy != tn.User {
		t.Errorf("spec.requestedBy = %q after the tenant wrote another name, want the API server's %q", ex.Spec.RequestedBy, tn.User)
	}
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultFail)

	approve := func(c client.Client, approvedBy string) error {
		cur := &v1alpha1.ControlException{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
			return err
		}
		patch := client.MergeFrom(cur.DeepCopy())
		cur.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: approvedBy}
		return c.Patch(ctx, cur, patch)
	}
	refusedBy(t, "the tenant approves their own exception", approve(tn.Client, tn.User),
		tn.User+" requested this exception (spec.requestedBy) and cannot approve it")
	reviewer, reviewerName := tn.approver(t)
	refusedBy(t, "the tenant writes the reviewer's name", approve(tn.Client, reviewerName),
		"approval.approvedBy must be your own user name ("+tn.User+"), not "+reviewerName)

	// Changing the recorded requester alone is undone by the API server.
	cur := &v1alpha1.ControlException{}
	if err := tn.Client.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Spec.RequestedBy = reviewerName
	if err := tn.Client.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	if cur.Spec.RequestedBy != tn.User {
		t.Errorf("spec.requestedBy = %q after the tenant rewrote it, want %q", cur.Spec.RequestedBy, tn.User)
	}

	// Another namespace admin is no approver either.
	other := newTenant(t, "approval-other", nil)
	refusedBy(t, "another tenant approves", approve(other.Client, other.User), "is forbidden")

	// The reviewer approves: the finding is Excepted, and the status records who and when.
	if err := approve(reviewer, reviewerName); err != nil {
		t.Fatalf("the reviewer bound to the approver role approves: %v", err)
	}
	got, _ := tn.waitJudged(t, ex.Name, v1alpha1.ExceptionActive)
	if got.Status.ApprovedBy != reviewerName || got.Status.ApprovedAt == nil {
		t.Errorf("status approvedBy %q at %v, want %q and a time", got.Status.ApprovedBy, got.Status.ApprovedAt, reviewerName)
	}
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultExcepted)

	// An edit by the tenant (a wider match) voids the approval: the finding fails again.
	if err := tn.Client.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
		t.Fatal(err)
	}
	patch = client.MergeFrom(cur.DeepCopy())
	cur.Spec.Match.Names = []string{"*"}
	if err := tn.Client.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	if cur.Approval != nil {
		t.Errorf("the approval survived an edit of the spec: %+v", cur.Approval)
	}
	got, _ = tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)
	if got.Status.ApprovedBy != "" || got.Status.ApprovedAt != nil {
		t.Errorf("status still records the voided approval: %q at %v", got.Status.ApprovedBy, got.Status.ApprovedAt)
	}
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultFail)

	// The reviewer cannot edit and approve in one write either.
	if err := reviewer.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
		t.Fatal(err)
	}
	patch = client.MergeFrom(cur.DeepCopy())
	cur.Spec.Reason = "Moving the password to a Secret this sprint; reviewed."
	cur.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: reviewerName}
	if err := reviewer.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	if cur.Approval != nil || cur.Spec.RequestedBy != reviewerName {
		t.Errorf("an edit with an approval in the same write: approval %+v, requestedBy %q; want no approval and the reviewer as requester",
			cur.Approval, cur.Spec.RequestedBy)
	}
	// ... and, now the requester, cannot approve their own edit.
	refusedBy(t, "the reviewer approves their own edit", approve(reviewer, reviewerName), "cannot approve it")
}

// TestTenantCannotMakeThemselvesAnApprover: a namespace admin may bind roles in their namespace,
// but not one that grants `approve`, which they do not hold (RBAC escalation prevention).
func TestTenantCannotMakeThemselvesAnApprover(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "escalate", nil)
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "self-approver", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "controlexception-approver-role"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tn.User}},
	}
	refusedBy(t, "binding the approver role to themselves", tn.Client.Create(ctx, rb), "is attempting to grant RBAC permissions not currently held")
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "approve", Namespace: tn.Namespace},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"controlexceptions/approval"}, Verbs: []string{"approve"}}},
	}
	refusedBy(t, "writing a Role that grants approve", tn.Client.Create(ctx, role), "is attempting to grant RBAC permissions not currently held")
	// The premise: the tenant can bind roles they hold.
	view := rb.DeepCopy()
	view.Name, view.RoleRef.Name = "viewer", "compliance-viewer-role"
	if err := tn.Client.Create(ctx, view); err != nil {
		t.Errorf("the tenant cannot bind a role they hold, so the refusal above proves nothing: %v", err)
	}
}

// TestEveryVerbOnExceptionsIsNoApproval: installed through OLM, the operator's OperatorGroup
// aggregates every verb on the CRDs it owns into admin (ClusterRole
// controlexceptions.compliance.soc2-operator.io-v1alpha1-admin, verbs ["*"]), which every
// namespace admin holds. "*" is not `approve`: the tenant binds that role, which they hold, to a
// ServiceAccount of their namespace (whose tokens they may mint, and as which they may act), and
// that ServiceAccount approving the tenant's own request is refused, as the tenant approving it
// is. (envtest runs no aggregation controller: the tenant holds the role through a binding of
// its own, as they would through admin.)
func TestEveryVerbOnExceptionsIsNoApproval(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "olm-admin", nil)
	olmAdmin := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "controlexceptions.compliance.soc2-operator.io-v1alpha1-admin",
			Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-admin": "true", "olm.opgroup.permissions/aggregate-to-admin": "global-operators"}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"controlexceptions"}, Verbs: []string{"*"}}},
	}
	if err := platform.Create(ctx, olmAdmin); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	holds := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-olm-admin", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: olmAdmin.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tn.User}},
	}
	if err := platform.Create(ctx, holds); err != nil {
		t.Fatal(err)
	}
	if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := tn.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: tn.Namespace}}); err != nil {
		t.Fatal(err)
	}
	bot := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bot-olm-admin", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: olmAdmin.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "bot", Namespace: tn.Namespace}},
	}
	if err := tn.Client.Create(ctx, bot); err != nil {
		t.Fatalf("the tenant binds a role they hold to their ServiceAccount: %v", err)
	}
	botUser := "system:serviceaccount:" + tn.Namespace + ":bot"
	botClient, _ := impersonate(t, botUser, "system:serviceaccounts", "system:serviceaccounts:"+tn.Namespace)
	refusedBy(t, "the tenant's ServiceAccount, holding every verb on controlexceptions, approves the tenant's request",
		testenv.Approve(ctx, botClient, botUser, client.ObjectKeyFromObject(ex)), "may not approve")
}

// TestExceptionPolicyLimitsWaivers: by default an approved exception does not waive a Critical
// finding; a profile that allows only the operator's namespace ignores tenant exceptions.
func TestExceptionPolicyLimitsWaivers(t *testing.T) {
	ctx := context.Background()
	t.Run("Critical findings are not waived by default", func(t *testing.T) {
		tn := newTenant(t, "no-critical", nil)
		if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
			t.Fatal(err)
		}
		ex := selfExemption(tn.Namespace, "privileged")
		ex.Spec.Criteria, ex.Spec.Checks = nil, []string{"wl-privileged"}
		if err := tn.Client.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		tn.approve(t, ex.Name)
		got, rep := tn.waitJudged(t, ex.Name, v1alpha1.ExceptionActive)
		if !strings.Contains(got.Status.Message, "does not waive Critical findings") {
			t.Errorf("the exception's message does not say it waives no Critical finding: %q", got.Status.Message)
		}
		if f, err := checkFinding(rep, "wl-privileged", "web"); err != nil || f.Result != v1alpha1.ResultFail {
			t.Errorf("wl-privileged on web after an approved exception: %+v %v, want Fail", f, err)
		}
		if rep.Status.Result != v1alpha1.NonCompliant {
			t.Errorf("report %s, want NonCompliant", rep.Status.Result)
		}
	})
	t.Run("tenant exceptions are ignored where the profile allows only the operator's namespace", func(t *testing.T) {
		no := false
		tn := newTenant(t, "admin-only", func(p *v1alpha1.ComplianceProfile) {
			p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{AllowTenantExceptions: &no}
		})
		if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
			t.Fatal(err)
		}
		ex := credentialsException(tn.Namespace)
		if err := tn.Client.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		tn.approve(t, ex.Name)
		got, rep := tn.waitJudged(t, ex.Name, v1alpha1.ExceptionInvalid)
		if !strings.Contains(got.Status.Message, "honours exceptions only in the operator's namespace") {
			t.Errorf("message %q does not say why", got.Status.Message)
		}
		if f, err := checkFinding(rep, "sec-literal-env-credentials", "api"); err != nil || f.Result != v1alpha1.ResultFail {
			t.Errorf("finding %+v %v, want Fail", f, err)
		}
	})
}

// TestAProfileElsewhereDoesNotMakeAnExceptionActive: a profile that does not assess the
// tenant's namespace, and honours exceptions without approval, must not make the tenant's
// unapproved exception read Active (`kubectl get cexc` would show a waiver an auditor trusts,
// while the report, under the only profile that assesses the namespace, waives nothing).
func TestAProfileElsewhereDoesNotMakeAnExceptionActive(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "elsewhere", nil)
	no := false
	lenient := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "lenient-" + tn.Namespace},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"lenient-" + tn.Namespace: "true"}},
			ExceptionPolicy:   &v1alpha1.ExceptionPolicy{RequireApproval: &no},
		},
	}
	if err := platform.Create(ctx, lenient); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = platform.Delete(context.Background(), lenient) })
	if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	got, rep := tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)
	if strings.Contains(got.Status.Message, lenient.Name) || !strings.Contains(got.Status.Message, tn.Profile) {
		t.Errorf("message %q: want it pending under %s only", got.Status.Message, tn.Profile)
	}
	if f, err := checkFinding(rep, "sec-literal-env-credentials", "api"); err != nil || f.Result != v1alpha1.ResultFail {
		t.Errorf("finding %+v %v, want Fail", f, err)
	}

	// Once the lenient profile assesses the namespace too, it honours the exception there (its
	// own report waives the finding); when it stops, the exception is pending again at once,
	// not at its next hourly re-check.
	label := func(on bool) {
		t.Helper()
		ns := &corev1.Namespace{}
		if err := platform.Get(ctx, types.NamespacedName{Name: tn.Namespace}, ns); err != nil {
			t.Fatal(err)
		}
		if on {
			ns.Labels[lenient.Name] = "true"
		} else {
			delete(ns.Labels, lenient.Name)
		}
		if err := platform.Update(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	label(true)
	testenv.Eventually(t, 30*time.Second, "the exception Active under "+lenient.Name, func() error {
		if err := platform.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State != v1alpha1.ExceptionActive || !strings.Contains(got.Status.Message, lenient.Name) {
			return fmt.Errorf("state %q (%s)", got.Status.State, got.Status.Message)
		}
		return nil
	})
	label(false)
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)

	// A namespace only the lenient profile assesses: when it stops (the label goes), no profile
	// evaluates the namespace any more, and its exception must still stop reading Active.
	only := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-" + lenient.Name, Labels: map[string]string{lenient.Name: "true"}}}
	if err := platform.Create(ctx, only); err != nil {
		t.Fatal(err)
	}
	if err := platform.Create(ctx, credentialsDeployment(only.Name, "api")); err != nil {
		t.Fatal(err)
	}
	onlyEx := credentialsException(only.Name)
	if err := platform.Create(ctx, onlyEx); err != nil {
		t.Fatal(err)
	}
	exceptionIs := func(want v1alpha1.ExceptionState, says string) {
		t.Helper()
		testenv.Eventually(t, 30*time.Second, fmt.Sprintf("exception %s/%s %s, saying %q", only.Name, onlyEx.Name, want, says), func() error {
			got := &v1alpha1.ControlException{}
			if err := platform.Get(ctx, client.ObjectKeyFromObject(onlyEx), got); err != nil {
				return err
			}
			if got.Status.State != want || !strings.Contains(got.Status.Message, says) {
				return fmt.Errorf("state %q (%s)", got.Status.State, got.Status.Message)
			}
			return nil
		})
	}
	exceptionIs(v1alpha1.ExceptionActive, "for profiles "+lenient.Name)
	if err := platform.Get(ctx, client.ObjectKeyFromObject(only), only); err != nil {
		t.Fatal(err)
	}
	delete(only.Labels, lenient.Name)
	if err := platform.Update(ctx, only); err != nil {
		t.Fatal(err)
	}
	exceptionIs(v1alpha1.ExceptionPendingApproval, "No ComplianceProfile it applies to assesses namespace "+only.Name)
}

// TestMissingPoliciesAreNotTrusted: with a policy binding deleted (by a cluster admin, on a
// cluster whose policies are applied through GitOps), approvals are not trusted and profiles
// that require approval say so; when the binding is back, they count again.
func TestMissingPoliciesAreNotTrusted(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "unenforced", nil)
	if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	tn.approve(t, ex.Name)
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionActive)
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultExcepted)

	restore := removeApprovalBinding(t)

	tn.profileReady(t, metav1.ConditionFalse, v1alpha1.ReasonApprovalNotEnforced)
	got, _ := tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)
	if !strings.Contains(got.Status.Message, "is not trusted") {
		t.Errorf("the exception's message does not say its approval is not trusted: %q", got.Status.Message)
	}
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultFail)

	restore()
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionActive)
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultExcepted)
}

// TestApprovalWrittenWithoutThePoliciesIsNeverTrusted: while a cluster admin has the approval
// policy's binding removed, the tenant writes an approval in the reviewer's name (nothing stops
// it then). When the binding is back, that approval still counts for nothing: the reviewer must
// approve again.
func TestApprovalWrittenWithoutThePoliciesIsNeverTrusted(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "gap", nil)
	if err := tn.Client.Create(ctx, credentialsDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionPendingApproval)
	reviewer, reviewerName := tn.approver(t)

	restore := removeApprovalBinding(t)
	tn.profileReady(t, metav1.ConditionFalse, v1alpha1.ReasonApprovalNotEnforced)

	// The forgery goes through while the binding is gone (the API server stops applying it a
	// moment after the delete).
	testenv.Eventually(t, 30*time.Second, "the tenant writes an approval in the reviewer's name", func() error {
		cur := &v1alpha1.ControlException{}
		if err := tn.Client.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
			return err
		}
		patch := client.MergeFrom(cur.DeepCopy())
		cur.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: reviewerName}
		return tn.Client.Patch(ctx, cur, patch)
	})
	testenv.Eventually(t, 30*time.Second, "the operator notes an approval it could not verify", func() error {
		cur := &v1alpha1.ControlException{}
		if err := platform.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
			return err
		}
		if cur.Status.UnverifiedApprovalGeneration != cur.Generation {
			return fmt.Errorf("unverifiedApprovalGeneration %d, generation %d", cur.Status.UnverifiedApprovalGeneration, cur.Generation)
		}
		return nil
	})

	restore()
	tn.profileReady(t, metav1.ConditionTrue, v1alpha1.ReasonEvaluated)
	// The exception is judged again once the policies are back; until then its message may
	// still name the missing binding.
	testenv.Eventually(t, 30*time.Second, "the exception says why its approval is not trusted", func() error {
		got := &v1alpha1.ControlException{}
		if err := platform.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State != v1alpha1.ExceptionPendingApproval {
			return fmt.Errorf("state %q, want %q", got.Status.State, v1alpha1.ExceptionPendingApproval)
		}
		if !strings.Contains(got.Status.Message, "it was written before the operator had confirmed that the admission policies that check approvals were in force") {
			return fmt.Errorf("message %q does not say why the approval is not trusted", got.Status.Message)
		}
		return nil
	})
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultFail)

	// The reviewer approves for real: remove the approval, approve again.
	cur := &v1alpha1.ControlException{}
	if err := reviewer.Get(ctx, client.ObjectKeyFromObject(ex), cur); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(cur.DeepCopy())
	cur.Approval = nil
	if err := reviewer.Patch(ctx, cur, patch); err != nil {
		t.Fatal(err)
	}
	tn.approve(t, ex.Name)
	tn.waitJudged(t, ex.Name, v1alpha1.ExceptionActive)
	tn.findingIs(t, "sec-literal-env-credentials", "api", v1alpha1.ResultExcepted)
}

// profileReady waits until the tenant's profile has Ready=status with reason; while approvals
// are not enforced its message must name the missing binding.
func (tn *tenant) profileReady(t *testing.T, status metav1.ConditionStatus, reason string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("profile Ready=%s %s", status, reason), func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := platform.Get(ctx, types.NamespacedName{Name: tn.Profile}, p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("Ready %+v", c)
		}
		if status == metav1.ConditionFalse && !strings.Contains(c.Message, "ValidatingAdmissionPolicyBinding "+admissionpolicy.ExceptionApproval+" is missing") {
			return fmt.Errorf("the message does not name the missing binding: %s", c.Message)
		}
		return nil
	})
}

// removeApprovalBinding deletes the approval policy's binding, as a cluster admin might, and
// returns a func that puts the operator's policies back; it runs at the end of the test too,
// and only once.
func removeApprovalBinding(t *testing.T) (restore func()) {
	t.Helper()
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	binding.Name = admissionpolicy.ExceptionApproval
	if err := platform.Delete(context.Background(), binding); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if err := applyAdmissionPolicies(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}

// TestTenantCannotWriteWhatAnApprovalCovers: what an approval covers is recorded in the
// exception's status (status.approvedCoveredDigest, the condition CoveredChangedSinceApproval),
// which says when the tenant has moved an approved waiver onto other workloads. The tenant, a
// namespace admin who also holds every verb on controlexceptions (as OLM aggregates into
// admin), can neither write it through the status subresource nor through the object.
func TestTenantCannotWriteWhatAnApprovalCovers(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "covered-forge", nil)
	olmAdmin := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "controlexceptions.compliance.soc2-operator.io-v1alpha1-admin",
			Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-admin": "true", "olm.opgroup.permissions/aggregate-to-admin": "global-operators"}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"controlexceptions"}, Verbs: []string{"*"}}},
	}
	if err := platform.Create(ctx, olmAdmin); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := platform.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-olm-admin", Namespace: tn.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: olmAdmin.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tn.User}},
	}); err != nil {
		t.Fatal(err)
	}
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	forged := []byte(`{"status":{"approvedCoveredDigest":"sha256:0123456789abcdef","conditions":[]}}`)
	err := tn.Client.Status().Patch(ctx, ex, client.RawPatch(types.MergePatchType, forged))
	if !apierrors.IsForbidden(err) {
		t.Errorf("the tenant writes the exception's status.approvedCoveredDigest: want Forbidden, got %v", err)
	}
	if err := tn.Client.Patch(ctx, ex, client.RawPatch(types.MergePatchType, forged)); err != nil {
		t.Fatalf("patching the exception (the status part is ignored): %v", err)
	}
	got := &v1alpha1.ControlException{}
	if err := platform.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ApprovedCoveredDigest != "" {
		t.Errorf("a write of the object set status.approvedCoveredDigest to %q", got.Status.ApprovedCoveredDigest)
	}
}

// TestTenantCannotWriteWhatAPendingExceptionWouldCoverOrPinIt: a pending exception's
// status.wouldCoverDigest shows the approver what they approve, and approval.coveredDigest pins
// it. The tenant, a namespace admin who also holds every verb on controlexceptions, can write
// neither: the first is status; the second is part of the approval, which the API server
// refuses from anyone but an approver, even on an exception an approver has approved.
func TestTenantCannotWriteWhatAPendingExceptionWouldCoverOrPinIt(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "would-forge", nil)
	ex := credentialsException(tn.Namespace)
	if err := tn.Client.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	forged := []byte(`{"status":{"wouldCover":0,"wouldCoverDigest":"none"}}`)
	if err := tn.Client.Status().Patch(ctx, ex, client.RawPatch(types.MergePatchType, forged)); !apierrors.IsForbidden(err) {
		t.Errorf("the tenant writes the exception's status.wouldCoverDigest: want Forbidden, got %v", err)
	}
	tn.approve(t, ex.Name)
	pin := []byte(`{"approval":{"coveredDigest":"none"}}`)
	// A test before this one may have just put the policies back (removeApprovalBinding), which
	// the API server enforces a moment later: wait for a dry run to be refused first.
	testenv.Eventually(t, 30*time.Second, "the approval policy refusing the tenant's dry run", func() error {
		if err := tn.Client.Patch(ctx, ex.DeepCopy(), client.RawPatch(types.MergePatchType, pin), client.DryRunAll); err == nil {
			return errors.New("the dry run was admitted")
		}
		return nil
	})
	if err := tn.Client.Patch(ctx, ex, client.RawPatch(types.MergePatchType, pin)); err == nil || !strings.Contains(err.Error(), "approval") {
		t.Errorf("the tenant pinned the approval of its exception: want the approval policy's refusal, got %v", err)
	}
	got := &v1alpha1.ControlException{}
	if err := platform.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
		t.Fatal(err)
	}
	if got.Approval == nil || got.Approval.CoveredDigest != "" {
		t.Errorf("after the tenant's attempt the approval is %+v", got.Approval)
	}
}

package v1alpha1_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/report"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestKubectlGetShowsAReportThatIsNotReady: a report evaluated without some kinds (the operator
// may not list NetworkPolicies) says Ready=False, KindsUnreadable, and its Compliant rests on
// the rest. `kubectl get compliancereports -A` printed its STATUS Compliant and STALE False, as
// a complete report's, with no column for its Ready condition (the profiles' table has one).
// The API server's Table, which kubectl prints, must show it.
func TestKubectlGetShowsAReportThatIsNotReady(t *testing.T) {
	ctx := context.Background()
	c := printedClient(t)
	ensureNamespace(t, c, "printed")
	rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "printed", Name: "soc2-baseline"},
		Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
	if err := c.Create(ctx, rep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, rep) })
	now := metav1.Now()
	rep.Status.Result = v1alpha1.Compliant
	rep.Status.LastEvaluated = &now
	rep.Status.Conditions = []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonKindsUnreadable, LastTransitionTime: now,
			Message: "Evaluated 3 resources against profile soc2-baseline, not all of it: the operator may not list NetworkPolicy"},
		{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate, LastTransitionTime: now, Message: "current"},
	}
	if err := c.Status().Update(ctx, rep); err != nil {
		t.Fatal(err)
	}

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	// What kubectl get asks for: the server prints the CRD's additionalPrinterColumns.
	err = cs.CoreV1().RESTClient().Get().AbsPath("/apis", v1alpha1.GroupVersion.Group, v1alpha1.GroupVersion.Version, "namespaces", "printed", "compliancereports").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(ctx).Into(table)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if col.Priority == 0 { // shown without -o wide
			cells[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	if cells["Status"] != "Compliant" || cells["Ready"] != "False" {
		t.Errorf("kubectl get compliancereports prints %v for a Compliant report that is Ready=False, KindsUnreadable; want Ready False beside Status Compliant", cells)
	}
}

// TestKubectlGetCountsAProfilesClusterFindingsAsAReportDoes: `kubectl get complianceprofiles`
// printed Cluster-Findings as the failing and the excepted findings on cluster-scoped objects
// together, while `kubectl get compliancereports` prints Findings (failing only) and Excepted
// apart. A profile whose every cluster-scoped finding an approved exception waives read
// "Cluster-Findings 2" beside "Status Compliant": an auditor reads two open findings. The
// profile's status, as the operator builds it, must print the failing ones under
// Cluster-Findings and the excepted ones under Cluster-Excepted.
func TestKubectlGetCountsAProfilesClusterFindingsAsAReportDoes(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "cluster-waived-printed"},
		Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}}}
	if err := c.Create(ctx, profile); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, profile) })
	// Two ClusterRoleBindings of cluster-admin, both waived by one approved exception of the
	// operator's namespace that lists "*", judged by the engine as the operator judges them.
	clusterAdmin := &engine.Check{ID: "test-cluster-admin", Title: "cluster-admin", Severity: v1alpha1.SeverityCritical,
		Criteria: []v1alpha1.Criterion{"CC6.3"}, Targets: []string{"ClusterRoleBinding"},
		Evaluate: func(ctx *engine.Context, _ *engine.Object) { ctx.Fail("", "binds cluster-admin") }}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var objs []*engine.Object
	for _, name := range []string{"break-glass-a", "break-glass-b"} {
		objs = append(objs, engine.NewObject(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}}, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding"))
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "break-glass", Namespace: engine.DefaultAdminNamespace, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{clusterAdmin.ID}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"*"}},
			Reason: "sealed break-glass accounts", Owner: "security@example.com", Expires: metav1.NewTime(now.Add(24 * time.Hour)), RequestedBy: "alice@example.com"},
		Approval: &v1alpha1.ExceptionApproval{ApprovedBy: "bob@example.com"},
	}
	plan := engine.Compile([]*engine.Check{clusterAdmin}, profile)
	cluster := plan.Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex},
		engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced}).Summary("")
	if cluster.State != v1alpha1.Compliant || cluster.Excepted != 2 {
		t.Fatalf("the cluster-scoped objects are %s with %d findings excepted; the test needs both waived", cluster.State, cluster.Excepted)
	}
	profile.Status = report.ProfileStatus(report.ProfileInput{Plan: plan, Total: cluster, Cluster: cluster, Generation: profile.Generation, Now: now})
	if err := c.Status().Update(ctx, profile); err != nil {
		t.Fatal(err)
	}

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	err = cs.CoreV1().RESTClient().Get().AbsPath("/apis", v1alpha1.GroupVersion.Group, v1alpha1.GroupVersion.Version, "complianceprofiles", profile.Name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(ctx).Into(table)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if col.Priority == 0 {
			cells[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	if cells["Status"] != "Compliant" || cells["Cluster-Findings"] != "0" || cells["Cluster-Excepted"] != "2" {
		t.Errorf("kubectl get complianceprofiles prints %v for a Compliant profile whose 2 cluster-scoped findings are excepted; want Cluster-Findings 0 and Cluster-Excepted 2", cells)
	}
}

// TestKubectlGetWideShowsAReportsUnreadFindings (real kubectl): a namespace whose only problem
// is a resource the operator did not read all of (its criterion fails closed) printed Status
// NonCompliant, Failed-Criteria 1 and Findings 0 (summary.failing), and nothing said why: an
// auditor reads a contradiction. The report, as the operator builds it from an evaluation,
// counts the unread result in summary.unread, which `kubectl get compliancereports -o wide`
// prints as Unread; the narrow view, which prints no column only some reports need, keeps its
// columns.
func TestKubectlGetWideShowsAReportsUnreadFindings(t *testing.T) {
	ctx := context.Background()
	c := printedClient(t)
	const ns = "printed-unread"
	ensureNamespace(t, c, ns)
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "printed-unread"}}
	// A credential check that could not read all of the Deployment's env (Result.Unread), as
	// the engine judges it for the operator.
	padded := &engine.Check{ID: "test-literal-credentials", Title: "literal credentials", Severity: v1alpha1.SeverityHigh,
		Criteria: []v1alpha1.Criterion{"CC6.1"}, Targets: []string{"Deployment"},
		Evaluate: func(ctx *engine.Context, _ *engine.Object) {
			ctx.Unread("app", "env NOTES (256 KiB) not read for literal credentials")
		}}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	plan := engine.Compile([]*engine.Check{padded}, profile)
	objs := []*engine.Object{engine.NewObject(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hidden"}}, "apps/v1", "Deployment")}
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace})
	rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile.Name},
		Spec: v1alpha1.ComplianceReportSpec{Profile: profile.Name}}
	if err := c.Create(ctx, rep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, rep) })
	rep.Status = report.NamespaceStatus(report.NamespaceInput{Evaluation: ev, Namespace: ns, Now: now})
	if rep.Status.Result != v1alpha1.NonCompliant || rep.Status.Summary.Failing != 0 {
		t.Fatalf("the report is %s with %d failing findings; the test needs NonCompliant on an unread result alone", rep.Status.Result, rep.Status.Summary.Failing)
	}
	if err := c.Status().Update(ctx, rep); err != nil {
		t.Fatal(err)
	}

	kubectl, err := testenv.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := testenv.AdminKubeconfig(testEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// printed runs kubectl get compliancereports in ns and returns its one row by column.
	printed := func(args ...string) map[string]string {
		t.Helper()
		out, err := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig, "get", "compliancereports", "-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get compliancereports %v: %v: %s", args, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 {
			t.Fatalf("kubectl printed %d lines, want a header and one row:\n%s", len(lines), out)
		}
		header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
		if len(header) != len(row) {
			t.Fatalf("kubectl printed %d columns and %d cells:\n%s", len(header), len(row), out)
		}
		cells := map[string]string{}
		for i, h := range header {
			cells[h] = row[i]
		}
		return cells
	}
	wide := printed("-o", "wide")
	if wide["STATUS"] != "NonCompliant" || wide["FAILED-CRITERIA"] != "1" || wide["FINDINGS"] != "0" || wide["UNREAD"] != "1" {
		t.Errorf("kubectl get compliancereports -o wide prints %v for a report NonCompliant on one unread result; want FAILED-CRITERIA 1, FINDINGS 0 and UNREAD 1", wide)
	}
	narrow := printed()
	if _, shown := narrow["UNREAD"]; shown || narrow["STATUS"] != "NonCompliant" || narrow["FINDINGS"] != "0" {
		t.Errorf("kubectl get compliancereports prints %v; want the columns it printed before, UNREAD only with -o wide", narrow)
	}
}

// printedClient is a client of the test's API server for the core kinds (the namespaces the
// reports are printed in) and the operator's.
func printedClient(t *testing.T) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

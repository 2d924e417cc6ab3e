package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// cleanVulnerabilityReport is the report Trivy Operator keeps for container app of Deployment
// web (through its ReplicaSet in a cluster that runs one; envtest runs no controllers), dated
// now by the operator's clock: no vulnerability at all.
func cleanVulnerabilityReport(ns string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"report": map[string]any{
			"updateTimestamp": clk.Now().UTC().Format(time.RFC3339),
			"artifact":        map[string]any{"repository": "app", "tag": "1.0.0"},
			"registry":        map[string]any{"server": "registry.example.com"},
			"scanner":         map[string]any{"name": "Trivy", "vendor": "Aqua Security", "version": "0.65.0"},
			"summary":         map[string]any{"criticalCount": int64(0), "highCount": int64(0), "mediumCount": int64(0), "lowCount": int64(0), "unknownCount": int64(0)},
			"vulnerabilities": []any{},
		},
	}}
	u.SetAPIVersion("aquasecurity.github.io/v1alpha1")
	u.SetKind("VulnerabilityReport")
	u.SetNamespace(ns)
	u.SetName("deployment-web-app")
	u.SetLabels(map[string]string{
		"trivy-operator.container.name":     "app",
		"trivy-operator.resource.kind":      "Deployment",
		"trivy-operator.resource.name":      "web",
		"trivy-operator.resource.namespace": ns,
	})
	return u
}

// TestATrivyReportTheNamespaceMayWriteIsNoEvidence: where a role held in the namespace lets its
// users write VulnerabilityReports (as Trivy Operator's chart does for admin and edit when it
// aggregates write access to its reports into them, and OLM does for admin), alice writes the
// clean report of her own Deployment's image herself, labelled as Trivy Operator labels it; the
// operator does not take it for a scan: img-critical-cves is unassessed there (CC7.1's
// unassessedChecks), while the same report in a namespace whose users may only read reports
// passes the container.
func TestATrivyReportTheNamespaceMayWriteIsNoEvidence(t *testing.T) {
	ctx := context.Background()
	for _, ns := range []string{"trivy-scanned", "trivy-forged"} {
		createNamespace(t, ns, map[string]string{"trivy": "true"})
		if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := k8s.Create(ctx, cleanVulnerabilityReport("trivy-scanned")); err != nil {
		t.Fatal(err)
	}
	writer := &rbacv1.ClusterRole{ObjectMeta: objectMeta("trivy-test-aggregate-reports-edit"),
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"aquasecurity.github.io"}, Resources: []string{"vulnerabilityreports"},
			Verbs: []string{"create", "delete", "deletecollection", "patch", "update"}}}}
	if err := k8s.Create(ctx, writer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), writer) })
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "trivy-forged", Name: "alice-reports"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: writer.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "alice"}}}
	if err := k8s.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	aliceConfig := rest.CopyConfig(cfg)
	aliceConfig.Impersonate = rest.ImpersonationConfig{UserName: "alice"}
	alice, err := client.New(aliceConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Create(ctx, cleanVulnerabilityReport("trivy-forged")); err != nil {
		t.Fatalf("alice writes the report of her own image: %v", err)
	}

	createProfile(t, "trivy", "trivy", nil)
	cc71 := func(ns string) (v1alpha1.CriterionStatus, error) {
		rep, err := getReport(ns, "trivy")
		if err != nil {
			return v1alpha1.CriterionStatus{}, err
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "CC7.1" {
				return c, nil
			}
		}
		return v1alpha1.CriterionStatus{}, fmt.Errorf("report %s/trivy has no CC7.1 yet", ns)
	}
	eventually(t, 20*time.Second, "img-critical-cves assessed on the scanner's report, not on alice's", func() error {
		scanned, err := cc71("trivy-scanned")
		if err != nil {
			return err
		}
		forged, err := cc71("trivy-forged")
		if err != nil {
			return err
		}
		if scanned.UnassessedChecks != 0 || forged.UnassessedChecks != 1 {
			return fmt.Errorf("CC7.1 unassessedChecks: %d in trivy-scanned (want 0: the report passes the container), %d in trivy-forged (want 1: img-critical-cves, on a report alice may have written)",
				scanned.UnassessedChecks, forged.UnassessedChecks)
		}
		return nil
	})
}

// TestTrivyOperatorsOwnNamespaceIsAssessed: in the namespace Trivy Operator runs in, its
// ServiceAccount writes every report through the chart's ClusterRoleBinding, and the chart's
// only RoleBinding there binds that ServiceAccount itself (leader election): nobody of the
// namespace may act as it, and its clean report of a Deployment's image there passes the
// container (CC7.1 unassessedChecks 0). Once RoleBinding ops lets bob run pods there, which may
// run as that ServiceAccount, the report is no evidence (unassessedChecks 1).
func TestTrivyOperatorsOwnNamespaceIsAssessed(t *testing.T) {
	ctx := context.Background()
	const ns = "trivy-own"
	createNamespace(t, ns, map[string]string{"trivy-own": "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", false)); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Create(ctx, cleanVulnerabilityReport(ns)); err != nil {
		t.Fatal(err)
	}
	scanner := &rbacv1.ClusterRole{ObjectMeta: objectMeta("trivy-own-operator"),
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"aquasecurity.github.io"}, Resources: []string{"vulnerabilityreports"},
			Verbs: []string{"get", "list", "watch", "create", "update", "delete"}}}}
	scannerBinding := &rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("trivy-own-operator"),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: scanner.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "trivy-operator", Namespace: ns}}}
	leader := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "trivy-operator-leader-election"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create", "get", "update"}}}}
	leaderBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "trivy-operator-leader-election"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: leader.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "trivy-operator", Namespace: ns}}}
	for _, o := range []client.Object{scanner, scannerBinding, leader, leaderBinding} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), scannerBinding)
		_ = k8s.Delete(context.Background(), scanner)
	})

	createProfile(t, "trivy-own", "trivy-own", nil)
	unassessed := func(want int32, why string) {
		t.Helper()
		eventually(t, 20*time.Second, why, func() error {
			rep, err := getReport(ns, "trivy-own")
			if err != nil {
				return err
			}
			for _, c := range rep.Status.Criteria {
				if c.ID == "CC7.1" {
					if c.UnassessedChecks != want {
						return fmt.Errorf("CC7.1 unassessedChecks %d, want %d", c.UnassessedChecks, want)
					}
					return nil
				}
			}
			return fmt.Errorf("report %s/trivy-own has no CC7.1 yet", ns)
		})
	}
	unassessed(0, "the scanner's report passes the container in the scanner's own namespace")

	ops := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ops"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "bob"}}}
	if err := k8s.Create(ctx, ops); err != nil {
		t.Fatal(err)
	}
	unassessed(1, "bob may run pods as the scanner's ServiceAccount: its report is no evidence")
}

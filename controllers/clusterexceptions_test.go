package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestTheProfileSaysWhoWaivedAClusterScopedFinding: a finding on a cluster-scoped object that an
// exception of the operator's namespace waives ("*") is listed on the profile marked Excepted
// with the exception's name, and the profile must say, as a report does for its namespace's
// findings, what that exception is: its state, owner, reason, requester, approver and expiry,
// and how many findings it covers. The profile's status named the exception and nothing else,
// and no report lists it with those findings, so the auditor reading a ClusterRoleBinding
// that binds cluster-admin read "Excepted by soc2-operator-system/..." with nothing to say who
// accepted the risk or until when.
func TestTheProfileSaysWhoWaivedAClusterScopedFinding(t *testing.T) {
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("break-glass-admins"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "break-glass@example.com"}},
	}
	if err := k8s.Create(ctx, crb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), crb) })
	profile := createProfile(t, "cluster-waived", "cluster-waived", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	expires := metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour).Truncate(time.Second))
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "break-glass", Namespace: adminNamespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"rbac-cluster-admin-binding"}, Profiles: []string{profile.Name},
			Match:  v1alpha1.ResourceMatch{Namespaces: []string{"*"}, Kinds: []string{"ClusterRoleBinding"}, Names: []string{crb.Name}},
			Reason: "The break-glass account is sealed in the vault (SEC-12).", Owner: "security@example.com", Expires: expires,
		},
	}
	createApproved(t, ex)
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ex) })
	key := adminNamespace + "/" + ex.Name

	eventually(t, 20*time.Second, "the profile says who waived the ClusterRoleBinding's finding", func() error {
		_, p, err := profileReady(ctx, profile.Name)
		if err != nil {
			return err
		}
		waived := false
		for _, f := range p.Status.ClusterFindings {
			waived = waived || f.Check == "rbac-cluster-admin-binding" && f.Resource.Name == crb.Name && f.Result == v1alpha1.ResultExcepted && f.Exception == key
		}
		if !waived {
			return fmt.Errorf("clusterFindings does not list the binding's finding excepted by %s: %+v", key, p.Status.ClusterFindings)
		}
		for _, u := range p.Status.ClusterExceptions {
			if u.Name != key {
				continue
			}
			if u.State != v1alpha1.ExceptionActive || u.Owner != ex.Spec.Owner || u.Reason != ex.Spec.Reason ||
				u.RequestedBy == "" || u.ApprovedBy != testenv.ApproverName || u.Expires == nil || !u.Expires.Equal(&expires) || u.Findings != 1 {
				return fmt.Errorf("clusterExceptions lists %+v", u)
			}
			if p.Status.ClusterExceptionsTotal < int32(len(p.Status.ClusterExceptions)) {
				return fmt.Errorf("clusterExceptionsTotal is %d, but %d are listed", p.Status.ClusterExceptionsTotal, len(p.Status.ClusterExceptions))
			}
			return nil
		}
		return fmt.Errorf("clusterExceptions does not list %s: %+v", key, p.Status.ClusterExceptions)
	})
}

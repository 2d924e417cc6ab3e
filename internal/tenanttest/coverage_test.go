package tenanttest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestATenantCannotMoveTheirNamespaceOutOfItsProfile: a profile selects namespaces by their
// labels, so a namespace admin who could edit their own Namespace would take it out of the
// profile (its report goes, and the profile counts it no more). Under the built-in roles they
// cannot: Kubernetes' admin, edit and view grant only get, list and watch on namespaces
// (k8s.io/kubernetes v1.37.2 plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), and no
// role the operator ships aggregates more into admin. A cluster that grants tenants more (a
// multi-tenancy add-on letting them label their namespaces) must select on labels they cannot
// set; the profile records a namespace that leaves it (controllers:
// TestANamespaceLeavingAProfileIsRecordedOnTheProfile).
func TestATenantCannotMoveTheirNamespaceOutOfItsProfile(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "coverage", nil)
	ns := &corev1.Namespace{}
	if err := tn.Client.Get(ctx, types.NamespacedName{Name: tn.Namespace}, ns); err != nil {
		t.Fatalf("the tenant cannot read their own namespace: %v", err)
	}
	unlabelled := ns.DeepCopy()
	unlabelled.Labels = map[string]string{"compliance.soc2-operator.io/exclude": "true"}
	refusedBy(t, "relabelling their namespace (patch)", tn.Client.Patch(ctx, unlabelled, client.MergeFrom(ns)), "forbidden")
	refusedBy(t, "relabelling their namespace (update)", tn.Client.Update(ctx, unlabelled), "forbidden")
	refusedBy(t, "deleting their namespace", tn.Client.Delete(ctx, ns.DeepCopy()), "forbidden")
}

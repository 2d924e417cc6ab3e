package webhook_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTheDeploymentControllersReplicaSetWritesUnderEnforce: envtest runs no controller-manager,
// so this makes the two updates the Deployment controller makes of a ReplicaSet it owns
// (k8s.io/kubernetes v1.37.2 pkg/controller/deployment/sync.go), as it makes them: scaleReplicaSet
// (replicas and the desired-replicas and max-replicas annotations, SetReplicasAnnotations) and
// getNewReplicaSet on the ReplicaSet whose template is the Deployment's (the Deployment's
// annotations copied, but kubectl's last-applied-configuration and the controller's own
// (copyDeploymentAnnotationsToReplicaSet), the revision annotations, and the Deployment's
// minReadySeconds). The scale-down is admitted unjudged. The annotation and minReadySeconds
// sync is judged (c2258d5d, 82f4cde2) as the Deployment, whose template explains the
// ReplicaSet: admitted when the Deployment passes, refused naming it when it fails (one admitted
// before its profile enforced, whose own update was judged and refused first unless it was made
// while the webhook could not be reached). The controller then retries; its rollout stops until
// the Deployment is fixed, as it does when a new ReplicaSet of a failing template is refused.
func TestTheDeploymentControllersReplicaSetWritesUnderEnforce(t *testing.T) {
	const ns = "enforce-deployment-controller"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	ctx := context.Background()
	two := int32(2)
	made := func(name string, privileged bool) *appsv1.ReplicaSet {
		d := deployment(ns, name, privileged)
		d.Spec.Replicas = &two
		d.Annotations = map[string]string{"example.com/team": "shop"}
		if err := k.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		rs := replicaSetOf(d, name+"-7c9")
		// What getNewReplicaSet gives a ReplicaSet it creates: the copied annotations, the
		// revision, and the replica annotations (SetNewReplicaSetAnnotations).
		rs.Annotations = map[string]string{"example.com/team": "shop", "deployment.kubernetes.io/revision": "1",
			"deployment.kubernetes.io/desired-replicas": "2", "deployment.kubernetes.io/max-replicas": "3"}
		if err := k.Create(ctx, rs); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	passing, failing := made("web", false), made("agent", true)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	update := func(rs *appsv1.ReplicaSet, change func(r *appsv1.ReplicaSet)) error {
		r := &appsv1.ReplicaSet{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(rs), r); err != nil {
			return err
		}
		change(r)
		return k.Update(ctx, r, client.DryRunAll)
	}
	scaleDown := func(r *appsv1.ReplicaSet) {
		one := int32(1)
		r.Spec.Replicas = &one
		r.Annotations["deployment.kubernetes.io/desired-replicas"] = "1"
		r.Annotations["deployment.kubernetes.io/max-replicas"] = "2"
	}
	syncAnnotations := func(r *appsv1.ReplicaSet) {
		r.Annotations["example.com/team"] = "payments"
		r.Spec.MinReadySeconds = 10
	}
	for _, rs := range []*appsv1.ReplicaSet{passing, failing} {
		if err := update(rs, scaleDown); err != nil {
			t.Errorf("the Deployment controller scaling %s down was denied: %v", rs.Name, err)
		}
	}
	if err := update(passing, syncAnnotations); err != nil {
		t.Errorf("the Deployment controller syncing a passing Deployment's annotations and minReadySeconds was denied: %v", err)
	}
	err := update(failing, syncAnnotations)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") || !strings.Contains(err.Error(), "runs the pod template of Deployment "+ns+"/agent") {
		t.Errorf("syncing a failing Deployment's annotations onto its ReplicaSet: want denied as the Deployment, naming wl-privileged, got %v", err)
	}
}

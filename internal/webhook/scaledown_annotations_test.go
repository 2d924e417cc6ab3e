package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAScaleDownCannotChangeTheAnnotationsACustomCheckReads: an update that scales a ReplicaSet
// down under the controller it names was admitted unjudged whatever it did to the ReplicaSet's
// annotations (but kubectl's last-applied-configuration, 2b193cdd), and one naming a Deployment
// even without scaling. A custom check may read them: here the platform team requires a data
// classification of every ReplicaSet. A namespace admin creates a ReplicaSet classified
// confidential (admitted), names a Rollout or a Deployment whose template does not explain it as
// its controller (the API server checks neither), and in the update that scales it down marks it
// public: the reports, judging the ReplicaSet itself, fail it; the webhook enforcing the check
// admitted it. Only the annotations the controllers' scale path writes may change unjudged.
func TestAScaleDownCannotChangeTheAnnotationsACustomCheckReads(t *testing.T) {
	const ns = "enforce-annotations-scaledown"
	const key = "example.com/data-classification"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-data-classification", Title: "ReplicaSets are classified internal or confidential",
			Kinds: []string{"ReplicaSet"}, Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "has(object.metadata.annotations) && '" + key + "' in object.metadata.annotations && object.metadata.annotations['" + key + "'] in ['internal', 'confidential']"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	three := int32(3)
	d := deployment(ns, "orders", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	replicaSet := func(name string, ref metav1.OwnerReference, class string) *appsv1.ReplicaSet {
		tmpl := d.Spec.Template.DeepCopy()
		tmpl.Labels = map[string]string{"app": "orders", "pod-template-hash": name}
		// Another image than the Deployment's: no template explains it, the ReplicaSet is judged itself.
		tmpl.Spec.Containers[0].Image = "registry.example.com/app:2.0.0"
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "orders-" + name, Namespace: ns, Labels: tmpl.Labels,
				Annotations:     map[string]string{key: class},
				OwnerReferences: []metav1.OwnerReference{ref}},
			Spec: appsv1.ReplicaSetSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: *tmpl},
		}
	}
	rollout := metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "orders",
		UID: "55555555-5555-5555-5555-555555555555", Controller: &yes, BlockOwnerDeletion: &yes}
	ofDeployment := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}
	testenv.Eventually(t, 10*time.Second, "the custom check enforced", func() error {
		if err := k.Create(ctx, replicaSet("probe", rollout, "public"), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-data-classification") {
			return fmt.Errorf("a ReplicaSet classified public: %v", err)
		}
		return nil
	})
	for name, tc := range map[string]struct {
		ref       metav1.OwnerReference
		scaleDown func(r *appsv1.ReplicaSet)
	}{
		"under a Rollout": {ref: rollout, scaleDown: func(r *appsv1.ReplicaSet) {
			one := int32(1)
			r.Spec.Replicas = &one
			r.Annotations["rollout.argoproj.io/desired-replicas"] = "1"
			r.Annotations["scale-down-deadline"] = "2026-12-07T07:00:00Z"
		}},
		"under a Deployment that does not explain it": {ref: ofDeployment, scaleDown: func(r *appsv1.ReplicaSet) {
			one := int32(1)
			r.Spec.Replicas = &one
			r.Annotations["deployment.kubernetes.io/desired-replicas"] = "1"
			r.Annotations["deployment.kubernetes.io/max-replicas"] = "2"
		}},
	} {
		t.Run(name, func(t *testing.T) {
			rs := replicaSet(strings.ToLower(tc.ref.Kind), tc.ref, "confidential")
			if err := k.Create(ctx, rs); err != nil {
				t.Fatal(err)
			}
			update := func(change func(r *appsv1.ReplicaSet)) error {
				r := &appsv1.ReplicaSet{}
				if err := k.Get(ctx, client.ObjectKeyFromObject(rs), r); err != nil {
					return err
				}
				change(r)
				return k.Update(ctx, r, client.DryRunAll)
			}
			if err := update(tc.scaleDown); err != nil {
				t.Errorf("the controller scaling it down was denied: %v", err)
			}
			denied := map[string]func(r *appsv1.ReplicaSet){
				"scaling it down while marking it public": func(r *appsv1.ReplicaSet) {
					tc.scaleDown(r)
					r.Annotations[key] = "public"
				},
				"scaling it down while removing its classification": func(r *appsv1.ReplicaSet) {
					tc.scaleDown(r)
					delete(r.Annotations, key)
				},
				"marking it public alone": func(r *appsv1.ReplicaSet) { r.Annotations[key] = "public" },
			}
			for what, change := range denied {
				if err := update(change); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-data-classification") {
					t.Errorf("%s: want denied naming custom-data-classification, got %v", what, err)
				}
			}
		})
	}
}

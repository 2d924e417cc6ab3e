package webhook_test

import (
	"context"
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestADenialIsConfirmedOnTheObjectAsSubmitted: a denial by a check that reads other objects is
// confirmed by reading the kinds it reads again from the API server. When the admitted object's
// own kind is among them, the API server holds no version of it (a create) or the one it
// replaces (an update): the object must still be judged as submitted, or the confirmation
// admits what the first judgement denied. No built-in check reads a workload kind by name today
// (see TestNoCheckReadsAWorkloadKindByName); this check does.
func TestADenialIsConfirmedOnTheObjectAsSubmitted(t *testing.T) {
	const ns = "enforce-reads-own-kind"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	readsDeployments := &engine.Check{
		ID: "test-reads-deployments", Title: "test", Description: "test", Remediation: "Do not label it verdict=fail.",
		Severity: v1alpha1.SeverityCritical, Criteria: []v1alpha1.Criterion{v1alpha1.Criterion("CC6.1")},
		Targets: []string{engine.KindWorkload}, Reads: []string{"Deployment"},
		Evaluate: func(ctx *engine.Context, o *engine.Object) {
			if o.Obj.GetLabels()["verdict"] == "fail" {
				ctx.Fail("", "labelled verdict=fail")
				return
			}
			ctx.Pass("")
		},
	}
	v, err := validator(k, k)
	if err != nil {
		t.Fatal(err)
	}
	v.Catalogue = []*engine.Check{readsDeployments}

	failing := deployment(ns, "created", false)
	failing.Labels = map[string]string{"verdict": "fail"}
	if resp := v.Handle(ctx, admission.Request{AdmissionRequest: *creatingDeployment(t, failing)}); resp.Allowed {
		t.Errorf("creating a Deployment the check fails: want denied, got allowed")
	}

	stored := deployment(ns, "updated", false)
	if err := k.Create(ctx, stored); err != nil {
		t.Fatal(err)
	}
	changed := stored.DeepCopy()
	changed.Labels = map[string]string{"verdict": "fail"}
	if resp := v.Handle(ctx, admission.Request{AdmissionRequest: *updatingDeployment(t, stored, changed)}); resp.Allowed {
		t.Errorf("updating a Deployment the check passes to one it fails: want denied, got allowed")
	}

	// A Pod judged as the Deployment whose template it runs: the Deployment it was judged as is
	// kept, not replaced by the API server's copy of it.
	owner := deployment(ns, "owner", false)
	owner.Labels = map[string]string{"verdict": "fail"}
	if err := k.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(owner, "owner-5d8")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "owner-5d8-q7w2c")
	pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	resp := v.Handle(ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "create-pod-of-owner", Operation: admissionv1.Create,
		Namespace: ns, Name: pod.Name, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Object: runtime.RawExtension{Raw: raw}}})
	if resp.Allowed {
		t.Errorf("creating a Pod of a Deployment the check fails: want denied, got allowed")
	}
}

// TestNoCheckReadsAWorkloadKindByName: the webhook judges workloads only; a check that reads
// workloads declares engine.KindWorkload, which the confirmation of a denial reads again as
// every workload kind (see TestADenialOnOtherWorkloadsIsConfirmedWithTheAPIServer).
func TestNoCheckReadsAWorkloadKindByName(t *testing.T) {
	workloads := map[string]bool{"Pod": true, "ReplicationController": true, "Deployment": true, "StatefulSet": true,
		"DaemonSet": true, "ReplicaSet": true, "Job": true, "CronJob": true}
	for _, c := range checks.Catalogue() {
		for _, r := range c.Reads {
			if workloads[r] {
				t.Errorf("%s reads %s by name: declare %s instead", c.ID, r, engine.KindWorkload)
			}
		}
	}
}

// updatingDeployment is the admission request for updating old to cur.
func updatingDeployment(t *testing.T, old, cur *appsv1.Deployment) *admissionv1.AdmissionRequest {
	t.Helper()
	raw := func(d *appsv1.Deployment) []byte {
		d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return &admissionv1.AdmissionRequest{UID: types.UID("update-" + cur.Namespace + "-" + cur.Name), Operation: admissionv1.Update,
		Namespace: cur.Namespace, Name: cur.Name, Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Object: runtime.RawExtension{Raw: raw(cur)}, OldObject: runtime.RawExtension{Raw: raw(old)}}
}

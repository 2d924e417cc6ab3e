package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// lastAppliedAnnotation is kubectl's copy of the last applied manifest: large, never read.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// CacheOptions keep the informer cache to what the judgement reads: managed fields and
// last-applied annotations go from every object, and Pods, ReplicaSets and Jobs lose their
// status (no check reads it). Their specs stay, those a controller created included: whether
// such an object is judged through its controller depends on its spec being what the
// controller's template produces (engine.Inventory.Provenance), and an object that is not is
// judged for what it runs. Secrets are never cached: no check reads them and the operator has
// no permission to.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: stripObject,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:        {Transform: stripPod},
			&appsv1.ReplicaSet{}: {Transform: stripReplicaSet},
			&batchv1.Job{}:       {Transform: stripJob},
		},
	}
}

// Withheld are the fields CacheOptions drops that the engine's checks could read: a custom
// check may read any field, and one whose result depends on these is NotAssessed, naming the
// field, rather than judged on an object without it (a check that no Deployment is managed by
// kubectl-edit passed every Deployment). The last-applied annotation, dropped too, is not
// among them: CEL's unknowns take in the map that holds a field, so every custom check reading
// any annotation would be undecided; a custom check sees that annotation missing.
var Withheld = []engine.WithheldField{
	{Path: []string{"metadata", "managedFields"}, Why: withheldWhy},
	{Kind: "Pod", Path: []string{"status"}, Why: withheldWhy},
	{Kind: "ReplicaSet", Path: []string{"status"}, Why: withheldWhy},
	{Kind: "Job", Path: []string{"status"}, Why: withheldWhy},
}

const withheldWhy = "the operator does not keep (its informer cache drops it to save memory)"

// stripObject drops managedFields and the last-applied annotation.
func stripObject(in any) (any, error) {
	obj, ok := in.(metav1.Object)
	if !ok {
		return in, nil
	}
	obj.SetManagedFields(nil)
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastAppliedAnnotation]; ok {
			b := make(map[string]string, len(a)-1)
			for k, v := range a {
				if k != lastAppliedAnnotation {
					b[k] = v
				}
			}
			obj.SetAnnotations(b)
		}
	}
	return in, nil
}

func stripPod(in any) (any, error) {
	if _, err := stripObject(in); err != nil {
		return in, err
	}
	pod, ok := in.(*corev1.Pod)
	if !ok {
		return in, nil
	}
	pod.Status = corev1.PodStatus{}
	return pod, nil
}

func stripReplicaSet(in any) (any, error) {
	if _, err := stripObject(in); err != nil {
		return in, err
	}
	rs, ok := in.(*appsv1.ReplicaSet)
	if !ok {
		return in, nil
	}
	rs.Status = appsv1.ReplicaSetStatus{}
	return rs, nil
}

func stripJob(in any) (any, error) {
	if _, err := stripObject(in); err != nil {
		return in, err
	}
	job, ok := in.(*batchv1.Job)
	if !ok {
		return in, nil
	}
	job.Status = batchv1.JobStatus{}
	return job, nil
}

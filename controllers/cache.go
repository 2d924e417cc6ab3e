package controllers

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
)

// lastAppliedAnnotation is kubectl's copy of the last applied manifest: large, and read only
// where a ConfigMap's differs from its data (stripConfigMap) or a workload's holds env or a
// command line its pod template does not (stripObject).
const lastAppliedAnnotation = corev1.LastAppliedConfigAnnotation

// CacheOptions keep the informer cache to what the judgement reads: managed fields and the
// values of last-applied annotations go from every object (but a ConfigMap's that holds other data than
// the ConfigMap, stripConfigMap, and a workload's that holds env or a command line its pod
// template does not, stripObject), and Pods, ReplicaSets and Jobs lose their
// status (no check reads it), but for a Pod's status.phase: a Pod that has Succeeded or Failed
// runs nothing, and the availability checks count no such Pod (engine.Workload.Terminal).
// Their specs stay, those a controller created included: whether such an object is judged
// through its controller depends on its spec being what the
// controller's template produces (engine.Inventory.Provenance), and an object that is not is
// judged for what it runs. A ConfigMap over 16 KiB is kept as a digest of what
// sec-configmap-credentials reads of it (stripConfigMap): a tenant decides how large their
// ConfigMaps are. The annotations of the kinds whose annotations no built-in check reads
// (trimsAnnotations) are kept whole up to 16 KiB, past that only in part
// (inventory.TrimAnnotations): a tenant decides how large they are too. Past 16 KiB of a
// workload's literal env values, the long values nothing but their own judgement reads are
// kept as stand-ins, with what sec-literal-env-credentials found in them
// (checks.ReduceEnvValues): a tenant decides how long they are too; a workload whose command
// lines take more than 2 KiB is marked there too, and sec-literal-env-credentials reads them
// with gitleaks' rules within a bound of their work at each evaluation. The long command
// lines and env values left are kept once for all the workloads that hold them, a Deployment,
// its ReplicaSets and their Pods (checks.ShareCommandLines). Secrets are never
// cached: no check reads them and the operator has no permission to.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: stripObject,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:            {Transform: stripPod},
			&appsv1.ReplicaSet{}:     {Transform: stripReplicaSet},
			&batchv1.Job{}:           {Transform: stripJob},
			&corev1.ConfigMap{}:      {Transform: stripConfigMap},
			inventory.NodeKind.New(): {Transform: stripNode},
		},
	}
}

// Withheld are the fields CacheOptions drops that the engine's checks could read: a custom
// check may read any field, and one whose result depends on these is NotAssessed, naming the
// field, rather than judged on an object without it (a check that no Deployment is managed by
// kubectl-edit passed every Deployment). The last-applied annotation, dropped too (but from a
// ConfigMap whose data it does not hold, and a workload whose env and command line it does not), is not among them: CEL's unknowns take in the map
// that holds a field, so every custom check reading any annotation would be undecided; a custom
// check sees that annotation's key, with an empty value (stripObject). The data and binaryData
// of a ConfigMap kept as a digest (stripConfigMap) are withheld from the custom checks of that
// ConfigMap alone (checks.CachedConfigMap sets its engine.Object.Withheld), and the annotations
// of an object whose annotations the cache kept only in part from those of that object alone
// (inventory.TrimAnnotations; the inventory sets its engine.Object.Withheld), and the
// containers of a workload whose env values it replaced by stand-ins from those of that
// workload alone (checks.ReduceEnvValues; checks.CachedEnvValues).
var Withheld = []engine.WithheldField{
	{Path: []string{"metadata", "managedFields"}, Why: withheldWhy},
	{Kind: "Pod", Path: []string{"status"}, Why: withheldWhy},
	{Kind: "ReplicaSet", Path: []string{"status"}, Why: withheldWhy},
	{Kind: "Job", Path: []string{"status"}, Why: withheldWhy},
	{Kind: "KongPlugin", Path: []string{"config"}, Why: withheldWhy},
}

const withheldWhy = "the operator does not keep (its informer cache drops it to save memory)"

// stripObject drops managedFields and the last-applied annotation's value (its key stays, empty),
// replaces a workload's long env values, past 16 KiB of them, by stand-ins and keeps what
// sec-literal-env-credentials found in them (checks.ReduceEnvValues), but keeps a workload's
// annotation whole where it holds literal env values, or a container's command and args, its
// pod template does not (engine.StaleApplied; the template's env values are still reduced,
// compared through their stand-ins): sec-literal-env-credentials reads them, as kubectl
// edit, kubectl set env or a patch left them after a credential was taken out of the spec.
// One that holds the spec's env and command lines as they are, the common case, goes.
func stripObject(in any) (any, error) {
	obj, ok := in.(metav1.Object)
	if !ok {
		return in, nil
	}
	obj.SetManagedFields(nil)
	trimAnnotations(in)
	stripKongPlugin(in)
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastAppliedAnnotation]; ok {
			if k, ok := in.(engine.KubeObject); ok && len(engine.StaleApplied(k)) > 0 {
				// Kept whole, with the workload's env values reduced as any other's: the check
				// compares the annotation's values with the stand-ins through the stand-ins
				// (engine.StaleAppliedThrough), and the API server bounds the annotation to
				// 256 KiB, not the spec's 1.5 MiB.
				checks.ReduceEnvValues(obj)
				checks.ShareCommandLines(obj)
				return in, nil
			}
			// The key stays, with an empty value: a custom check may ask whether the object
			// has it (that no Deployment is applied by hand with client-side kubectl apply),
			// and with the key gone such a check passed in the reports what scan and the
			// admission webhook, which see it, fail. What it held is not kept: a custom check
			// reads it empty, and the built-in checks read an empty one as none.
			b := maps.Clone(a)
			b[lastAppliedAnnotation] = ""
			obj.SetAnnotations(b)
		}
	}
	// A workload's long env values: a tenant decides how long they are
	// (checks.ReduceEnvValues).
	checks.ReduceEnvValues(obj)
	// What is left of its command lines and env values, once for the workload, its
	// ReplicaSets and their Pods (checks.ShareCommandLines).
	checks.ShareCommandLines(obj)
	return in, nil
}

// stripKongPlugin drops a Kong KongPlugin's config (withheld from custom checks, Withheld): its
// plugin's settings, a pre-function's Lua code among them, which its author sizes up to what etcd
// holds, and no built-in check reads (net-ingress-snippets reads its plugin and disabled).
func stripKongPlugin(in any) {
	if u, ok := in.(*unstructured.Unstructured); ok && u.GetKind() == "KongPlugin" &&
		strings.HasPrefix(u.GetAPIVersion(), "configuration.konghq.com/") {
		unstructured.RemoveNestedField(u.Object, "config")
	}
}

// trimAnnotations keeps of in's annotations, when it is of a kind whose annotations the cache
// trims (trimsAnnotations), only a bounded part (inventory.TrimAnnotations), and of an
// Ingress's or a Service's then what the checks read of those they read
// (checks.ReduceIngressAnnotations, checks.ReduceServiceAnnotations); it reports whether it
// left any out.
func trimAnnotations(in any) bool {
	obj, ok := in.(metav1.Object)
	if !ok {
		return false
	}
	read, ok := trimsAnnotations(in)
	if !ok || !inventory.TrimAnnotations(obj, read) {
		return false
	}
	switch o := in.(type) {
	case *networkingv1.Ingress:
		checks.ReduceIngressAnnotations(o)
	case *corev1.Service:
		checks.ReduceServiceAnnotations(o)
	}
	return true
}

// trimsAnnotations reports whether the cache keeps of in's annotations only a bounded part
// (inventory.TrimAnnotations), and which of them the checks read, which it keeps whole (nil:
// none): a tenant decides how many bytes they are, up to 256 KiB an object, and 200 Services so
// annotated held 52 MiB of the operator's heap (BenchmarkOperatorBesideTenantAnnotations). These
// are the kinds whose annotations no built-in check reads, nor the engine, but kubectl's
// last-applied-configuration, which TrimAnnotations keeps (a workload's own, not its pod
// template's, which is in its spec and stays), and Pods, of which the checks read the AppArmor
// and seccomp annotations, the mirror Pod's and those an env var of the Pod takes through the
// downward API (podReadsAnnotation), Ingresses, of which net-ingress-snippets and
// net-ingress-tls read the ingress controllers' annotations (checks.IngressReadsAnnotation),
// kept only in part too (checks.ReduceIngressAnnotations), and Services, of which
// net-ingress-snippets reads the HAProxy controllers' raw configuration and Emissary's
// getambassador.io/config (checks.ServiceReadsAnnotation; until December 2026 none, and the trim dropped them), kept
// only in part too (checks.ReduceServiceAnnotations). Not among them: ConfigMaps (sec-configmap-credentials
// reads every annotation; a large one is a digest, stripConfigMap), PersistentVolumes and ClusterRoles
// (cluster-scoped, out of a tenant's reach) and the operator's own Leases. The CRD kinds read
// unstructured are among them, but for KEDA's pause annotations and Trivy's resource name
// (checks.UnstructuredReadsAnnotation): a tenant's HTTPRoute with 1 MiB of annotations was
// cached whole.
func trimsAnnotations(in any) (read func(key string) bool, ok bool) {
	switch o := in.(type) {
	case *corev1.Pod:
		return podReadsAnnotation(o), true
	case *networkingv1.Ingress:
		return checks.IngressReadsAnnotation, true
	case *corev1.Service:
		return checks.ServiceReadsAnnotation, true
	case *corev1.ServiceAccount, *corev1.PersistentVolumeClaim, *corev1.ResourceQuota,
		*corev1.LimitRange, *corev1.ReplicationController,
		*appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *appsv1.ReplicaSet,
		*batchv1.Job, *batchv1.CronJob,
		*rbacv1.Role, *rbacv1.RoleBinding, *networkingv1.NetworkPolicy,
		*policyv1.PodDisruptionBudget, *autoscalingv2.HorizontalPodAutoscaler:
		return nil, true
	case *unstructured.Unstructured:
		// An add-on's kind (an HTTPRoute, a ScaledObject, a Trivy report): the checks read
		// few of its annotations (checks.UnstructuredReadsAnnotation).
		return checks.UnstructuredReadsAnnotation, true
	}
	return nil, false
}

// podReadsAnnotation reports whether a check reads pod's annotation key: the AppArmor and
// seccomp annotations (the Pod Security Standards, wl-apparmor-selinux, and the comparison of a
// Pod with its controller's template, engine.Inventory.Provenance), the mirror Pod's
// (engine.MirrorPodAnnotation), and those an env var of any of its containers takes
// (fieldRef metadata.annotations['KEY']), whose values sec-literal-env-credentials judges.
func podReadsAnnotation(pod *corev1.Pod) func(key string) bool {
	var referenced map[string]bool
	refs := func(cs []corev1.Container) {
		for i := range cs {
			for _, e := range cs[i].Env {
				if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
					continue
				}
				if k, ok := strings.CutPrefix(e.ValueFrom.FieldRef.FieldPath, "metadata.annotations['"); ok {
					if referenced == nil {
						referenced = map[string]bool{}
					}
					referenced[strings.TrimSuffix(k, "']")] = true
				}
			}
		}
	}
	refs(pod.Spec.InitContainers)
	refs(pod.Spec.Containers)
	for i := range pod.Spec.EphemeralContainers {
		refs([]corev1.Container{corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)})
	}
	return func(key string) bool {
		return key == engine.MirrorPodAnnotation || key == corev1.SeccompPodAnnotationKey ||
			strings.HasPrefix(key, corev1.SeccompContainerAnnotationKeyPrefix) ||
			strings.HasPrefix(key, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) || referenced[key]
	}
}

func stripPod(in any) (any, error) {
	if _, err := stripObject(in); err != nil {
		return in, err
	}
	pod, ok := in.(*corev1.Pod)
	if !ok {
		return in, nil
	}
	pod.Status = corev1.PodStatus{Phase: pod.Status.Phase}
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

// stripConfigMap keeps of a ConfigMap whose data, binaryData and annotations take more than
// 16 KiB only a digest of what sec-configmap-credentials reads of it (checks.DigestConfigMap):
// a tenant decides how large their ConfigMaps are, and kept whole, 200 of 512 KiB held 103 MiB
// of the operator's heap (BenchmarkOperatorBesideTenantConfigMaps); 500 of 1 MiB were past the
// Deployment's 512 MiB limit. Any other is stripObject, but keeps a last-applied annotation
// that holds other data than the ConfigMap (or that is no ConfigMap's JSON):
// sec-configmap-credentials reads the keys it holds that the data does not, as kubectl edit or
// patch left them after a credential was taken out of the data. One that holds the data as it
// is, the common case, goes.
func stripConfigMap(in any) (any, error) {
	cm, ok := in.(*corev1.ConfigMap)
	if !ok {
		return stripObject(in)
	}
	cm.SetManagedFields(nil)
	if checks.DigestConfigMap(cm) {
		return cm, nil
	}
	raw, ok := cm.Annotations[lastAppliedAnnotation]
	if !ok {
		return cm, nil
	}
	var applied corev1.ConfigMap
	if json.Unmarshal([]byte(raw), &applied) == nil && maps.Equal(applied.Data, cm.Data) &&
		maps.EqualFunc(applied.BinaryData, cm.BinaryData, bytes.Equal) {
		return stripObject(cm)
	}
	return cm, nil
}

// stripNode keeps of a Node's metadata only what the engine reads: its name and OS labels
// (engine.OSKinds). Every node of the cluster is cached (a change to one re-evaluates the
// namespaces of the Pods bound to it), so each takes a few dozen bytes, not its annotations
// and every label a cloud provider adds.
func stripNode(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil
	}
	var labels map[string]string
	for _, key := range nodeOSLabels {
		if v, ok := m.Labels[key]; ok {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[key] = v
		}
	}
	m.ObjectMeta = metav1.ObjectMeta{Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion, Labels: labels,
		DeletionTimestamp: m.DeletionTimestamp}
	return m, nil
}

package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// CompactWorkload is the form of a workload a scan keeps until the end of its evaluation, once
// the workload's local checks are judged (engine.Stream.Compact): what the catalogue's
// cross-object checks read of the workload they judge, what checks of other objects read of
// the workloads they look up, and what exceptions and the outputs read. That is:
//
//   - apiVersion, kind, namespace, name, UID, labels and owner references (the object is a
//     metav1.PartialObjectMetadata, not the typed object); the source and whether the
//     namespace was defaulted;
//   - replicas, and whether the workload is long-running;
//   - the pod template's labels;
//   - of the pod spec, the engine.PodFields: the service account (serviceAccountName,
//     serviceAccount, automountServiceAccountToken), hostNetwork, topologySpreadConstraints
//     and podAntiAffinity, which checks read through Workload.Pod (PodSpec is nil);
//   - of each container (init, regular and ephemeral): its name, image and restartPolicy.
//
// The rest (annotations, the selector, environment, resources, probes, security contexts,
// volumes, ...) is read only by local checks, which have judged the workload by then, and by
// the comparison of a controlled object with its controller's template, for which the stream
// keeps a named controller whole. A kind it does not know (or a ReplicationController
// without a template) is returned as it is. Every check's fixtures are also judged with
// workloads in this form (sameAsStreamed), and so are engine's TestStreamIsEvaluate and
// scan's TestCompactWorkloadsChangeNothing: a field a check reads and this leaves out fails
// them.
func CompactWorkload(o *engine.Object) *engine.Object {
	var meta *metav1.ObjectMeta
	var tmpl *corev1.PodTemplateSpec
	switch t := o.Obj.(type) {
	case *corev1.Pod:
		return engine.NewCompactWorkload(o, compactMeta(&t.ObjectMeta), t.Labels, compactPodSpec(&t.Spec))
	case *appsv1.Deployment:
		meta, tmpl = &t.ObjectMeta, &t.Spec.Template
	case *appsv1.StatefulSet:
		meta, tmpl = &t.ObjectMeta, &t.Spec.Template
	case *appsv1.DaemonSet:
		meta, tmpl = &t.ObjectMeta, &t.Spec.Template
	case *appsv1.ReplicaSet:
		meta, tmpl = &t.ObjectMeta, &t.Spec.Template
	case *corev1.ReplicationController:
		if t.Spec.Template == nil {
			return o
		}
		meta, tmpl = &t.ObjectMeta, t.Spec.Template
	case *batchv1.Job:
		meta, tmpl = &t.ObjectMeta, &t.Spec.Template
	case *batchv1.CronJob:
		meta, tmpl = &t.ObjectMeta, &t.Spec.JobTemplate.Spec.Template
	default:
		return o
	}
	return engine.NewCompactWorkload(o, compactMeta(meta), tmpl.Labels, compactPodSpec(&tmpl.Spec))
}

func compactMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, GenerateName: m.GenerateName, Namespace: m.Namespace, UID: m.UID,
		Labels: m.Labels, OwnerReferences: m.OwnerReferences}
}

// compactPodSpec is a pod spec of only the containers' names, images and restartPolicies:
// engine.NewCompactWorkload keeps the containers, not the spec.
func compactPodSpec(s *corev1.PodSpec) *corev1.PodSpec {
	out := &corev1.PodSpec{InitContainers: compactContainers(s.InitContainers), Containers: compactContainers(s.Containers)}
	if len(s.EphemeralContainers) > 0 {
		out.EphemeralContainers = make([]corev1.EphemeralContainer, len(s.EphemeralContainers))
		for i := range s.EphemeralContainers {
			c := &s.EphemeralContainers[i]
			out.EphemeralContainers[i].EphemeralContainerCommon = corev1.EphemeralContainerCommon{
				Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy}
		}
	}
	return out
}

func compactContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i := range cs {
		out[i] = corev1.Container{Name: cs[i].Name, Image: cs[i].Image, RestartPolicy: cs[i].RestartPolicy}
	}
	return out
}

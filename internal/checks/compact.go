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
//   - apiVersion, kind, namespace, name, UID, labels and owner references; the source and
//     whether the namespace was defaulted;
//   - replicas;
//   - the pod template's labels;
//   - of the pod spec: the service account (serviceAccountName, serviceAccount,
//     automountServiceAccountToken), hostNetwork, restartPolicy, topologySpreadConstraints
//     and podAntiAffinity;
//   - of each container (init, regular and ephemeral): its name, image and restartPolicy.
//
// The rest (annotations, the selector, environment, resources, probes, security contexts,
// volumes, ...) is read only by local checks, which have judged the workload by then, and by
// the comparison of a controlled object with its controller's template, for which the stream
// keeps a named controller whole. restartPolicy is kept so that the compact form's
// engine.Workload says what the whole one says (LongRunning, SidecarInit). A kind it does not
// know is returned as it is. Every check's fixtures are also judged with workloads in this form
// (sameAsStreamed), and so are engine's TestStreamIsEvaluate and scan's
// TestCompactWorkloadsChangeNothing: a field a check reads and this leaves out fails them.
func CompactWorkload(o *engine.Object) *engine.Object {
	var obj engine.KubeObject
	switch t := o.Obj.(type) {
	case *corev1.Pod:
		obj = &corev1.Pod{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta), Spec: compactPodSpec(&t.Spec)}
	case *appsv1.Deployment:
		obj = &appsv1.Deployment{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: appsv1.DeploymentSpec{Replicas: t.Spec.Replicas, Template: compactTemplate(&t.Spec.Template)}}
	case *appsv1.StatefulSet:
		obj = &appsv1.StatefulSet{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: appsv1.StatefulSetSpec{Replicas: t.Spec.Replicas, Template: compactTemplate(&t.Spec.Template)}}
	case *appsv1.DaemonSet:
		obj = &appsv1.DaemonSet{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: appsv1.DaemonSetSpec{Template: compactTemplate(&t.Spec.Template)}}
	case *appsv1.ReplicaSet:
		obj = &appsv1.ReplicaSet{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: appsv1.ReplicaSetSpec{Replicas: t.Spec.Replicas, Template: compactTemplate(&t.Spec.Template)}}
	case *corev1.ReplicationController:
		if t.Spec.Template == nil {
			return o
		}
		tmpl := compactTemplate(t.Spec.Template)
		obj = &corev1.ReplicationController{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: corev1.ReplicationControllerSpec{Replicas: t.Spec.Replicas, Template: &tmpl}}
	case *batchv1.Job:
		obj = &batchv1.Job{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: batchv1.JobSpec{Template: compactTemplate(&t.Spec.Template)}}
	case *batchv1.CronJob:
		obj = &batchv1.CronJob{TypeMeta: t.TypeMeta, ObjectMeta: compactMeta(&t.ObjectMeta),
			Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{ObjectMeta: compactMeta(&t.Spec.JobTemplate.ObjectMeta),
				Spec: batchv1.JobSpec{Template: compactTemplate(&t.Spec.JobTemplate.Spec.Template)}}}}
	default:
		return o
	}
	c := engine.NewObject(obj, o.APIVersion, o.Kind)
	c.Namespace, c.Name, c.Source, c.NamespaceDefaulted = o.Namespace, o.Name, o.Source, o.NamespaceDefaulted
	return c
}

func compactMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, GenerateName: m.GenerateName, Namespace: m.Namespace, UID: m.UID,
		Labels: m.Labels, OwnerReferences: m.OwnerReferences}
}

func compactTemplate(t *corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: t.Labels}, Spec: compactPodSpec(&t.Spec)}
}

func compactPodSpec(s *corev1.PodSpec) corev1.PodSpec {
	out := corev1.PodSpec{
		ServiceAccountName:           s.ServiceAccountName,
		DeprecatedServiceAccount:     s.DeprecatedServiceAccount,
		AutomountServiceAccountToken: s.AutomountServiceAccountToken,
		HostNetwork:                  s.HostNetwork,
		RestartPolicy:                s.RestartPolicy,
		TopologySpreadConstraints:    s.TopologySpreadConstraints,
		InitContainers:               compactContainers(s.InitContainers),
		Containers:                   compactContainers(s.Containers),
	}
	if a := s.Affinity; a != nil && a.PodAntiAffinity != nil {
		out.Affinity = &corev1.Affinity{PodAntiAffinity: a.PodAntiAffinity}
	}
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

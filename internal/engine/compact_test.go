package engine_test

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestCompactWorkload: for every workload kind, the compact form says what the whole workload
// says of everything a check of other objects reads (engine.PodFields, the pod labels,
// replicas, long-running, each container's name, type, image, sidecar-ness and ConfigMap env, and the
// object's identity and labels), without the typed object or its pod spec.
func TestCompactWorkload(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	no := false
	three := int32(3)
	spec := corev1.PodSpec{
		ServiceAccountName: "api", DeprecatedServiceAccount: "old", AutomountServiceAccountToken: &no, HostNetwork: true,
		RestartPolicy:             corev1.RestartPolicyOnFailure,
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone"}},
		Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 1}}},
			NodeAffinity: &corev1.NodeAffinity{}},
		InitContainers: []corev1.Container{{Name: "proxy", Image: "envoy:1", RestartPolicy: &always}, {Name: "migrate", Image: "app:1", Command: []string{"migrate"}}},
		Containers: []corev1.Container{{Name: "app", Image: "app:1", Env: []corev1.EnvVar{{Name: "A", Value: "b"},
			{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, Key: "k"}}}},
			EnvFrom: []corev1.EnvFromSource{{Prefix: "P_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}},
		Volumes:             []corev1.Volume{{Name: "v"}},
	}
	meta := metav1.ObjectMeta{Name: "w", GenerateName: "w-", Namespace: "shop", UID: "u-1", Labels: map[string]string{"app": "w"},
		Annotations: map[string]string{"a": "b"}, OwnerReferences: []metav1.OwnerReference{{Kind: "Thing", Name: "t"}}}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "w", "tier": "web"}}, Spec: spec}
	for _, obj := range []engine.KubeObject{
		&corev1.Pod{ObjectMeta: meta, Spec: spec},
		&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Replicas: &three, Template: tmpl}},
		&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tmpl}}, // replicas unset: 1
		&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Replicas: &three, Template: tmpl}},
		&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tmpl}},
		&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Replicas: &three, Template: tmpl}},
		&corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Replicas: &three, Template: &tmpl}},
		&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}},
		&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}},
	} {
		kind := reflect.TypeOf(obj).Elem().Name()
		whole := engine.NewObject(obj, "v1", kind)
		whole.Source, whole.NamespaceDefaulted = engine.Source{File: "w.yaml", Document: 2, Line: 9}, true
		c := engine.CompactWorkload(whole)
		if c.NamespaceDefaulted != whole.NamespaceDefaulted {
			t.Errorf("%s: namespace defaulted %v, want %v", kind, c.NamespaceDefaulted, whole.NamespaceDefaulted)
		}
		if _, ok := c.Obj.(*metav1.PartialObjectMetadata); !ok || c.Workload == nil || c.Workload.PodSpec != nil {
			t.Fatalf("%s: compact form is a %T with pod spec %v, want only metadata", kind, c.Obj, c.Workload != nil && c.Workload.PodSpec != nil)
		}
		if c.Ref() != whole.Ref() || c.Source != whole.Source || c.Obj.GetUID() != "u-1" || c.Obj.GetGenerateName() != "w-" ||
			!reflect.DeepEqual(c.Labels(), meta.Labels) || !reflect.DeepEqual(c.Obj.GetOwnerReferences(), meta.OwnerReferences) {
			t.Errorf("%s: identity %v %v uid %q generateName %q labels %v owners %v differ from the whole one's", kind, c.Ref(), c.Source, c.Obj.GetUID(), c.Obj.GetGenerateName(), c.Labels(), c.Obj.GetOwnerReferences())
		}
		w, cw := whole.Workload, c.Workload
		if !reflect.DeepEqual(cw.Pod(), w.Pod()) {
			t.Errorf("%s: pod fields %+v, want %+v", kind, cw.Pod(), w.Pod())
		}
		if !reflect.DeepEqual(cw.PodLabels(), w.PodMeta.Labels) || w.PodLabels() == nil || cw.PodMeta != nil || cw.LongRunning != w.LongRunning {
			t.Errorf("%s: pod labels %v (metadata kept: %v) long-running %v, want %v %v", kind, cw.PodLabels(), cw.PodMeta != nil, cw.LongRunning, w.PodMeta.Labels, w.LongRunning)
		}
		switch {
		case (w.Replicas == nil) != (cw.Replicas == nil):
			t.Errorf("%s: replicas %v, want %v", kind, cw.Replicas, w.Replicas)
		case w.Replicas != nil && (*cw.Replicas != *w.Replicas || cw.Replicas == w.Replicas):
			t.Errorf("%s: replicas %d (shared with the typed object: %v), want a copy of %d", kind, *cw.Replicas, cw.Replicas == w.Replicas, *w.Replicas)
		}
		if len(cw.Containers()) != len(w.Containers()) {
			t.Fatalf("%s: %d containers, want %d", kind, len(cw.Containers()), len(w.Containers()))
		}
		for i, wc := range w.Containers() {
			cc := cw.Containers()[i]
			if wc.Name != wc.Container.Name || wc.Image != wc.Container.Image {
				t.Errorf("%s: container %d of the whole workload is named %s %s, its spec %s %s", kind, i, wc.Name, wc.Image, wc.Container.Name, wc.Container.Image)
			}
			if cc.Container != nil {
				t.Errorf("%s: container %d keeps its whole spec", kind, i)
			}
			if !reflect.DeepEqual(cc.ConfigMapEnv, wc.ConfigMapEnv) || (wc.Name == "app") != (len(wc.ConfigMapEnv) == 2) {
				t.Errorf("%s: container %d takes %+v from ConfigMaps, want %+v", kind, i, cc.ConfigMapEnv, wc.ConfigMapEnv)
			}
			if cc.Name != wc.Name || cc.Image != wc.Image || cc.Type != wc.Type || cc.SidecarInit != wc.SidecarInit {
				t.Errorf("%s: container %d is %s %s %s sidecar %v, want %s %s %s %v", kind, i, cc.Type, cc.Name, cc.Image, cc.SidecarInit, wc.Type, wc.Name, wc.Image, wc.SidecarInit)
			}
		}
	}
}

// Package testgen generates realistic clusters' worth of objects for benchmarks and scale tests:
// workloads of every kind (a chosen share of them failing many checks), with the service
// accounts, services, network policies, disruption budgets and RBAC objects around them.
package testgen

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Options size the generated cluster.
type Options struct {
	// Namespaces to spread the workloads over.
	Namespaces int
	// Workloads in all, of mixed kinds.
	Workloads int
	// FailingEvery makes every n-th workload insecure (2: half of them). 0: none.
	FailingEvery int
	// RBACObjects is the number of Roles, RoleBindings, ClusterRoles and ClusterRoleBindings.
	RBACObjects int
	// NamespacePrefix prefixes the namespace names (default "team-").
	NamespacePrefix string
}

// Object is a generated object with its kind and API version.
type Object struct {
	engine.KubeObject
	APIVersion string
	Kind       string
}

// NamespaceName is the name of the i-th generated namespace.
func (o Options) NamespaceName(i int) string {
	prefix := o.NamespacePrefix
	if prefix == "" {
		prefix = "team-"
	}
	return fmt.Sprintf("%s%03d", prefix, i)
}

// Generate returns the objects, the PriorityClass the pods use and the namespaces first, in a
// deterministic order.
func Generate(o Options) []Object {
	if o.Namespaces < 1 {
		o.Namespaces = 1
	}
	var out []Object
	add := func(obj engine.KubeObject, apiVersion, kind string) {
		out = append(out, Object{KubeObject: obj, APIVersion: apiVersion, Kind: kind})
	}
	add(&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Value: 1000}, "scheduling.k8s.io/v1", "PriorityClass")
	for i := 0; i < o.Namespaces; i++ {
		ns := o.NamespaceName(i)
		labels := map[string]string{"team": ns}
		if i%2 == 0 {
			labels["pod-security.kubernetes.io/enforce"] = "restricted"
		}
		add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, "v1", "Namespace")
		add(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, AutomountServiceAccountToken: ptr(false)}, "v1", "ServiceAccount")
		if i%3 != 0 {
			add(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: ns},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}},
				"networking.k8s.io/v1", "NetworkPolicy")
		}
	}
	kinds := []string{"Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
	for i := 0; i < o.Workloads; i++ {
		ns := o.NamespaceName(i % o.Namespaces)
		name := fmt.Sprintf("app-%05d", i)
		failing := o.FailingEvery > 0 && i%o.FailingEvery == 0
		kind := kinds[i%len(kinds)]
		tmpl := podTemplate(name, failing)
		meta := metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": name, "team": ns}}
		switch kind {
		case "Deployment":
			add(&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl}}, "apps/v1", kind)
			add(&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}}},
				"policy/v1", "PodDisruptionBudget")
			add(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: tmpl.Labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
				"v1", "Service")
		case "StatefulSet":
			add(&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), ServiceName: name,
				Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl}}, "apps/v1", kind)
		case "DaemonSet":
			add(&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl}}, "apps/v1", kind)
		case "Job":
			tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
			add(&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}}, "batch/v1", kind)
		case "CronJob":
			tmpl.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			add(&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "0 * * * *",
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, "batch/v1", kind)
		case "Pod":
			add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels}, Spec: tmpl.Spec}, "v1", kind)
		}
	}
	for i := 0; i < o.RBACObjects; i++ {
		ns := o.NamespaceName(i % o.Namespaces)
		name := fmt.Sprintf("rbac-%05d", i)
		rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}}
		if i%5 == 0 {
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets", "pods/exec"}, Verbs: []string{"get", "create"}})
		}
		switch i % 4 {
		case 0:
			add(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}, "rbac.authorization.k8s.io/v1", "Role")
		case 1:
			add(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: fmt.Sprintf("rbac-%05d", i-1)},
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "app", Namespace: ns}}}, "rbac.authorization.k8s.io/v1", "RoleBinding")
		case 2:
			add(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, "rbac.authorization.k8s.io/v1", "ClusterRole")
		case 3:
			add(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: fmt.Sprintf("rbac-%05d", i-1)},
				Subjects: []rbacv1.Subject{{Kind: "Group", Name: "team-" + name}}}, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
		}
	}
	return out
}

// EngineObjects wraps generated objects for the engine.
func EngineObjects(objs []Object) []*engine.Object {
	out := make([]*engine.Object, len(objs))
	for i, o := range objs {
		out[i] = engine.NewObject(o.KubeObject, o.APIVersion, o.Kind)
	}
	return out
}

// podTemplate is a hardened pod, or (failing) one that breaks many checks at once.
func podTemplate(name string, failing bool) corev1.PodTemplateSpec {
	labels := map[string]string{"app": name}
	c := corev1.Container{
		Name:  "app",
		Image: "registry.example.com/apps/" + name + "@sha256:4c1b6f2a6e7c0f4f7b8d2a1e9c3d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4",
		Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}}},
		LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/live", Port: intstr.FromInt32(8080)}}},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr(true),
			RunAsUser:                ptr(int64(10001)),
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	spec := corev1.PodSpec{
		ServiceAccountName:           "app",
		AutomountServiceAccountToken: ptr(false),
		PriorityClassName:            "standard",
		Containers:                   []corev1.Container{c},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone",
			WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}},
	}
	if failing {
		bad := c
		bad.Name = "sidecar"
		bad.Image = "nginx:latest"
		bad.SecurityContext = &corev1.SecurityContext{Privileged: ptr(true),
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN", "NET_RAW"}}}
		bad.Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-not-a-real-one"}}
		bad.ReadinessProbe, bad.LivenessProbe = nil, nil
		bad.Resources = corev1.ResourceRequirements{}
		spec.Containers = append(spec.Containers, bad)
		spec.ServiceAccountName = ""
		spec.AutomountServiceAccountToken = nil
		spec.HostNetwork = true
		spec.Volumes = []corev1.Volume{{Name: "docker", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}}}
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
}

func ptr[T any](v T) *T { return &v }

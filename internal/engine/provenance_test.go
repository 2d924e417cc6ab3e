package engine_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The objects of these tests: Deployment web, its ReplicaSet web-abc (the template with the
// pod-template-hash label), and a Pod of that ReplicaSet as the API server stores it (the
// template plus what the system adds).

func webTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example.com/web:1.0",
				Env:             []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				VolumeMounts:    []corev1.VolumeMount{{Name: "config", MountPath: "/etc/web", ReadOnly: true}},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
			}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web"}}}}},
		},
	}
}

func webDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web"},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: webTemplate()},
	}
}

func webReplicaSet() *appsv1.ReplicaSet {
	tmpl := webTemplate()
	tmpl.Labels["pod-template-hash"] = "abc"
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "shop", UID: "uid-web-abc",
			OwnerReferences: []metav1.OwnerReference{ref("apps/v1", "Deployment", "web", "uid-web")}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2), Template: tmpl},
	}
}

// webPod is what the API server stores for a Pod the ReplicaSet creates.
func webPod() *corev1.Pod {
	rs := webReplicaSet()
	spec := *rs.Spec.Template.Spec.DeepCopy()
	spec.ServiceAccountName = "default"
	spec.NodeName = "node-1"
	spec.Priority = ptr.To[int32](0)
	spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}}
	spec.Volumes = append(spec.Volumes, tokenVolume("kube-api-access-7xk2p"))
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
		corev1.VolumeMount{Name: "kube-api-access-7xk2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
	labels := map[string]string{}
	for k, v := range rs.Spec.Template.Labels {
		labels[k] = v
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc-x1", Namespace: "shop", UID: "uid-pod", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "web-abc", "uid-web-abc")}},
		Spec: spec,
	}
}

// tokenVolume is the volume the ServiceAccount admission plugin adds.
func tokenVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](420),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}}
}

func ref(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}
}

// TestAPodIsJudgedThroughItsControllerOnlyWhenTheTemplateExplainsIt pins the comparison and the
// owner rules: each case changes the Pod (or its owners) and says whether the ReplicaSet's
// template still explains it, and if not, what the reason must name.
func TestAPodIsJudgedThroughItsControllerOnlyWhenTheTemplateExplainsIt(t *testing.T) {
	openPolicy := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"open": "true"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{}}}}
	denyUnlessOptedOut := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "escape", Operator: metav1.LabelSelectorOpDoesNotExist}}}}}
	appPolicy := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	budget := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "frozen", Namespace: "shop"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frozen"}}}}
	cases := map[string]struct {
		pod        func(*corev1.Pod)
		rs         func(*appsv1.ReplicaSet)
		others     []*engine.Object
		wantReason string // "" means explained
	}{
		"a Pod that is the template plus what the system adds is explained": {},
		"a resource claim the template does not name (wl-device-admin-access reads them)": {
			pod: func(p *corev1.Pod) {
				tmpl := "every-gpu"
				p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: &tmpl}}
			},
			wantReason: "resourceClaims differ from the template's",
		},
		"labels a controller or a user adds are not a difference": {
			pod: func(p *corev1.Pod) { p.Labels["team"] = "shop" },
		},
		"labels no selector of the namespace reads are not a difference": {
			pod: func(p *corev1.Pod) {
				p.Labels["team"] = "shop"
				p.Labels["topology.kubernetes.io/zone"] = "eu-west-1a"
			},
			others: []*engine.Object{engine.NewObject(appPolicy, "networking.k8s.io/v1", "NetworkPolicy")},
		},
		"a label a user adds that a NetworkPolicy selects the Pod by": {
			pod:        func(p *corev1.Pod) { p.Labels["open"] = "true" },
			others:     []*engine.Object{engine.NewObject(openPolicy, "networking.k8s.io/v1", "NetworkPolicy")},
			wantReason: "label open, which the template does not set, makes NetworkPolicy open select it",
		},
		"a label a user adds that takes the Pod out of a NetworkPolicy": {
			pod:        func(p *corev1.Pod) { p.Labels["escape"] = "" },
			others:     []*engine.Object{engine.NewObject(denyUnlessOptedOut, "networking.k8s.io/v1", "NetworkPolicy")},
			wantReason: "label escape, which the template does not set, makes NetworkPolicy deny no longer select it",
		},
		"a label a user adds that a PodDisruptionBudget selects the Pod by": {
			pod:        func(p *corev1.Pod) { p.Labels["tier"] = "frozen" },
			others:     []*engine.Object{engine.NewObject(budget, "policy/v1", "PodDisruptionBudget")},
			wantReason: "label tier, which the template does not set, makes PodDisruptionBudget frozen select it",
		},
		"a label a user adds that a CiliumNetworkPolicy selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["public"] = "true" },
			others: []*engine.Object{cniPolicy("cilium.io/v2", "CiliumNetworkPolicy", "public", map[string]any{
				"endpointSelector": map[string]any{"matchLabels": map[string]any{"k8s:public": "true"}},
				"ingress":          []any{map[string]any{"fromEntities": []any{"all"}}},
			})},
			wantReason: "label public, which the template does not set, makes CiliumNetworkPolicy public select it",
		},
		"a label a user adds that a Calico NetworkPolicy selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["exposed"] = "yes" },
			others: []*engine.Object{cniPolicy("projectcalico.org/v3", "NetworkPolicy", "exposed", map[string]any{
				"selector": "exposed == 'yes'", "ingress": []any{map[string]any{"action": "Allow"}},
			})},
			wantReason: "label exposed, which the template does not set, makes Calico NetworkPolicy exposed select it",
		},
		"a label a user adds that an AdminNetworkPolicy's subject selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["public"] = "true" },
			others: []*engine.Object{adminNetworkPolicy("AdminNetworkPolicy", "public", map[string]any{
				"priority": int64(10),
				"subject": map[string]any{"pods": map[string]any{"namespaceSelector": map[string]any{},
					"podSelector": map[string]any{"matchLabels": map[string]any{"public": "true"}}}},
				"ingress": []any{map[string]any{"action": "Allow", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
			})},
			wantReason: "label public, which the template does not set, makes AdminNetworkPolicy public select it",
		},
		"a label a user adds that a BaselineAdminNetworkPolicy's subject no longer selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["escape"] = "" },
			others: []*engine.Object{adminNetworkPolicy("BaselineAdminNetworkPolicy", "default", map[string]any{
				"subject": map[string]any{"pods": map[string]any{"namespaceSelector": map[string]any{},
					"podSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "escape", "operator": "DoesNotExist"}}}}},
				"ingress": []any{map[string]any{"action": "Deny", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
			})},
			wantReason: "label escape, which the template does not set, makes BaselineAdminNetworkPolicy default no longer select it",
		},
		"a label a user adds that an Admin-tier ClusterNetworkPolicy's subject selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["public"] = "true" },
			// A ClusterNetworkPolicy's pods subject may leave its namespaceSelector out: every
			// namespace.
			others: []*engine.Object{clusterNetworkPolicy("public", map[string]any{
				"tier": "Admin", "priority": int64(10),
				"subject": map[string]any{"pods": map[string]any{
					"podSelector": map[string]any{"matchLabels": map[string]any{"public": "true"}}}},
				"ingress": []any{map[string]any{"action": "Accept", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
			})},
			wantReason: "label public, which the template does not set, makes ClusterNetworkPolicy public select it",
		},
		"a label a user adds that a Baseline-tier ClusterNetworkPolicy's subject no longer selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["escape"] = "" },
			others: []*engine.Object{clusterNetworkPolicy("baseline", map[string]any{
				"tier": "Baseline", "priority": int64(100),
				"subject": map[string]any{"pods": map[string]any{"namespaceSelector": map[string]any{},
					"podSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "escape", "operator": "DoesNotExist"}}}}},
				"ingress": []any{map[string]any{"action": "Deny", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
			})},
			wantReason: "label escape, which the template does not set, makes ClusterNetworkPolicy baseline no longer select it",
		},
		"a label an AdminNetworkPolicy's subject reads in other namespaces only": {
			pod: func(p *corev1.Pod) { p.Labels["public"] = "true" },
			others: []*engine.Object{
				engine.NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{corev1.LabelMetadataName: "shop"}}}, "v1", "Namespace"),
				adminNetworkPolicy("AdminNetworkPolicy", "public", map[string]any{
					"priority": int64(10),
					"subject": map[string]any{"pods": map[string]any{
						"namespaceSelector": map[string]any{"matchLabels": map[string]any{corev1.LabelMetadataName: "lab"}},
						"podSelector":       map[string]any{"matchLabels": map[string]any{"public": "true"}}}},
					"ingress": []any{map[string]any{"action": "Allow", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
				})},
		},
		"a label a user adds that a Calico GlobalNetworkPolicy's default deny no longer selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["escape"] = "" },
			others: []*engine.Object{clusterCNIPolicy("crd.projectcalico.org/v1", "GlobalNetworkPolicy", "default-deny", map[string]any{
				"selector": "!has(escape) && projectcalico.org/namespace == 'shop'", "types": []any{"Ingress"},
			})},
			wantReason: "label escape, which the template does not set, makes Calico GlobalNetworkPolicy default-deny no longer select it",
		},
		"a label a user adds that a CiliumClusterwideNetworkPolicy selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["public"] = "true" },
			others: []*engine.Object{clusterCNIPolicy("cilium.io/v2", "CiliumClusterwideNetworkPolicy", "public", map[string]any{
				"endpointSelector": map[string]any{"matchLabels": map[string]any{"k8s:public": "true"}},
				"ingress":          []any{map[string]any{"fromEntities": []any{"all"}}},
			})},
			wantReason: "label public, which the template does not set, makes CiliumClusterwideNetworkPolicy public select it",
		},
		"a label a user adds that only a CNI policy's egress selects the Pod by": {
			pod: func(p *corev1.Pod) { p.Labels["exposed"] = "yes" },
			others: []*engine.Object{cniPolicy("projectcalico.org/v3", "NetworkPolicy", "exposed", map[string]any{
				"selector": "exposed == 'yes'", "types": []any{"Egress"}, "egress": []any{map[string]any{"action": "Allow"}},
			})},
		},
		"a label a user adds that a selector reads without changing its choice": {
			pod:    func(p *corev1.Pod) { p.Labels["open"] = "false" },
			others: []*engine.Object{engine.NewObject(openPolicy, "networking.k8s.io/v1", "NetworkPolicy")},
		},
		"resources that LimitRange or the autoscaler set are not a difference": {
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
			},
		},
		"resource values the autoscaler or a resize changed are not a difference": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
			},
		},
		"a limit the template sets and the Pod drops (nothing removes one)": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
			},
			wantReason: "container app's resources.limits drops memory",
		},
		"a limit the template sets and the Pod sets to zero": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("0")}
			},
			wantReason: "container app's resources.limits drops memory",
		},
		"a pod-level request the template sets and the Pod drops": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
			},
			wantReason: "the pod's resources.requests drops cpu",
		},
		"a priorityClassName other than the one the template sets": {
			rs:         func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.PriorityClassName = "high" },
			pod:        func(p *corev1.Pod) { p.Spec.PriorityClassName = "low" },
			wantReason: "priorityClassName is low, the template's is high",
		},
		"scheduling fields are not a difference": {
			pod: func(p *corev1.Pod) {
				p.Spec.NodeSelector = map[string]string{"zone": "a"}
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
				p.Spec.PriorityClassName = "high"
				p.Spec.SchedulerName = "default-scheduler"
				p.Spec.Hostname, p.Spec.Subdomain = "web-0", "web"
			},
		},
		"an image pinned to the template's reference by digest is explained": {
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Image = "registry.example.com/web:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			},
		},
		"an AppArmor annotation the API server copied to the field is explained": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}
			},
			pod: func(p *corev1.Pod) {
				p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}
				p.Spec.Containers[0].SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
			},
		},
		"a reference to another UID (a forged owner)": {
			pod:        func(p *corev1.Pod) { p.OwnerReferences[0].UID = "uid-other" },
			wantReason: `its controller reference names ReplicaSet web-abc with UID "uid-other", but that ReplicaSet's UID is "uid-web-abc"`,
		},
		"a reference to a controller that does not exist": {
			pod:        func(p *corev1.Pod) { p.OwnerReferences[0].Name = "web-gone" },
			wantReason: "its controller ReplicaSet web-gone does not exist",
		},
		"a reference to a Deployment, which creates no Pods": {
			pod:        func(p *corev1.Pod) { p.OwnerReferences[0] = ref("apps/v1", "Deployment", "web", "uid-web") },
			wantReason: "its controller Deployment web does not create Pods",
		},
		"an added container": {
			pod: func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "debug", Image: "busybox"})
			},
			wantReason: "not explained by ReplicaSet web-abc's template: container debug is not in the template",
		},
		"an added init container": {
			pod: func(p *corev1.Pod) {
				p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "istio-init", Image: "proxy"})
			},
			wantReason: "init container istio-init is not in the template",
		},
		"an ephemeral container": {
			pod: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox"}}}
			},
			wantReason: "ephemeral container debugger is not in the template",
		},
		"a missing container": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers = append(rs.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "s"})
			},
			wantReason: "the template's container sidecar is missing",
		},
		"another image": {
			pod:        func(p *corev1.Pod) { p.Spec.Containers[0].Image = "registry.example.com/web:evil" },
			wantReason: "container app runs image registry.example.com/web:evil, the template's runs registry.example.com/web:1.0",
		},
		"a literal credential added to env": {
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "DB_PASSWORD", Value: "x"})
			},
			wantReason: "container app's env differs from the template's",
		},
		"a privileged container": {
			pod:        func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true) },
			wantReason: "container app's securityContext differs from the template's",
		},
		"an extra volume mount": {
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: "/x"})
			},
			wantReason: "container app's volumeMounts differ from the template's",
		},
		"hostPID": {
			pod:        func(p *corev1.Pod) { p.Spec.HostPID = true },
			wantReason: "hostPID is true, the template's is false",
		},
		"hostNetwork": {
			pod:        func(p *corev1.Pod) { p.Spec.HostNetwork = true },
			wantReason: "hostNetwork is true",
		},
		"on the host network, the hostPort the API server gives a Pod's container port is not a difference": {
			// SetDefaults_Pod (k8s.io/kubernetes v1.37.2 pkg/apis/core/v1) sets each port's
			// hostPort to its containerPort on the host network, in Pods only: a template keeps 0.
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.HostNetwork = true
				rs.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
			},
		},
		"on the host network, a hostPort other than the containerPort": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.HostNetwork = true
				rs.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 22, Protocol: corev1.ProtocolTCP}}
			},
			wantReason: "container app's ports differs from the template's",
		},
		"off the host network, a hostPort the template does not set": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
			},
			wantReason: "container app's ports differs from the template's",
		},
		"imagePullPolicy Always that the AlwaysPullImages admission plugin sets is not a difference": {
			// The plugin sets Always on every container and image volume of a Pod (CIS 1.2.11
			// recommends it), not on templates.
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
				rs.Spec.Template.Spec.Volumes = append(rs.Spec.Template.Spec.Volumes, corev1.Volume{Name: "model",
					VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/model:1", PullPolicy: corev1.PullIfNotPresent}}})
			},
			pod: func(p *corev1.Pod) {
				p.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "model",
					VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/model:1", PullPolicy: corev1.PullAlways}}})
			},
		},
		"imagePullPolicy Never where the template pulls Always": {
			rs:         func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways },
			pod:        func(p *corev1.Pod) { p.Spec.Containers[0].ImagePullPolicy = corev1.PullNever },
			wantReason: "container app's imagePullPolicy differs from the template's",
		},
		"an image volume of another reference pulled Always": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Volumes = append(rs.Spec.Template.Spec.Volumes, corev1.Volume{Name: "model",
					VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/model:1", PullPolicy: corev1.PullIfNotPresent}}})
			},
			pod: func(p *corev1.Pod) {
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "model",
					VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry.example.com/evil:1", PullPolicy: corev1.PullAlways}}})
			},
			wantReason: "volume model differs from the template's",
		},
		"hostUsers: true, the default, is not a difference": {
			pod: func(p *corev1.Pod) { p.Spec.HostUsers = ptr.To(true) },
		},
		"sysctls in the pod securityContext": {
			pod: func(p *corev1.Pod) {
				p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax", Value: "1"}}
			},
			wantReason: "the pod securityContext differs from the template's",
		},
		"another service account": {
			pod:        func(p *corev1.Pod) { p.Spec.ServiceAccountName = "deployer" },
			wantReason: "serviceAccountName is deployer, the template's is default",
		},
		"the token automounted against the template": {
			rs:         func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.AutomountServiceAccountToken = ptr.To(false) },
			wantReason: "automountServiceAccountToken differs from the template's",
		},
		"another runtime class": {
			pod:        func(p *corev1.Pod) { p.Spec.RuntimeClassName = ptr.To("runc-unsafe") },
			wantReason: "runtimeClassName is runc-unsafe",
		},
		"a hostPath volume added": {
			pod: func(p *corev1.Pod) {
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
			},
			wantReason: "volume host is not in the template",
		},
		"a hostPath volume named like the token volume": {
			pod: func(p *corev1.Pod) {
				p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "kube-api-access-evil", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
			},
			wantReason: "volume kube-api-access-evil is not in the template",
		},
		"a volume whose source changed": {
			pod: func(p *corev1.Pod) {
				p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}
			},
			wantReason: "volume config differs from the template's",
		},
		"a template label removed": {
			pod:        func(p *corev1.Pod) { delete(p.Labels, "app") },
			wantReason: "label app differs from the template's",
		},
		"a template that runs only on Windows nodes, and a Pod that may run on Linux ones": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
			},
			wantReason: "the template runs only on Windows nodes, the object does not",
		},
		"a template whose node affinity admits only Windows nodes, and a Pod that may run on Linux ones": {
			rs:         func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Affinity = windowsAffinity() },
			wantReason: "the template runs only on Windows nodes, the object does not",
		},
		"a template that runs only on Windows nodes, and its Pod": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"}
			},
			pod: func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "windows"} },
		},
		"a template kept to Linux by its node selector, and a Pod that a Windows node may run": {
			// The template's windowsOptions, which no Linux kubelet applies, were not judged
			// (MayRunOnWindows): a Windows node would run the Pod as SYSTEM.
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
				rs.Spec.Template.Spec.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr.To(`NT AUTHORITY\SYSTEM`)}
			},
			pod: func(p *corev1.Pod) {
				p.Spec.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr.To(`NT AUTHORITY\SYSTEM`)}
				p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
			},
			wantReason: "the template runs only on Linux nodes, the object does not",
		},
		"a template kept to Linux by its node affinity, and a Pod without it": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.Affinity = windowsAffinity()
				rs.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"linux"}
			},
			pod:        func(p *corev1.Pod) { p.Spec.Affinity = nil },
			wantReason: "the template runs only on Linux nodes, the object does not",
		},
		"a template kept to Linux, and its Pod": {
			rs: func(rs *appsv1.ReplicaSet) {
				rs.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
			},
			pod: func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "zone": "a"} },
		},
		"an AppArmor annotation added": {
			pod: func(p *corev1.Pod) {
				p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
			},
			wantReason: "annotation container.apparmor.security.beta.kubernetes.io/app is not in the template",
		},
		"the token the admission plugin mounted, which its ServiceAccount no longer grants": {
			others: []*engine.Object{engine.NewObject(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "shop"},
				AutomountServiceAccountToken: ptr.To(false)}, "v1", "ServiceAccount")},
			wantReason: `ServiceAccount default sets automountServiceAccountToken: false, but the Pod holds the token the ServiceAccount admission plugin mounted (volume kube-api-access-7xk2p)`,
		},
		"the token the admission plugin mounted, which its ServiceAccount still grants": {
			others: []*engine.Object{engine.NewObject(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "shop"}},
				"v1", "ServiceAccount")},
		},
		"the token the admission plugin mounted, which the template asks for whatever the ServiceAccount says": {
			rs:  func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.AutomountServiceAccountToken = ptr.To(true) },
			pod: func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(true) },
			others: []*engine.Object{engine.NewObject(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "shop"},
				AutomountServiceAccountToken: ptr.To(false)}, "v1", "ServiceAccount")},
		},
		"many differences are named three at a time": {
			pod: func(p *corev1.Pod) {
				p.Spec.HostPID, p.Spec.HostIPC, p.Spec.HostNetwork = true, true, true
				p.Spec.Containers[0].Image = "evil"
			},
			wantReason: "; and 1 more difference",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rs, pod := webReplicaSet(), webPod()
			if tc.rs != nil {
				tc.rs(rs)
			}
			if tc.pod != nil {
				tc.pod(pod)
			}
			podObj := engine.NewObject(pod, "v1", "Pod")
			inv := engine.NewInventory(append([]*engine.Object{
				engine.NewObject(webDeployment(), "apps/v1", "Deployment"), engine.NewObject(rs, "apps/v1", "ReplicaSet"), podObj,
			}, tc.others...), true)
			p := inv.Provenance(podObj)
			if p == nil {
				t.Fatal("no provenance for a Pod that names a ReplicaSet")
			}
			if tc.wantReason == "" {
				if !p.Explained || !inv.JudgedThroughController(podObj) {
					t.Fatalf("want the Pod explained by its ReplicaSet, got: %s", p.Reason)
				}
				return
			}
			if p.Explained || inv.JudgedThroughController(podObj) {
				t.Fatalf("want the Pod judged itself (%s), but it is judged through its controller", tc.wantReason)
			}
			if !strings.Contains(p.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", p.Reason, tc.wantReason)
			}
		})
	}
}

// windowsAffinity admits only Windows nodes.
func windowsAffinity() *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
			Key: "kubernetes.io/os", Operator: corev1.NodeSelectorOpIn, Values: []string{"windows"}}}}}}}}
}

// nodeNameAffinity is the required node affinity the DaemonSet controller gives each pod in place
// of its template's (ReplaceDaemonSetPodNodeNameNodeAffinity, k8s v1.37.2
// pkg/controller/daemon/util/daemonset_util.go).
func nodeNameAffinity(node string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}}
}

// TestAPodsOSIsDecidedByItsOwnSpecNotItsDaemonSets: a Pod is judged through its DaemonSet's
// template only when the template's OS is what the Pod's own spec says. A template kept to
// Windows nodes by node affinity alone is judged as Windows (the Linux checks NotApplicable), but
// the DaemonSet controller replaces its pods' required node affinity with their node's name, so
// nothing in a Pod's own spec keeps it off Linux nodes, and anyone may write a Pod naming the
// DaemonSet as its controller (the UID is readable) and run it on Linux: such a Pod is judged
// itself (it was explained, a false pass). A node selector or spec.os.name the controller copies
// still explains the Pods that carry it.
func TestAPodsOSIsDecidedByItsOwnSpecNotItsDaemonSets(t *testing.T) {
	linuxSelector := map[string]string{"kubernetes.io/os": "linux"}
	windowsSelector := map[string]string{"kubernetes.io/os": "windows"}
	windowsOS := &corev1.PodOS{Name: corev1.Windows}
	cases := map[string]struct {
		template   func(*corev1.PodSpec)
		pod        func(*corev1.PodSpec)
		wantReason string // "" means explained
	}{
		"a template kept to Windows by node affinity, and a Pod on a node its spec does not name the OS of": {
			template:   func(s *corev1.PodSpec) { s.Affinity = windowsAffinity() },
			pod:        func(s *corev1.PodSpec) { s.Affinity = nodeNameAffinity("node-1") },
			wantReason: "the template runs only on Windows nodes by its required node affinity, which the DaemonSet controller replaces in its pods with their node's name; the object's own spec does not keep it to Windows nodes",
		},
		"a template kept to Windows by node affinity, and a Pod kept to Linux by its own node selector": {
			template: func(s *corev1.PodSpec) { s.Affinity = windowsAffinity() },
			pod: func(s *corev1.PodSpec) {
				s.Affinity, s.NodeSelector = nil, linuxSelector
				s.TerminationGracePeriodSeconds = ptr.To[int64](30 * 24 * 3600)
			},
			wantReason: "the template runs only on Windows nodes by its required node affinity",
		},
		"a template kept to Windows by node affinity and node selector, and its Pod": {
			template: func(s *corev1.PodSpec) { s.Affinity, s.NodeSelector = windowsAffinity(), windowsSelector },
			pod:      func(s *corev1.PodSpec) { s.Affinity, s.NodeSelector = nodeNameAffinity("node-1"), windowsSelector },
		},
		"a template that declares Windows, and its Pod": {
			template: func(s *corev1.PodSpec) { s.OS = windowsOS },
			pod:      func(s *corev1.PodSpec) { s.OS, s.Affinity = windowsOS, nodeNameAffinity("node-1") },
		},
		"a template kept to Windows by node selector, and a Pod without it": {
			template:   func(s *corev1.PodSpec) { s.NodeSelector = windowsSelector },
			pod:        func(s *corev1.PodSpec) { s.Affinity, s.NodeSelector = nodeNameAffinity("node-1"), nil },
			wantReason: "the template runs only on Windows nodes, the object does not",
		},
		"a template kept to Linux by node affinity that names a Windows account, and its Pod": {
			template: func(s *corev1.PodSpec) {
				s.Affinity = windowsAffinity()
				s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"linux"}
				s.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr.To("ContainerAdministrator")}
			},
			pod: func(s *corev1.PodSpec) {
				s.Affinity = nodeNameAffinity("node-1")
				s.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{RunAsUserName: ptr.To("ContainerAdministrator")}
			},
			wantReason: "the template runs only on Linux nodes by its required node affinity",
		},
		"a template kept to Linux by node selector, and a Pod without it": {
			template:   func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"kubernetes.io/os": "linux"} },
			pod:        func(s *corev1.PodSpec) { s.Affinity, s.NodeSelector = nodeNameAffinity("node-1"), nil },
			wantReason: "the template runs only on Linux nodes, the object does not",
		},
		"a template kept to Linux by node affinity, and its Pod": {
			template: func(s *corev1.PodSpec) {
				s.Affinity = windowsAffinity()
				s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"linux"}
			},
			pod: func(s *corev1.PodSpec) { s.Affinity = nodeNameAffinity("node-1") },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop", UID: "uid-agent"}}
			ds.Spec.Template = webTemplate()
			tc.template(&ds.Spec.Template.Spec)
			pod := webPod()
			pod.Labels = map[string]string{"app": "web", "controller-revision-hash": "7d9", "pod-template-generation": "1"}
			pod.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "DaemonSet", "agent", "uid-agent")}
			pod.Spec.Affinity, pod.Spec.NodeSelector, pod.Spec.OS = ds.Spec.Template.Spec.Affinity, ds.Spec.Template.Spec.NodeSelector, ds.Spec.Template.Spec.OS
			tc.pod(&pod.Spec)
			podObj := engine.NewObject(pod, "v1", "Pod")
			inv := engine.NewInventory([]*engine.Object{engine.NewObject(ds, "apps/v1", "DaemonSet"), podObj}, true)
			p := inv.Provenance(podObj)
			if p == nil {
				t.Fatal("no provenance for a Pod that names a DaemonSet")
			}
			if tc.wantReason == "" {
				if !p.Explained {
					t.Fatalf("want the Pod explained by its DaemonSet, got: %s", p.Reason)
				}
				return
			}
			if p.Explained {
				t.Fatalf("want the Pod judged itself (%s), but it is explained by its DaemonSet", tc.wantReason)
			}
			if !strings.Contains(p.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", p.Reason, tc.wantReason)
			}
		})
	}
}

// TestOwnerRules covers the controllers other than a Pod's ReplicaSet: which kinds create
// which, custom resources that share a built-in kind's name, old revisions, scan's partial view.
func TestOwnerRules(t *testing.T) {
	cronJob := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "shop", UID: "uid-cron"}}
	cronJob.Spec.JobTemplate.Spec.Template = webTemplate()
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "nightly-29000000", Namespace: "shop", UID: "uid-job",
		OwnerReferences: []metav1.OwnerReference{ref("batch/v1", "CronJob", "nightly", "uid-cron")}}}
	job.Spec.Template = webTemplate()
	job.Spec.Template.Labels["batch.kubernetes.io/controller-uid"] = "uid-job"
	job.Spec.Template.Labels["job-name"] = "nightly-29000000"
	jobPod := webPod()
	jobPod.OwnerReferences = []metav1.OwnerReference{ref("batch/v1", "Job", job.Name, "uid-job")}
	jobPod.Labels = job.Spec.Template.Labels
	indexedPod := jobPod.DeepCopy()
	indexedPod.Name = "nightly-29000000-0"
	indexedPod.Spec.Containers[0].Env = append(indexedPod.Spec.Containers[0].Env, corev1.EnvVar{Name: "JOB_COMPLETION_INDEX",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1",
			FieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']"}}})
	otherEnvPod := jobPod.DeepCopy()
	otherEnvPod.Name = "nightly-29000000-1"
	otherEnvPod.Spec.Containers[0].Env = append(otherEnvPod.Spec.Containers[0].Env, corev1.EnvVar{Name: "JOB_COMPLETION_INDEX", Value: "0"})

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", UID: "uid-db"}}
	sts.Spec.Template = webTemplate()
	sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	stsPod := webPod()
	stsPod.Name = "db-0"
	stsPod.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "StatefulSet", "db", "uid-db")}
	stsPod.Spec.Hostname, stsPod.Spec.Subdomain = "db-0", "db"
	// The labels the StatefulSet controller sets are not the template's, and a policy that
	// selects one replica by them is no difference: the checks read them as unknown.
	stsPod.Labels[appsv1.StatefulSetPodNameLabel] = "db-0"
	stsPod.Labels[appsv1.ControllerRevisionHashLabelKey] = "db-5f6c7d8e9"
	replicaPolicy := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{appsv1.StatefulSetPodNameLabel: "db-0"}}}}
	stsPod.Spec.Volumes = append(stsPod.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-db-0"}}})

	// A claim volume is the StatefulSet controller's only when it names the claim the controller
	// makes for the Pod's ordinal, one the StatefulSet's own judgement reads (wl-hostpath-pv).
	otherClaimPod := stsPod.DeepCopy()
	otherClaimPod.Spec.Volumes[len(otherClaimPod.Spec.Volumes)-1].PersistentVolumeClaim.ClaimName = "loot"
	outOfRangePod := stsPod.DeepCopy()
	outOfRangePod.Name, outOfRangePod.Spec.Hostname = "db-7", "db-7"
	outOfRangePod.Labels[appsv1.StatefulSetPodNameLabel] = "db-7"
	outOfRangePod.Spec.Volumes[len(outOfRangePod.Spec.Volumes)-1].PersistentVolumeClaim.ClaimName = "data-db-7"
	ledger := sts.DeepCopy()
	ledger.Name, ledger.UID = "ledger", "uid-ledger"
	ledger.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
	ledgerPod := stsPod.DeepCopy()
	ledgerPod.Name, ledgerPod.Spec.Hostname, ledgerPod.Spec.Subdomain = "ledger-5", "ledger-5", "ledger"
	ledgerPod.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "StatefulSet", "ledger", "uid-ledger")}
	ledgerPod.Labels[appsv1.StatefulSetPodNameLabel] = "ledger-5"
	ledgerPod.Spec.Volumes[len(ledgerPod.Spec.Volumes)-1].PersistentVolumeClaim.ClaimName = "data-ledger-5"

	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop", UID: "uid-agent"}}
	ds.Spec.Template = webTemplate()
	dsPod := webPod()
	dsPod.Name = "agent-q2x"
	dsPod.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "DaemonSet", "agent", "uid-agent")}
	dsPod.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-1"}}}}}}}}

	current := webReplicaSet()
	oldRunning := webReplicaSet()
	oldRunning.Name, oldRunning.UID = "web-old", "uid-web-old"
	oldRunning.Spec.Template.Spec.Containers[0].Image = "registry.example.com/web:0.9"
	oldIdle := oldRunning.DeepCopy()
	oldIdle.Name, oldIdle.UID, oldIdle.Spec.Replicas = "web-older", "uid-web-older", ptr.To[int32](0)
	oldIdlePod := webPod()
	oldIdlePod.Name = "web-older-x1"
	oldIdlePod.Spec.Containers[0].Image = "registry.example.com/web:0.9"
	oldIdlePod.OwnerReferences = []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "web-older", "uid-web-older")}

	customOwned := webPod()
	customOwned.Name = "custom"
	customOwned.OwnerReferences = []metav1.OwnerReference{ref("example.com/v1", "ReplicaSet", "web-abc", "uid-web-abc")}

	objs := map[string]*engine.Object{
		"cronjob": engine.NewObject(cronJob, "batch/v1", "CronJob"), "job": engine.NewObject(job, "batch/v1", "Job"),
		"job pod": engine.NewObject(jobPod, "v1", "Pod"), "indexed pod": engine.NewObject(indexedPod, "v1", "Pod"),
		"other env pod": engine.NewObject(otherEnvPod, "v1", "Pod"),
		"sts":           engine.NewObject(sts, "apps/v1", "StatefulSet"), "sts pod": engine.NewObject(stsPod, "v1", "Pod"),
		"replica policy":  engine.NewObject(replicaPolicy, "networking.k8s.io/v1", "NetworkPolicy"),
		"other claim pod": engine.NewObject(otherClaimPod, "v1", "Pod"), "out of range pod": engine.NewObject(outOfRangePod, "v1", "Pod"),
		"ledger": engine.NewObject(ledger, "apps/v1", "StatefulSet"), "ledger pod": engine.NewObject(ledgerPod, "v1", "Pod"),
		"ds": engine.NewObject(ds, "apps/v1", "DaemonSet"), "ds pod": engine.NewObject(dsPod, "v1", "Pod"),
		"deployment": engine.NewObject(webDeployment(), "apps/v1", "Deployment"),
		"current":    engine.NewObject(current, "apps/v1", "ReplicaSet"),
		"old":        engine.NewObject(oldRunning, "apps/v1", "ReplicaSet"),
		"idle":       engine.NewObject(oldIdle, "apps/v1", "ReplicaSet"), "idle pod": engine.NewObject(oldIdlePod, "v1", "Pod"),
		"custom": engine.NewObject(customOwned, "v1", "Pod"),
	}
	list := make([]*engine.Object, 0, len(objs))
	for _, o := range objs {
		list = append(list, o)
	}
	inv := engine.NewInventory(list, true)

	cases := map[string]struct {
		obj          string
		judgedItself bool
		reason       string
	}{
		"a Job its CronJob's template explains":                {obj: "job"},
		"a Pod of that Job":                                    {obj: "job pod"},
		"a StatefulSet Pod with its claim volume and hostname": {obj: "sts pod"},
		"a DaemonSet Pod with its node affinity":               {obj: "ds pod"},
		"a StatefulSet Pod whose claim volume names a claim the StatefulSet does not make": {obj: "other claim pod", judgedItself: true,
			reason: `volume data is not in the template`},
		"a StatefulSet Pod of an ordinal the StatefulSet does not run": {obj: "out of range pod", judgedItself: true,
			reason: `volume data is not in the template`},
		"a StatefulSet Pod of its first ordinal, spec.ordinals.start": {obj: "ledger pod"},
		"the current ReplicaSet of a Deployment":                      {obj: "current"},
		"an old revision that still runs Pods":                        {obj: "old", judgedItself: true, reason: "not explained by Deployment web's template: container app runs image registry.example.com/web:0.9"},
		"an old revision scaled to zero runs nothing":                 {obj: "idle"},
		"a Pod of an old revision scaled to zero":                     {obj: "idle pod", judgedItself: true, reason: "its controller ReplicaSet web-older is an old revision scaled to zero"},
		"a Pod of a custom resource called ReplicaSet":                {obj: "custom", judgedItself: true},
		"a Deployment": {obj: "deployment", judgedItself: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := objs[tc.obj]
			if got := inv.JudgedThroughController(o); got == tc.judgedItself {
				reason := ""
				if p := inv.Provenance(o); p != nil {
					reason = p.Reason
				}
				t.Fatalf("judged through its controller = %v, want %v (reason %q)", got, !tc.judgedItself, reason)
			}
			if tc.reason != "" && !strings.Contains(inv.Provenance(o).Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", inv.Provenance(o).Reason, tc.reason)
			}
		})
	}

	t.Run("scan: a controller that is not among the manifests", func(t *testing.T) {
		pod := engine.NewObject(webPod(), "v1", "Pod")
		inv := engine.NewInventory([]*engine.Object{pod}, false)
		if inv.JudgedThroughController(pod) {
			t.Fatal("a manifest Pod whose controller is not in the input is judged through it")
		}
		if want := "its controller ReplicaSet web-abc is not among the objects given"; inv.Provenance(pod).Reason != want {
			t.Errorf("reason %q, want %q", inv.Provenance(pod).Reason, want)
		}
	})
}

// TestACustomCheckOfPodsJudgesTheirControllersPods: a Pod its ReplicaSet's template explains is
// judged through its Deployment, but a custom check the profile writes for kind Pod does not run
// on Deployments: judged through them, the Pods of every controller went unjudged by it, and
// only bare Pods were. A custom check reads any field, the template explains only what the
// built-in checks read (a Pod on a control-plane node, spec.nodeName, here), so such a check
// judges the Pods themselves, while one that also targets the controller's kind (Workload here)
// judges the controller, and the Pod itself only where it fails where its template's Pod passes
// (TestACustomCheckOfTheControllersKindStillJudgesWhatItsTemplateDoesNotDecide).
func TestACustomCheckOfPodsJudgesTheirControllersPods(t *testing.T) {
	offControlPlane := func(id string, kinds ...string) v1alpha1.CustomCheck {
		return v1alpha1.CustomCheck{ID: id, Title: "off the control plane", Kinds: kinds, Criteria: []v1alpha1.Criterion{"CC6.1"},
			Expression: "!has(object.spec.nodeName) || !object.spec.nodeName.startsWith('control-plane')"}
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{
			offControlPlane("custom-pods", "Pod"),
			offControlPlane("custom-workloads", engine.KindWorkload),
		}}}
	pod := webPod()
	pod.Spec.NodeName = "control-plane-1"
	podObj := engine.NewObject(pod, "v1", "Pod")
	inv := engine.NewInventory([]*engine.Object{engine.NewObject(webDeployment(), "apps/v1", "Deployment"),
		engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet"), podObj}, true)
	if !inv.JudgedThroughController(podObj) {
		t.Fatalf("the Pod is not explained by its ReplicaSet: %s", inv.Provenance(podObj).Reason)
	}
	plan := engine.Compile(nil, profile)
	if len(plan.Problems) > 0 {
		t.Fatal(plan.Problems)
	}
	ev := plan.Evaluate(inv, nil, engine.Options{Now: time.Now(), KeepPassing: true})
	got := map[string]engine.Status{}
	for _, r := range ev.Results {
		got[r.Check.ID+" "+r.Object.Kind] = r.Status
	}
	want := map[string]engine.Status{
		"custom-pods Pod":             engine.StatusFail,
		"custom-pods Deployment":      engine.StatusPass, // its template, as the Pod it makes: no nodeName yet
		"custom-workloads Deployment": engine.StatusPass,
		"custom-workloads Pod":        engine.StatusFail, // its nodeName, which its template does not decide
	}
	if !maps.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

// adminNetworkPolicy is an AdminNetworkPolicy or BaselineAdminNetworkPolicy of the Network Policy
// API (cluster-scoped) as the operator reads it (unstructured), with spec.
func adminNetworkPolicy(kind, name string, spec map[string]any) *engine.Object {
	const apiVersion = "policy.networking.k8s.io/v1alpha1"
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name}, "spec": spec}}
	return engine.NewObject(u, apiVersion, kind)
}

// clusterNetworkPolicy is a ClusterNetworkPolicy of the Network Policy API (cluster-scoped,
// policy.networking.k8s.io/v1beta1) as the operator reads it (unstructured), with spec.
func clusterNetworkPolicy(name string, spec map[string]any) *engine.Object {
	const apiVersion = "policy.networking.k8s.io/v1beta1"
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": "ClusterNetworkPolicy",
		"metadata": map[string]any{"name": name}, "spec": spec}}
	return engine.NewObject(u, apiVersion, "ClusterNetworkPolicy")
}

// cniPolicy is a Cilium or Calico policy as the operator reads it (unstructured), with spec.
func cniPolicy(apiVersion, kind, name string, spec map[string]any) *engine.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "shop"}, "spec": spec}}
	return engine.NewObject(u, apiVersion, kind)
}

// clusterCNIPolicy is a cluster-scoped Cilium or Calico policy as the operator reads it
// (unstructured), with spec.
func clusterCNIPolicy(apiVersion, kind, name string, spec map[string]any) *engine.Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name}, "spec": spec}}
	return engine.NewObject(u, apiVersion, kind)
}

// Package inventory says which kinds the operator reads and gathers them from the informer
// cache into engine objects. It is the only place that knows the list: the reconcilers watch
// exactly these kinds, the cache holds exactly these kinds, and RBAC grants read on exactly
// these kinds. The operator never reads Secrets.
package inventory

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Kind is one kind the operator reads.
type Kind struct {
	// GVK is the group, version and kind read.
	GVK schema.GroupVersionKind
	// Namespaced is false for cluster-scoped kinds.
	Namespaced bool
	// Optional kinds come from add-ons whose CRDs may be absent (Trivy Operator's reports, the
	// Gateway API's Gateways and routes, OpenShift's Routes): the operator reads them only when
	// the API server serves them.
	Optional bool
	// Everywhere kinds are gathered from every namespace for the evaluation of any one: a
	// route may attach to the Gateway, or ListenerSet, of another namespace (a shared Gateway
	// that admits the routes of others), and checks read it there. They are judged in their own namespace's
	// evaluation only (engine.Options.OnlyNamespace).
	Everywhere bool
	// Route kinds name the Gateways they attach to in spec.parentRefs (a ListenerSet the one it
	// adds listeners to in spec.parentRef): a change to a Gateway re-evaluates the namespaces of
	// the routes and ListenerSets that name it.
	Route bool
	// Older are the versions, newest first, at which an API server that does not serve an
	// optional kind at GVK.Version may serve it instead (an older release of its add-on: the
	// Gateway API served TCPRoutes at v1alpha2 only until v1.6.0). AvailableKinds reads the
	// kind at the first one served.
	Older []string
	// ByName kinds are not gathered as such: the engine reads an object of the kind by the name
	// another object gives (a bound Pod's Node, engine.OSKinds), read from the cache as metadata
	// only (NodesOf). A change to one re-evaluates the namespaces of the objects that name it.
	ByName bool
	// New returns an empty object of the kind, typed where the kind has a Go type.
	New func() client.Object
	// NewList returns an empty list of the kind.
	NewList func() client.ObjectList
}

// APIVersion is the group/version string.
func (k Kind) APIVersion() string { return k.GVK.GroupVersion().String() }

func typed(gv schema.GroupVersion, kind string, namespaced bool, newObj func() client.Object, newList func() client.ObjectList) Kind {
	return Kind{GVK: gv.WithKind(kind), Namespaced: namespaced, New: newObj, NewList: newList}
}

func optional(gv schema.GroupVersion, kind string) Kind {
	gvk := gv.WithKind(kind)
	return Kind{GVK: gvk, Namespaced: true, Optional: true,
		New: func() client.Object {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			return u
		},
		NewList: func() client.ObjectList {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(gv.WithKind(kind + "List"))
			return l
		},
	}
}

// clusterScoped is an optional kind whose objects belong to no namespace.
func clusterScoped(k Kind) Kind {
	k.Namespaced = false
	return k
}

func everywhere(k Kind) Kind {
	k.Everywhere = true
	return k
}

func route(k Kind) Kind {
	k.Route = true
	return k
}

func older(k Kind, versions ...string) Kind {
	k.Older = versions
	return k
}

// atVersion is the optional kind k read at version v.
func (k Kind) atVersion(v string) Kind {
	o := optional(schema.GroupVersion{Group: k.GVK.Group, Version: v}, k.GVK.Kind)
	o.Namespaced, o.Everywhere, o.Route = k.Namespaced, k.Everywhere, k.Route
	return o
}

var (
	core    = corev1.SchemeGroupVersion
	apps    = appsv1.SchemeGroupVersion
	batch   = batchv1.SchemeGroupVersion
	netv1   = networkingv1.SchemeGroupVersion
	rbac    = rbacv1.SchemeGroupVersion
	policy  = policyv1.SchemeGroupVersion
	autosc  = autoscalingv2.SchemeGroupVersion
	storage = storagev1.SchemeGroupVersion
	sched   = schedulingv1.SchemeGroupVersion
	nodegv  = nodev1.SchemeGroupVersion
	trivy   = schema.GroupVersion{Group: "aquasecurity.github.io", Version: "v1alpha1"}
	gwapi   = schema.GroupVersion{Group: "gateway.networking.k8s.io", Version: "v1"}
	osroute = schema.GroupVersion{Group: "route.openshift.io", Version: "v1"}
	istio   = schema.GroupVersion{Group: "networking.istio.io", Version: "v1"}
	cilium  = schema.GroupVersion{Group: "cilium.io", Version: "v2"}
	calico  = schema.GroupVersion{Group: "projectcalico.org", Version: "v3"}
	calicod = schema.GroupVersion{Group: "crd.projectcalico.org", Version: "v1"}
	netpol  = schema.GroupVersion{Group: "policy.networking.k8s.io", Version: "v1alpha1"}
	cnp     = schema.GroupVersion{Group: "policy.networking.k8s.io", Version: "v1beta1"}
	keda    = schema.GroupVersion{Group: "keda.sh", Version: "v1alpha1"}
	argo    = schema.GroupVersion{Group: "argoproj.io", Version: "v1alpha1"}
	kong    = schema.GroupVersion{Group: "configuration.konghq.com", Version: "v1"}
	traefik = schema.GroupVersion{Group: "traefik.io", Version: "v1alpha1"}
	dra     = schema.GroupVersion{Group: "resource.k8s.io", Version: "v1"}
)

// Kinds are every kind the operator reads, in a fixed order. internal/manifest has its own table
// of the Go type each kind decodes into from a file, which covers more (older API groups, kinds
// only scan judges): TestManifestsDecodeAsTheOperatorReads holds the two to the same type and
// scope where both know a kind.
var Kinds = []Kind{
	typed(core, "Namespace", false, func() client.Object { return &corev1.Namespace{} }, func() client.ObjectList { return &corev1.NamespaceList{} }),
	typed(core, "Pod", true, func() client.Object { return &corev1.Pod{} }, func() client.ObjectList { return &corev1.PodList{} }),
	typed(core, "ReplicationController", true, func() client.Object { return &corev1.ReplicationController{} }, func() client.ObjectList { return &corev1.ReplicationControllerList{} }),
	typed(core, "Service", true, func() client.Object { return &corev1.Service{} }, func() client.ObjectList { return &corev1.ServiceList{} }),
	typed(core, "ServiceAccount", true, func() client.Object { return &corev1.ServiceAccount{} }, func() client.ObjectList { return &corev1.ServiceAccountList{} }),
	typed(core, "ConfigMap", true, func() client.Object { return &corev1.ConfigMap{} }, func() client.ObjectList { return &corev1.ConfigMapList{} }),
	typed(core, "ResourceQuota", true, func() client.Object { return &corev1.ResourceQuota{} }, func() client.ObjectList { return &corev1.ResourceQuotaList{} }),
	typed(core, "PersistentVolumeClaim", true, func() client.Object { return &corev1.PersistentVolumeClaim{} }, func() client.ObjectList { return &corev1.PersistentVolumeClaimList{} }),
	typed(core, "PersistentVolume", false, func() client.Object { return &corev1.PersistentVolume{} }, func() client.ObjectList { return &corev1.PersistentVolumeList{} }),
	typed(core, "LimitRange", true, func() client.Object { return &corev1.LimitRange{} }, func() client.ObjectList { return &corev1.LimitRangeList{} }),
	typed(apps, "Deployment", true, func() client.Object { return &appsv1.Deployment{} }, func() client.ObjectList { return &appsv1.DeploymentList{} }),
	typed(apps, "StatefulSet", true, func() client.Object { return &appsv1.StatefulSet{} }, func() client.ObjectList { return &appsv1.StatefulSetList{} }),
	typed(apps, "DaemonSet", true, func() client.Object { return &appsv1.DaemonSet{} }, func() client.ObjectList { return &appsv1.DaemonSetList{} }),
	typed(apps, "ReplicaSet", true, func() client.Object { return &appsv1.ReplicaSet{} }, func() client.ObjectList { return &appsv1.ReplicaSetList{} }),
	typed(batch, "Job", true, func() client.Object { return &batchv1.Job{} }, func() client.ObjectList { return &batchv1.JobList{} }),
	typed(batch, "CronJob", true, func() client.Object { return &batchv1.CronJob{} }, func() client.ObjectList { return &batchv1.CronJobList{} }),
	typed(netv1, "NetworkPolicy", true, func() client.Object { return &networkingv1.NetworkPolicy{} }, func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }),
	typed(netv1, "Ingress", true, func() client.Object { return &networkingv1.Ingress{} }, func() client.ObjectList { return &networkingv1.IngressList{} }),
	typed(rbac, "Role", true, func() client.Object { return &rbacv1.Role{} }, func() client.ObjectList { return &rbacv1.RoleList{} }),
	typed(rbac, "RoleBinding", true, func() client.Object { return &rbacv1.RoleBinding{} }, func() client.ObjectList { return &rbacv1.RoleBindingList{} }),
	typed(rbac, "ClusterRole", false, func() client.Object { return &rbacv1.ClusterRole{} }, func() client.ObjectList { return &rbacv1.ClusterRoleList{} }),
	typed(rbac, "ClusterRoleBinding", false, func() client.Object { return &rbacv1.ClusterRoleBinding{} }, func() client.ObjectList { return &rbacv1.ClusterRoleBindingList{} }),
	typed(policy, "PodDisruptionBudget", true, func() client.Object { return &policyv1.PodDisruptionBudget{} }, func() client.ObjectList { return &policyv1.PodDisruptionBudgetList{} }),
	typed(autosc, "HorizontalPodAutoscaler", true, func() client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }, func() client.ObjectList { return &autoscalingv2.HorizontalPodAutoscalerList{} }),
	typed(storage, "StorageClass", false, func() client.Object { return &storagev1.StorageClass{} }, func() client.ObjectList { return &storagev1.StorageClassList{} }),
	typed(sched, "PriorityClass", false, func() client.Object { return &schedulingv1.PriorityClass{} }, func() client.ObjectList { return &schedulingv1.PriorityClassList{} }),
	// RuntimeClasses and Nodes decide a pod's OS where its own spec does not (engine.OSKinds):
	// a template's RuntimeClass by its scheduling.nodeSelector, a bound Pod's Node by its
	// kubernetes.io/os label. Nodes are read by name, metadata only.
	typed(nodegv, "RuntimeClass", false, func() client.Object { return &nodev1.RuntimeClass{} }, func() client.ObjectList { return &nodev1.RuntimeClassList{} }),
	NodeKind,
	optional(trivy, "VulnerabilityReport"),
	optional(trivy, "ExposedSecretReport"),
	everywhere(optional(gwapi, "Gateway")),
	route(optional(gwapi, "HTTPRoute")),
	older(route(optional(gwapi, "GRPCRoute")), "v1alpha2"),
	older(route(optional(gwapi, "TLSRoute")), "v1alpha3", "v1alpha2"),
	older(route(optional(gwapi, "TCPRoute")), "v1alpha2"),
	older(route(optional(gwapi, "UDPRoute")), "v1alpha2"),
	everywhere(route(optional(gwapi, "ListenerSet"))),
	// OpenShift's Route, served by OpenShift's API server (a CRD on MicroShift): it names a
	// Service, not a Gateway, so it is no Gateway API route kind.
	optional(osroute, "Route"),
	// Istio's own Gateway (not a Gateway API route's parent): its servers open ports at its
	// gateway proxies' address, and VirtualServices of other namespaces bind routes to them
	// (spec.gateways). Istio served both at v1beta1 and v1alpha3 before 1.22's v1.
	everywhere(older(optional(istio, "Gateway"), "v1beta1", "v1alpha3")),
	older(optional(istio, "VirtualService"), "v1beta1", "v1alpha3"),
	// CNI network policies, which add to what NetworkPolicies allow: Cilium's, and Calico's
	// NetworkPolicy (a kind name shared with Kubernetes', told apart by group) as Calico's API
	// server serves it and as its CRD stores it (calicoctl writes there where that API server is
	// not installed; where it is, a policy is read in both groups, to the same verdict).
	optional(cilium, "CiliumNetworkPolicy"),
	clusterScoped(optional(cilium, "CiliumClusterwideNetworkPolicy")),
	optional(calico, "NetworkPolicy"),
	optional(calicod, "NetworkPolicy"),
	// The Network Policy API's cluster-wide policies (sig-network), which decide before
	// NetworkPolicies (AdminNetworkPolicy) and for the pods none selects (the
	// BaselineAdminNetworkPolicy).
	clusterScoped(optional(netpol, "AdminNetworkPolicy")),
	clusterScoped(optional(netpol, "BaselineAdminNetworkPolicy")),
	// Its ClusterNetworkPolicy, which replaces both from the API's v0.2.0 (tier Admin or
	// Baseline): served at v1beta1 from v0.3.0, at v1alpha2 only before (the same schema).
	clusterScoped(older(optional(cnp, "ClusterNetworkPolicy"), "v1alpha2")),
	// Calico's GlobalNetworkPolicy, cluster-scoped, in both of Calico's groups as its
	// NetworkPolicy: ordered among the NetworkPolicies, it can open or close every namespace's pods.
	clusterScoped(optional(calico, "GlobalNetworkPolicy")),
	clusterScoped(optional(calicod, "GlobalNetworkPolicy")),
	// KEDA's ScaledObject, which scales its target below the minReplicas of the autoscaler KEDA
	// creates for it (to zero, or its idleReplicaCount, while its triggers are idle).
	optional(keda, "ScaledObject"),
	// Argo Rollouts' Rollout, which runs the template of a Deployment it names (spec.workloadRef)
	// through ReplicaSets of its own, the Deployment scaled to 0.
	optional(argo, "Rollout"),
	// Kong's KongPlugin, which a namespace's Ingresses and Services attach (konghq.com/plugins):
	// net-ingress-snippets fails one that runs Lua code in the shared proxy (pre-function,
	// post-function).
	optional(kong, "KongPlugin"),
	// Traefik's IngressRoute, whose routes name Middlewares and ServersTransports, of other
	// namespaces too: net-ingress-snippets fails one that names another namespace's.
	optional(traefik, "IngressRoute"),
	// Dynamic Resource Allocation's claims and claim templates (wl-device-admin-access), read
	// unstructured as internal/manifest decodes them: built in, served at v1 from Kubernetes
	// 1.34, at v1beta2 or v1beta1 before where DRA was enabled, not at all where it was not.
	older(optional(dra, "ResourceClaim"), "v1beta2", "v1beta1"),
	older(optional(dra, "ResourceClaimTemplate"), "v1beta2", "v1beta1"),
}

// NodeKind is the Node, read by name (ByName) and as metadata only: a bound Pod's node's
// kubernetes.io/os label is all the engine reads of it.
var NodeKind = Kind{GVK: core.WithKind("Node"), ByName: true,
	New: func() client.Object {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(core.WithKind("Node"))
		return m
	},
	NewList: func() client.ObjectList {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(core.WithKind("NodeList"))
		return l
	},
}

// ByKind finds a kind by name.
func ByKind(kind string) (Kind, bool) {
	for _, k := range Kinds {
		if k.GVK.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// AvailableKinds are the kinds the operator reads that the API server serves: every built-in
// kind, and the optional add-on kinds whose CRDs are installed, at the first of their Older
// versions served where the API server does not serve their own.
func AvailableKinds(mapper meta.RESTMapper) ([]Kind, error) {
	var out []Kind
	for _, k := range Kinds {
		if _, err := mapper.RESTMapping(k.GVK.GroupKind(), k.GVK.Version); err != nil {
			if k.Optional && meta.IsNoMatchError(err) {
				for _, v := range k.Older {
					if _, err := mapper.RESTMapping(k.GVK.GroupKind(), v); err == nil {
						out = append(out, k.atVersion(v))
						break
					}
				}
				continue
			}
			return nil, fmt.Errorf("the API server does not serve %s: %w", k.GVK, err)
		}
		out = append(out, k)
	}
	return out, nil
}

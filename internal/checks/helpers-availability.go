package checks

import (
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	apipath "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// replicatedKinds are the controllers whose replica count availability checks judge: the
// Deployments and StatefulSets, and the ReplicaSets and ReplicationControllers that run a
// workload themselves (controlledRevision says which do not).
var replicatedKinds = []string{"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

// notWorkload records NotApplicable and returns true when o, the target of a check that judges
// Pods or replicated workloads, is not a Kubernetes workload: a custom resource of another API
// group whose kind reuses the name (OpenKruise's apps.kruise.io StatefulSet, a tenant's
// example.com Pod), which a scan reads as unstructured, without the replicas and pod template
// the checks judge, and whose pods, if any, its own controller makes. Read as a workload it
// failed as one running a single replica that no budget selects.
func notWorkload(ctx *engine.Context, o *engine.Object) bool {
	if o.Workload != nil {
		return false
	}
	ctx.NotApplicable("", "not a Kubernetes workload: a custom resource whose kind reuses the name "+o.Kind)
	return true
}

// controlledRevision reports a ReplicaSet or ReplicationController that a controller really owns
// (a Deployment's revision, which the Deployment's own results cover) as NotApplicable and
// returns true: its controller sets its replicas and its template, moves replicas between
// revisions, and is what the availability checks judge. A controller reference is the object's
// claim, which a namespace admin may write into their own object, so it counts only as far as it
// can be verified:
//
//   - a built-in controller that creates objects of this kind (a Deployment for a ReplicaSet;
//     nothing creates ReplicationControllers) and is in the inventory with the UID the reference
//     names (Inventory.Provenance): NotApplicable;
//   - one that is not there: in the operator, whose view is complete, nothing manages the object,
//     which is judged as bare (false returned; the engine's note on a failure names the
//     controller); in a scan the controller may simply not be among the manifests, and the
//     check says NotAssessed;
//   - a built-in kind that manages no objects of this kind (a Deployment naming a
//     ReplicationController, a ConfigMap, a Deployment of the unserved extensions/v1beta1 that
//     the garbage collector cannot resolve): nothing manages it, judged as bare;
//   - a custom resource (an Argo Rollout's revision, a canary): the operator does not read it and
//     cannot tell that it exists or sets the replicas (the garbage collector leaves alone an
//     object whose owner's kind nothing serves), so the check says NotAssessed, naming it.
//
// A Deployment or StatefulSet an operator's resource owns has the replicas and template it was
// given, and is judged.
func controlledRevision(ctx *engine.Context, o *engine.Object) bool {
	if o.Kind != "ReplicaSet" && o.Kind != "ReplicationController" {
		return false
	}
	// Provenance is nil unless the reference names a built-in controller (engine.ControllerRef).
	if p := ctx.Inventory.Provenance(o); p != nil {
		switch {
		case p.Owner != nil: // set only when p.Creates
			ctx.NotApplicable("", fmt.Sprintf("its controller %s %q sets its replicas and template", p.Ref.Kind, p.Ref.Name))
			return true
		case !p.Creates || ctx.Inventory.Complete:
			return false
		}
		ctx.NotAssessed("", fmt.Sprintf("%s: whether a controller sets its replicas and template cannot be told", p.Reason))
		return true
	}
	ref := metav1.GetControllerOfNoCopy(o.Obj)
	if ref == nil || builtInGroup(ref) {
		return false
	}
	ctx.NotAssessed("", fmt.Sprintf("its controller %s %s %s is a custom resource, which is not read: whether it sets the %s's replicas and template cannot be verified",
		ref.APIVersion, ref.Kind, ref.Name, o.Kind))
	return true
}

// builtInGroup reports whether a reference names a kind of a built-in API group: the core group
// or another group without a dot (a CustomResourceDefinition's group must contain one), or an
// apiVersion that does not parse, which names no custom resource either.
func builtInGroup(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err != nil || !strings.Contains(gv.Group, ".")
}

// controlledRevisionText says in the availability checks' descriptions how a ReplicaSet's or a
// ReplicationController's controller reference counts (controlledRevision).
const controlledRevisionText = " A controller reference is what the object claims, and counts as far as it can be verified: " +
	"a ReplicaSet whose Deployment exists with the UID its reference names is part of the Deployment's " +
	"workload, judged there, and is NotApplicable; one whose Deployment does not exist (in the operator, " +
	"which sees the whole cluster), or whose controller is a built-in kind that manages no such object " +
	"(nothing creates ReplicationControllers), is judged as unmanaged; one whose controller is a custom " +
	"resource (an Argo Rollout), which is not read, or in a scan a Deployment not among the manifests, " +
	"is NotAssessed."

// workloadRef identifies a workload as an HPA's scaleTargetRef names it: the HPA controller
// finds its target by the API group of scaleTargetRef.apiVersion (any version) and the kind.
type workloadRef struct{ namespace, group, kind, name string }

// apiGroup is the API group of an apiVersion ("apps" of apps/v1, "" of v1), or "?" when it does
// not parse, which names no group.
func apiGroup(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return "?"
	}
	return gv.Group
}

// autoscalersByTarget indexes the HorizontalPodAutoscalers of the evaluation by the workload
// they scale, once per evaluation.
func autoscalersByTarget(inv *engine.Inventory) map[workloadRef][]*autoscalingv2.HorizontalPodAutoscaler {
	return inv.Memo(nil, "availability.autoscalersByTarget", func() any {
		// One HorizontalPodAutoscaler written more than once (in two API versions, say) is one
		// object once applied, the last written: it does not make a target ambiguous.
		// One the API server refuses is never created: it scales nothing, replaces no copy
		// written before it (the last earlier copy it takes stays, Inventory.Earlier: until
		// December 2026 a refused later copy hid it, and its target was judged at its own
		// replicas), and makes no other autoscaler of its target ambiguous.
		type name struct{ namespace, name string }
		last := map[name]*autoscalingv2.HorizontalPodAutoscaler{}
		var order []name
		for _, o := range inv.ListKind("HorizontalPodAutoscaler") {
			h, ok := o.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
			if ok && refusedAutoscaler(inv, o, h) != "" {
				h, ok = nil, false
				for _, e := range slices.Backward(inv.Earlier(o)) {
					if eh, isHPA := e.Obj.(*autoscalingv2.HorizontalPodAutoscaler); isHPA && refusedAutoscaler(inv, e, eh) == "" {
						h, ok = eh, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			n := name{o.Namespace, o.Name}
			if _, seen := last[n]; !seen {
				order = append(order, n)
			}
			last[n] = h
		}
		// In a scan, a KEDA ScaledObject stands for the autoscaler KEDA creates for it, by that
		// name: the one a dump of the cluster holds beside it is replaced, as its ScaledObject
		// says KEDA keeps it.
		for _, so := range kedaAutoscalers(inv) {
			n := name{so.hpa.Namespace, so.hpa.Name}
			if _, seen := last[n]; !seen {
				order = append(order, n)
			}
			last[n] = so.hpa
		}
		idx := map[workloadRef][]*autoscalingv2.HorizontalPodAutoscaler{}
		for _, n := range order {
			ref := last[n].Spec.ScaleTargetRef
			k := workloadRef{n.namespace, apiGroup(ref.APIVersion), ref.Kind, ref.Name}
			idx[k] = append(idx[k], last[n])
		}
		return idx
	}).(map[workloadRef][]*autoscalingv2.HorizontalPodAutoscaler)
}

// refusedAutoscaler says why the API server refuses to create an autoscaler, or "" when it does
// not: maxReplicas unset (0) or negative, a negative minReplicas (0 is allowed, HPAScaleToZero
// being on by default since 1.37), a maxReplicas below minReplicas, a scaleTargetRef without a
// kind or a name, metrics it refuses (refusedMetrics) or behavior it refuses (refusedScalingRules)
// (validateHorizontalPodAutoscalerSpec and validationOptionsForHorizontalPodAutoscaler,
// k8s.io/kubernetes v1.37.2 pkg/apis/autoscaling/validation and
// pkg/registry/autoscaling/horizontalpodautoscaler), or, in a manifest, an API version
// Kubernetes no longer serves (unservedVersion: autoscaling/v2beta1 and v2beta2). Only a manifest
// can hold such an autoscaler; so can it one whose metadata the API server refuses
// (refusedManifestMeta).
func refusedAutoscaler(inv *engine.Inventory, o *engine.Object, h *autoscalingv2.HorizontalPodAutoscaler) string {
	if why := unservedVersion(inv, o); why != "" {
		return why
	}
	if why := refusedManifestMeta(inv, &h.ObjectMeta, apimachineryvalidation.NameIsDNSSubdomain); why != "" {
		return why
	}
	spec := h.Spec
	switch {
	case spec.MaxReplicas == 0:
		return "maxReplicas must be set and greater than 0"
	case spec.MaxReplicas < 0:
		return fmt.Sprintf("maxReplicas %d is below 1", spec.MaxReplicas)
	case spec.MinReplicas != nil && *spec.MinReplicas < 0:
		return fmt.Sprintf("minReplicas %d is below 0", *spec.MinReplicas)
	case spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas:
		return fmt.Sprintf("maxReplicas %d is below minReplicas %d", spec.MaxReplicas, *spec.MinReplicas)
	case spec.ScaleTargetRef.Kind == "" || spec.ScaleTargetRef.Name == "":
		return "scaleTargetRef needs a kind and a name"
	}
	if why := refusedMetrics(spec.Metrics, spec.MinReplicas); why != "" {
		return why
	}
	if b := spec.Behavior; b != nil {
		for _, r := range []struct {
			name  string
			rules *autoscalingv2.HPAScalingRules
		}{{"scaleUp", b.ScaleUp}, {"scaleDown", b.ScaleDown}} {
			if why := refusedScalingRules(r.rules); why != "" {
				return "behavior." + r.name + ": " + why
			}
		}
	}
	return ""
}

// refusedMetrics says why the API server refuses an autoscaler's metrics, or "" (validateMetrics,
// validateMetricSpec and the validate*Source functions, k8s.io/kubernetes v1.37.2
// pkg/apis/autoscaling/validation): a type other than Object, Pods, Resource, ContainerResource
// and External, or without its source, or with another source beside it; a source without a
// metric, resource or container name; a target of a type other than Utilization, Value and
// AverageValue, with a value or averageValue that is not positive or an averageUtilization below
// 1; a Resource or ContainerResource target with neither or both of averageUtilization and
// averageValue, a Pods target without averageValue, an Object or External target with neither
// value nor averageValue (External: not both); minReplicas 0 without an Object or External metric.
func refusedMetrics(metrics []autoscalingv2.MetricSpec, minReplicas *int32) string {
	objectOrExternal := false
	for i, m := range metrics {
		at := fmt.Sprintf("metrics[%d]", i)
		sources := map[autoscalingv2.MetricSourceType]bool{
			autoscalingv2.ObjectMetricSourceType:            m.Object != nil,
			autoscalingv2.PodsMetricSourceType:              m.Pods != nil,
			autoscalingv2.ResourceMetricSourceType:          m.Resource != nil,
			autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
			autoscalingv2.ExternalMetricSourceType:          m.External != nil,
		}
		given, known := sources[m.Type]
		switch {
		case !known:
			return fmt.Sprintf("%s: type %q is not Object, Pods, Resource, ContainerResource or External", at, m.Type)
		case !given:
			return fmt.Sprintf("%s: type %s without its source", at, m.Type)
		}
		for t, set := range sources {
			if set && t != m.Type {
				return fmt.Sprintf("%s: type %s with another source beside it", at, m.Type)
			}
		}
		var target autoscalingv2.MetricTarget
		name := ""
		switch m.Type {
		case autoscalingv2.ObjectMetricSourceType:
			target, name, objectOrExternal = m.Object.Target, m.Object.Metric.Name, true
			if target.Value == nil && target.AverageValue == nil {
				return at + ": an Object target needs a value or an averageValue"
			}
		case autoscalingv2.ExternalMetricSourceType:
			target, name, objectOrExternal = m.External.Target, m.External.Metric.Name, true
			if (target.Value == nil) == (target.AverageValue == nil) {
				return at + ": an External target needs one of value and averageValue"
			}
		case autoscalingv2.PodsMetricSourceType:
			target, name = m.Pods.Target, m.Pods.Metric.Name
			if target.AverageValue == nil {
				return at + ": a Pods target needs an averageValue"
			}
		case autoscalingv2.ResourceMetricSourceType:
			target, name = m.Resource.Target, string(m.Resource.Name)
		case autoscalingv2.ContainerResourceMetricSourceType:
			target, name = m.ContainerResource.Target, string(m.ContainerResource.Name)
			if m.ContainerResource.Container == "" {
				return at + ": a ContainerResource metric needs a container"
			}
		}
		if name == "" {
			return at + ": the metric needs a name"
		}
		if m.Type == autoscalingv2.ResourceMetricSourceType || m.Type == autoscalingv2.ContainerResourceMetricSourceType {
			if (target.AverageUtilization == nil) == (target.AverageValue == nil) {
				return at + ": a resource target needs one of averageUtilization and averageValue"
			}
		}
		switch {
		case target.Type != autoscalingv2.UtilizationMetricType && target.Type != autoscalingv2.ValueMetricType && target.Type != autoscalingv2.AverageValueMetricType:
			return fmt.Sprintf("%s: target type %q is not Utilization, Value or AverageValue", at, target.Type)
		case target.Value != nil && target.Value.Sign() != 1:
			return fmt.Sprintf("%s: target value %s is not positive", at, target.Value.String())
		case target.AverageValue != nil && target.AverageValue.Sign() != 1:
			return fmt.Sprintf("%s: target averageValue %s is not positive", at, target.AverageValue.String())
		case target.AverageUtilization != nil && *target.AverageUtilization < 1:
			return fmt.Sprintf("%s: target averageUtilization %d is below 1", at, *target.AverageUtilization)
		}
	}
	if minReplicas != nil && *minReplicas == 0 && !objectOrExternal {
		return "minReplicas 0 needs an Object or External metric"
	}
	return ""
}

// refusedScalingRules says why the API server refuses an autoscaler's scaling rules, or "": a
// stabilizationWindowSeconds below 0 or above 3600, a selectPolicy other than Max, Min and
// Disabled, policies given but empty, a policy of a type other than Pods and Percent, with a value
// below 1 or a periodSeconds outside 1-1800, a negative tolerance (validateScalingRules and
// validateScalingPolicy, k8s.io/kubernetes v1.37.2 pkg/apis/autoscaling/validation). What a rule
// leaves unset is defaulted first (copyHPAScalingRules, pkg/apis/autoscaling/v2/defaults.go),
// policies only when they are absent.
func refusedScalingRules(r *autoscalingv2.HPAScalingRules) string {
	if r == nil {
		return ""
	}
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > 3600) {
		return fmt.Sprintf("stabilizationWindowSeconds %d is not between 0 and 3600", *w)
	}
	if p := r.SelectPolicy; p != nil && *p != autoscalingv2.MaxChangePolicySelect && *p != autoscalingv2.MinChangePolicySelect && *p != autoscalingv2.DisabledPolicySelect {
		return fmt.Sprintf("selectPolicy %q is not Max, Min or Disabled", *p)
	}
	if r.Policies != nil && len(r.Policies) == 0 {
		return "policies must hold at least one policy"
	}
	for i, p := range r.Policies {
		switch {
		case p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy:
			return fmt.Sprintf("policies[%d]: type %q is not Pods or Percent", i, p.Type)
		case p.Value <= 0:
			return fmt.Sprintf("policies[%d]: value %d is not greater than zero", i, p.Value)
		case p.PeriodSeconds <= 0 || p.PeriodSeconds > 1800:
			return fmt.Sprintf("policies[%d]: periodSeconds %d is not between 1 and 1800", i, p.PeriodSeconds)
		}
	}
	if t := r.Tolerance; t != nil && t.Sign() < 0 {
		return fmt.Sprintf("tolerance %s is negative", t.String())
	}
	return ""
}

// unservedVersion says that Kubernetes no longer serves, or does not serve, a manifest's API
// version (notServed: what chg-deprecated-apis fails), or "": the API server refuses to create
// the object, which then exists only in the file. An object the operator reads is served.
func unservedVersion(inv *engine.Inventory, o *engine.Object) string {
	if inv.Complete {
		return ""
	}
	return Unserved(o)
}

// addOnServed are, for the add-on kinds other objects' checks read (a route's Gateway or
// ListenerSet, a VirtualService's Istio Gateway) and the route kinds beside them, every version
// some release of the add-on the operator reads serves; a manifest of such a kind in its group at
// any other version is one the API server refuses ("no matches for kind"), and Unserved says so.
// A version once served and since removed (gone) says since when. Where each copy may be the
// cluster's (both versions served by some release, the operator reads either: Kind.Older), the
// version is served: TestAddOnServedVersionsHoldWhatTheOperatorReads (internal/inventory) holds
// every version the operator reads among them.
//
// The Gateway API: the operator reads Gateways and HTTPRoutes only at v1, so it assumes a Gateway
// API of v1.0.0 or later, which serves GatewayClass, Gateway and HTTPRoute at v1 and v1beta1 only
// (v1alpha2 is not served since v0.8.0, kubernetes-sigs/gateway-api#2069); GRPCRoute at v1 from
// v1.1.0 and at v1alpha2 in the experimental channel until v1.2.0 (#3361); TLSRoute at v1 from
// v1.5.0 and at v1alpha3 and v1alpha2 in the experimental channel; TCPRoute and UDPRoute at v1
// from v1.6.0 (#4842, #4843) and at v1alpha2 in the experimental channel; ListenerSet at v1 from
// v1.5.0 (#4499; before, XListenerSet of gateway.networking.x-k8s.io, another kind). No release
// to v1.6.0 serves any other version of these kinds. Istio serves its Gateway and VirtualService
// at networking.istio.io v1 (1.22 on), v1beta1 and v1alpha3, and at no other version. The CNI
// policies other objects' checks read are served at one version each: Cilium's
// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy at cilium.io/v2, Calico's NetworkPolicy
// and GlobalNetworkPolicy at projectcalico.org/v3 (its API server, or its v3 CRDs) and at
// crd.projectcalico.org/v1 (its CRDs); so are KEDA's ScaledObject (keda.sh/v1alpha1, KEDA 2 on) and
// Argo Rollouts' Rollout (argoproj.io/v1alpha1), and the Network Policy API's AdminNetworkPolicy
// and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1: no release serves them at
// another version; its v0.2.0 replaces both with ClusterNetworkPolicy and ships no CRD of them,
// v0.1.7 their last release: addOnVersions.replacedBy), and its ClusterNetworkPolicy at v1alpha2
// (v0.2.0 on) and v1beta1 (v0.3.0 on, the same schema, v1alpha2 still served and not
// deprecated; sigs.k8s.io/network-policy-api CHANGELOG.md and config/crd to v0.3.1).
var addOnServed = map[schema.GroupKind]addOnVersions{
	{Group: gatewayGroup, Kind: "GatewayClass"}:                         gatewayAPIBeta,
	{Group: gatewayGroup, Kind: "Gateway"}:                              gatewayAPIBeta,
	{Group: gatewayGroup, Kind: "HTTPRoute"}:                            gatewayAPIBeta,
	{Group: gatewayGroup, Kind: "GRPCRoute"}:                            {addOn: gatewayAPI, served: []string{"v1", "v1alpha2"}},
	{Group: gatewayGroup, Kind: "TLSRoute"}:                             gatewayAPITLSRoute,
	{Group: gatewayGroup, Kind: "TCPRoute"}:                             gatewayAPIStreamRoute,
	{Group: gatewayGroup, Kind: "UDPRoute"}:                             gatewayAPIStreamRoute,
	{Group: gatewayGroup, Kind: "ListenerSet"}:                          {addOn: gatewayAPI, served: []string{"v1"}},
	{Group: istioGroup, Kind: "Gateway"}:                                istioNetworking,
	{Group: istioGroup, Kind: "VirtualService"}:                         istioNetworking,
	{Group: ciliumGroup, Kind: ciliumPolicyKind}:                        {addOn: "Cilium", served: []string{"v2"}},
	{Group: ciliumGroup, Kind: "CiliumClusterwideNetworkPolicy"}:        {addOn: "Cilium", served: []string{"v2"}},
	{Group: calicoAPIServerGroup, Kind: "NetworkPolicy"}:                {addOn: "Calico", served: []string{"v3"}},
	{Group: calicoAPIServerGroup, Kind: "GlobalNetworkPolicy"}:          {addOn: "Calico", served: []string{"v3"}},
	{Group: "crd." + calicoAPIServerGroup, Kind: "NetworkPolicy"}:       {addOn: "Calico", served: []string{"v1"}},
	{Group: "crd." + calicoAPIServerGroup, Kind: "GlobalNetworkPolicy"}: {addOn: "Calico", served: []string{"v1"}},
	{Group: kedaGroup, Kind: kedaScaledObjectKind}:                      {addOn: "KEDA", served: []string{"v1alpha1"}},
	{Group: "argoproj.io", Kind: argoRolloutKind}:                       {addOn: "Argo Rollouts", served: []string{"v1alpha1"}},
	{Group: engine.AdminNetworkPolicyGroup, Kind: adminPolicyKind}:      networkPolicyAPI,
	{Group: engine.AdminNetworkPolicyGroup, Kind: baselinePolicyKind}:   networkPolicyAPI,
	{Group: engine.AdminNetworkPolicyGroup, Kind: clusterPolicyKind}:    {addOn: "the Network Policy API", served: []string{"v1beta1", "v1alpha2"}},
}

// addOnVersions are the versions of an add-on kind some release serves (addOnServed).
type addOnVersions struct {
	// addOn names the add-on and the last release known.
	addOn string
	// served are the versions some release serves.
	served []string
	// gone are versions an older release served, with since when none does.
	gone map[string]string
	// replacedBy says what replaces a kind whose add-on no longer ships it from the release
	// replacedSince (the Network Policy API's v0.2.0 ships ClusterNetworkPolicy and no
	// AdminNetworkPolicy or BaselineAdminNetworkPolicy CRD, and its ClusterNetworkPolicy blog
	// post asks their users to migrate): a cluster given only a later release's CRDs does not
	// serve the kind. The versions stay served (a cluster may still hold the last release's CRDs,
	// and other objects' checks read them); chg-deprecated-apis fails them (addOnDeprecated).
	replacedBy, replacedSince, lastRelease string
	// deprecated are served versions the add-on has deprecated, with the release that did
	// (its CRD marks the version deprecated: the API server answers it with a deprecation
	// warning), which serves the kind at served[0]: what chg-deprecated-apis fails, as it
	// fails Kubernetes' own deprecated versions. The version stays served (Unserved).
	deprecated map[string]string
}

const (
	gatewayAPI   = "the Gateway API (to v1.6.0)"
	istioRelease = "Istio"
)

var (
	gatewayAPIBeta = addOnVersions{addOn: gatewayAPI, served: []string{"v1", "v1beta1"},
		gone: map[string]string{"v1alpha2": "since Gateway API v0.8.0 (a Gateway API that serves gateway.networking.k8s.io/v1, v1.0.0 on, serves v1 and v1beta1)"}}
	istioNetworking  = addOnVersions{addOn: istioRelease, served: []string{"v1", "v1beta1", "v1alpha3"}}
	networkPolicyAPI = addOnVersions{addOn: "the Network Policy API", served: []string{"v1alpha1"},
		replacedBy:    engine.AdminNetworkPolicyGroup + "/v1beta1 ClusterNetworkPolicy (v1alpha2 before the Network Policy API v0.3.0; tier Admin for an AdminNetworkPolicy, Baseline for the BaselineAdminNetworkPolicy; Allow becomes Accept, ports become protocols)",
		replacedSince: "v0.2.0", lastRelease: "v0.1.7"}
	// TLSRoute v1alpha2 and v1alpha3 are deprecated since v1.5.0, TCPRoute and UDPRoute v1alpha2
	// since v1.6.0, each when the kind's v1 came (addOnDeprecated).
	gatewayAPITLSRoute = addOnVersions{addOn: gatewayAPI, served: []string{"v1", "v1alpha3", "v1alpha2"},
		deprecated: map[string]string{"v1alpha3": "v1.5.0", "v1alpha2": "v1.5.0"}}
	gatewayAPIStreamRoute = addOnVersions{addOn: gatewayAPI, served: []string{"v1", "v1alpha2"},
		deprecated: map[string]string{"v1alpha2": "v1.6.0"}}
)

// AddOnServedVersions says at which versions some release of its add-on serves an add-on kind
// Unserved knows (addOnServed), and whether it knows the kind.
func AddOnServedVersions(gk schema.GroupKind) ([]string, bool) {
	v, ok := addOnServed[gk]
	return v.served, ok
}

// addOnUnserved says that no release of the add-on serves a manifest's version of an add-on kind
// of addOnServed, or "".
func addOnUnserved(o *engine.Object) string {
	why, _ := addOnNotServed(o)
	return why
}

// addOnNotServed says why no release of the add-on serves a manifest's version of an add-on kind
// of addOnServed, with the version to use instead, or "": what chg-deprecated-apis fails.
func addOnNotServed(o *engine.Object) (why, use string) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return "", ""
	}
	v, ok := addOnServed[gv.WithKind(o.Kind).GroupKind()]
	if !ok || slices.Contains(v.served, gv.Version) {
		return "", ""
	}
	use = gv.Group + "/" + v.served[0]
	if v.replacedBy != "" {
		use = v.replacedBy
	}
	if since := v.gone[gv.Version]; since != "" {
		return fmt.Sprintf("%s %s is not served %s", o.APIVersion, o.Kind, since), use
	}
	return fmt.Sprintf("%s %s is not served by any release of %s, which serves %s at %s", o.APIVersion, o.Kind, v.addOn, o.Kind, strings.Join(v.served, ", ")), use
}

// addOnDeprecated says that the add-on has deprecated a manifest's version of an add-on kind of
// addOnServed, which it still serves (addOnVersions.deprecated), with the version to use instead,
// or "": what chg-deprecated-apis fails. The Gateway API deprecated TLSRoute v1alpha2 and v1alpha3
// when it made TLSRoute v1 (v1.5.0), and TCPRoute and UDPRoute v1alpha2 when it made theirs
// (v1.6.0): its CRDs mark them deprecated, with the warning "The v1alpha2 version of TCPRoute has
// been deprecated and will be removed in a future release of the API. Please upgrade to v1.", and
// only its experimental channel still serves them (TestAddOnDeprecatedVersionsFollowTheGatewayAPI).
// A kind its add-on replaced (addOnVersions.replacedBy: the Network Policy API's
// AdminNetworkPolicy and BaselineAdminNetworkPolicy, which v0.2.0 replaces with
// ClusterNetworkPolicy) is failed at every version, naming its replacement: no CRD marks it
// deprecated, the later releases drop it.
func addOnDeprecated(o *engine.Object) (why, use string) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return "", ""
	}
	v, ok := addOnServed[gv.WithKind(o.Kind).GroupKind()]
	if ok && v.replacedBy != "" && slices.Contains(v.served, gv.Version) {
		addOn, _, _ := strings.Cut(v.addOn, " (")
		return fmt.Sprintf("%s %s is replaced since %s %s, which ships no %s CRD (%s is its last release that does): a cluster given only a later release's CRDs does not serve it, and the project asks its users to migrate",
			o.APIVersion, o.Kind, addOn, v.replacedSince, o.Kind, v.lastRelease), v.replacedBy
	}
	since := v.deprecated[gv.Version]
	if !ok || since == "" {
		return "", ""
	}
	addOn, _, _ := strings.Cut(v.addOn, " (") // "the Gateway API (to v1.6.0)"
	use = gv.Group + "/" + v.served[0]
	return fmt.Sprintf("%s %s is deprecated since %s %s, which serves %s at %s (only its experimental channel still serves %s, with a deprecation warning, until a later release removes it)",
		o.APIVersion, o.Kind, addOn, since, o.Kind, v.served[0], gv.Version), use
}

// Unserved says that Kubernetes no longer serves, or does not serve, a manifest's API version of
// its kind (notServed: what chg-deprecated-apis fails), or that no release of an add-on the
// operator reads does (addOnUnserved: a gateway.networking.k8s.io/v1alpha2 or v1beta2 Gateway, a
// networking.istio.io/v2 Gateway), or "", also for a kind chg-deprecated-apis does not judge
// (LimitRange), whose versions are not known.
func Unserved(o *engine.Object) string {
	if why := addOnUnserved(o); why != "" {
		return why
	}
	if _, known := servedAPIs[o.Kind]; !known {
		if _, removed := removedAPIs[apiKind{o.APIVersion, o.Kind}]; !removed {
			return ""
		}
	}
	why, _ := notServed(o)
	return why
}

// MarkUnserved sets Object.Unserved on the manifests of objs whose API version Kubernetes does
// not serve for their kind (Unserved): the API server refuses them, and a scan's inventory lets
// no other object's check read them.
func MarkUnserved(objs []*engine.Object) {
	for _, o := range objs {
		o.Unserved = Unserved(o)
	}
}

// autoscalerOf returns the HorizontalPodAutoscaler that scales a workload, or nil. One the API
// server refuses (refusedAutoscaler) does not exist, and scales nothing. One whose
// scaleTargetRef names the workload's kind and name in another API group (extensions/v1beta1
// for a Deployment, or no apiVersion at all) does not scale it: the HPA controller fails to get
// the scale. Should several target it, none scales it: the HPA controller finds the pods
// controlled by more than one HPA (AmbiguousSelector) and stops, and the workload keeps the
// replicas it has. Nor does one scale a workload whose replicas are set to zero (ScalingDisabled),
// unless it scaled the workload to zero itself (its ScaledToZero condition, HPAScaleToZero):
// the live status of a complete view only, since the API server drops the status of a manifest
// on create and the autoscaler it ships starts without the condition. The autoscaler of a KEDA
// ScaledObject (the one a scan's ScaledObject stands for, or in the cluster the one it controls:
// kedaScaledObjectOf) does scale one: KEDA raises a target at zero to the autoscaler's range
// itself. A ScaledObject written to claim an autoscaler only gets the workload judged at that
// autoscaler's range (its spread, its rollouts) instead of at zero pods, and avl-replicas fails
// what it idles at zero (scaledObjectFloor).
func autoscalerOf(inv *engine.Inventory, o *engine.Object) *autoscalingv2.HorizontalPodAutoscaler {
	if noScaleSubresource[schema.GroupKind{Group: apiGroup(o.APIVersion), Kind: o.Kind}] {
		return nil
	}
	hs := autoscalersByTarget(inv)[workloadRef{o.Namespace, apiGroup(o.APIVersion), o.Kind, o.Name}]
	if len(hs) != 1 {
		return nil
	}
	if o.Workload != nil && o.Workload.Replicas != nil && *o.Workload.Replicas == 0 && !(inv.Complete && scaledToZeroBy(hs[0])) &&
		kedaScaledObjectOf(inv, hs[0]) == nil {
		return nil
	}
	return hs[0]
}

// sharedAutoscaling is what several HorizontalPodAutoscalers that all target a workload do to it:
// ok is false unless there are several (and the workload has a scale subresource). None of them
// scales it by its metrics: each finds its pods controlled by more than one HPA
// (AmbiguousSelector). But that is found only when an HPA computes replicas from its metrics; one
// whose target runs fewer replicas than its minReplicas, or more than its maxReplicas, sets them
// to that bound without (reconcileAutoscaler, k8s.io/kubernetes v1.37.2
// pkg/controller/podautoscaler/horizontal.go: needsMetricComputation false, and
// validateAndParseSelector only called by computeReplicasForMetrics). The workload's replicas,
// unless zero (scaling is then disabled, ScalingDisabled, or each HPA computes its metrics and
// finds the ambiguity), are raised to the highest minReplicas and brought down to the lowest
// maxReplicas: lowest is the fewest it runs, the lowest maxReplicas when the HPAs' ranges do not
// meet (they then set it in turn to one bound and the other). names are the autoscalers, sorted.
func sharedAutoscaling(inv *engine.Inventory, o *engine.Object) (lowest int32, names []string, ok bool) {
	lowest, _, names, ok = sharedAutoscalingRange(inv, o)
	return lowest, names, ok
}

// sharedAutoscalingRange is sharedAutoscaling with most, the most replicas the workload runs:
// lowest when the autoscalers' ranges meet (the replicas stay where they were brought), the
// highest minReplicas when they do not (the autoscalers set the replicas in turn to the lowest
// maxReplicas and to it), 0 for a workload scaled to zero.
func sharedAutoscalingRange(inv *engine.Inventory, o *engine.Object) (lowest, most int32, names []string, ok bool) {
	if noScaleSubresource[schema.GroupKind{Group: apiGroup(o.APIVersion), Kind: o.Kind}] {
		return 0, 0, nil, false
	}
	hs := autoscalersByTarget(inv)[workloadRef{o.Namespace, apiGroup(o.APIVersion), o.Kind, o.Name}]
	if len(hs) < 2 {
		return 0, 0, nil, false
	}
	highestMin, lowestMax := int32(0), hs[0].Spec.MaxReplicas
	for _, h := range hs {
		highestMin, lowestMax = max(highestMin, autoscalerMin(h)), min(lowestMax, h.Spec.MaxReplicas)
		names = append(names, h.Name)
	}
	sort.Strings(names)
	lowest = replicasOf(o)
	if lowest > 0 {
		lowest = min(max(lowest, highestMin), lowestMax)
		most = max(lowest, highestMin)
	}
	return lowest, most, names, true
}

// noScaleSubresource are the built-in workload kinds, by API group, that have no scale
// subresource (only Deployments, ReplicaSets, StatefulSets and ReplicationControllers have one,
// k8s.io/kubernetes v1.37.2 pkg/registry): the HPA controller cannot get the scale of one it is
// aimed at (FailedGetScale, AbleToScale False) and never scales it. A DaemonSet runs a pod per
// eligible node whatever an autoscaler says.
var noScaleSubresource = map[schema.GroupKind]bool{
	{Group: "", Kind: "Pod"}:           true,
	{Group: "apps", Kind: "DaemonSet"}: true,
	{Group: "batch", Kind: "Job"}:      true,
	{Group: "batch", Kind: "CronJob"}:  true,
}

// scaledToZeroBy reports whether the autoscaler says it scaled its target to zero.
func scaledToZeroBy(h *autoscalingv2.HorizontalPodAutoscaler) bool {
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.ScaledToZero && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// autoscalerMin is an HPA's minReplicas, 1 when unset.
func autoscalerMin(h *autoscalingv2.HorizontalPodAutoscaler) int32 {
	if h.Spec.MinReplicas == nil {
		return 1
	}
	return *h.Spec.MinReplicas
}

// replicasOf is the replica count of a replicated workload (1 when unset).
func replicasOf(o *engine.Object) int32 {
	if o.Workload == nil || o.Workload.Replicas == nil {
		return 1
	}
	return *o.Workload.Replicas
}

// disruptionBudget is a PodDisruptionBudget with its selector parsed.
type disruptionBudget struct {
	obj      *engine.Object
	pdb      *policyv1.PodDisruptionBudget
	selector labels.Selector
	// refused says why the API server refuses to create the budget (refusedBudget), "" when it
	// does not: such a budget is never created, selects no pod and protects none.
	refused string
}

// labelKey keys label-indexed lookups: namespace, label key and value.
type labelKey struct{ namespace, key, value string }

// selectorIndex finds, among objects that select pods by label (PodDisruptionBudgets,
// NetworkPolicies), those whose selector matches a pod's labels without trying every one of the
// namespace: each is filed under one label its selector requires (requiredLabel), so a pod's
// labels lead straight to the few that can select it; those whose selector requires no single
// label value are kept per namespace and always tried. One whose selector selects nothing (a
// missing or invalid selector) is listed in items but filed nowhere.
type selectorIndex[T podSelecting] struct {
	// items are what was added, in order.
	items   []T
	byLabel map[labelKey][]int
	unkeyed map[string][]int
}

// podSelecting is what selectorIndex holds: an object with its parsed pod selector.
type podSelecting interface{ podSelector() labels.Selector }

func (b *disruptionBudget) podSelector() labels.Selector { return b.selector }
func (p namespacePolicy) podSelector() labels.Selector   { return p.selector }

func newSelectorIndex[T podSelecting]() *selectorIndex[T] {
	return &selectorIndex[T]{byLabel: map[labelKey][]int{}, unkeyed: map[string][]int{}}
}

// add files item of namespace, whose selector as written is sel.
func (ix *selectorIndex[T]) add(namespace string, sel *metav1.LabelSelector, item T) {
	i := len(ix.items)
	ix.items = append(ix.items, item)
	switch k, v, keyed := requiredLabel(sel); {
	case isNothing(item.podSelector()):
	case keyed:
		lk := labelKey{namespace, k, v}
		ix.byLabel[lk] = append(ix.byLabel[lk], i)
	default:
		ix.unkeyed[namespace] = append(ix.unkeyed[namespace], i)
	}
}

// selecting returns the items of namespace whose selector matches set, in the order added.
//
// The namespace's unkeyed items are merged in with those the labels lead to, not copied: a
// namespace with many of them (a default-deny policy per team, or many copies of one) is read
// by every workload of the namespace, and copying them for each was 8.5% of what a
// 99,954-object scan allocated.
func (ix *selectorIndex[T]) selecting(namespace string, set labels.Set) []T {
	var keyed []int // an item is filed under one label only: no repeats
	for k, v := range set {
		keyed = append(keyed, ix.byLabel[labelKey{namespace, k, v}]...)
	}
	slices.Sort(keyed)
	unkeyed := ix.unkeyed[namespace]
	var out []T
	for len(unkeyed)+len(keyed) > 0 {
		var i int
		if len(keyed) == 0 || len(unkeyed) > 0 && unkeyed[0] < keyed[0] {
			i, unkeyed = unkeyed[0], unkeyed[1:]
		} else {
			i, keyed = keyed[0], keyed[1:]
		}
		if ix.items[i].podSelector().Matches(set) {
			out = append(out, ix.items[i])
		}
	}
	return out
}

// requiredLabel picks a label (key, value) that every pod a selector selects must carry, or
// ok false when the selector requires none.
func requiredLabel(sel *metav1.LabelSelector) (key, value string, ok bool) {
	if sel == nil {
		return "", "", false
	}
	if len(sel.MatchLabels) > 0 {
		keys := make([]string, 0, len(sel.MatchLabels))
		for k := range sel.MatchLabels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys[0], sel.MatchLabels[keys[0]], true
	}
	for _, e := range sel.MatchExpressions {
		if e.Operator == metav1.LabelSelectorOpIn && len(e.Values) == 1 {
			return e.Key, e.Values[0], true
		}
	}
	return "", "", false
}

// budgetSelector parses a budget's selector once per evaluation. In policy/v1beta1 an empty
// selector selected no pod; in policy/v1 it selects every pod of the namespace.
func budgetSelector(inv *engine.Inventory, o *engine.Object, pdb *policyv1.PodDisruptionBudget) labels.Selector {
	sel := pdb.Spec.Selector
	if o.APIVersion == "policy/v1beta1" && sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return labels.Nothing()
	}
	return selectorOf(inv, o, "availability.pdbSelector", sel)
}

// budgetSet is every budget of the evaluation, read once: those the API server creates,
// indexed by selector, and by namespace those it refuses (disruptionBudget.refused), which
// select no pod.
type budgetSet struct {
	index   *selectorIndex[*disruptionBudget]
	refused map[string][]*disruptionBudget
}

func allBudgets(inv *engine.Inventory) *budgetSet {
	return inv.Memo(nil, "availability.budgets", func() any {
		set := &budgetSet{index: newSelectorIndex[*disruptionBudget](), refused: map[string][]*disruptionBudget{}}
		// Those of a version Kubernetes does not serve are only named (refusedBudget).
		for _, o := range slices.Concat(inv.ListKind("PodDisruptionBudget"), inv.Unserved("PodDisruptionBudget")) {
			switch b := budgetOf(inv, o); {
			case b == nil:
			case b.refused != "":
				set.refused[o.Namespace] = append(set.refused[o.Namespace], b)
			default:
				set.index.add(o.Namespace, b.pdb.Spec.Selector, b)
			}
		}
		return set
	}).(*budgetSet)
}

// budgets is the index of the budgets the API server creates.
func budgets(inv *engine.Inventory) *selectorIndex[*disruptionBudget] { return allBudgets(inv).index }

// refusedBudgets lists by namespace the budgets the API server refuses, which budgets leaves out.
func refusedBudgets(inv *engine.Inventory) map[string][]*disruptionBudget {
	return allBudgets(inv).refused
}

// refusedBudget says why the API server refuses to create a budget, or "" when it does not: both
// minAvailable and maxUnavailable set, either negative, a string that is not a percentage or a
// percentage above 100%, or an unhealthyPodEvictionPolicy other than IfHealthyBudget and
// AlwaysAllow (ValidatePodDisruptionBudgetSpec, k8s.io/kubernetes v1.37.2
// pkg/apis/policy/validation, with ValidatePositiveIntOrPercent and IsNotMoreThan100Percent of
// pkg/apis/apps/validation). An invalid selector is not among these: it selects nothing already
// (selectorOf). Nor does the API server create one of an API version it no longer serves
// (unservedVersion: policy/v1beta1), nor, from a manifest, one whose metadata it refuses
// (refusedManifestMeta).
func refusedBudget(inv *engine.Inventory, o *engine.Object, pdb *policyv1.PodDisruptionBudget) string {
	if why := unservedVersion(inv, o); why != "" {
		return why
	}
	// ValidatePodDisruptionBudget checks no metadata: the name is only a path segment
	// (rest.ValidateCreate, k8s.io/apiserver v0.37.2, validatePathSegment), as "Web_PDB" is.
	if why := refusedManifestMeta(inv, &pdb.ObjectMeta, apipath.ValidatePathSegmentName); why != "" {
		return why
	}
	spec := pdb.Spec
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		return "minAvailable and maxUnavailable cannot both be set"
	}
	for _, f := range []struct {
		name string
		v    *intstr.IntOrString
	}{{"minAvailable", spec.MinAvailable}, {"maxUnavailable", spec.MaxUnavailable}} {
		switch v := f.v; {
		case v == nil:
		case v.Type == intstr.Int && v.IntVal < 0:
			return fmt.Sprintf("%s %d is negative", f.name, v.IntVal)
		case v.Type == intstr.String && len(validation.IsValidPercent(v.StrVal)) > 0:
			return fmt.Sprintf("%s %q is not a percentage (digits followed by %%)", f.name, v.StrVal)
		case v.Type == intstr.String:
			if p, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%")); p > 100 {
				return fmt.Sprintf("%s %q is more than 100%%", f.name, v.StrVal)
			}
		}
	}
	if p := spec.UnhealthyPodEvictionPolicy; p != nil && *p != policyv1.IfHealthyBudget && *p != policyv1.AlwaysAllow {
		return fmt.Sprintf("unhealthyPodEvictionPolicy %q is not %s or %s", *p, policyv1.IfHealthyBudget, policyv1.AlwaysAllow)
	}
	return ""
}

// isNothing reports whether a selector is labels.Nothing(): a missing or invalid selector.
func isNothing(s labels.Selector) bool {
	_, selectable := s.Requirements()
	return !selectable
}

// budgetsSelecting lists the budgets in a namespace that select pods with these labels, by name.
func budgetsSelecting(inv *engine.Inventory, namespace string, podLabels labels.Set) []*disruptionBudget {
	out := budgets(inv).selecting(namespace, podLabels)
	sort.Slice(out, func(i, j int) bool { return out[i].obj.Name < out[j].obj.Name })
	return out
}

// budgetsSelectingPods lists, by name, the budgets of a workload's namespace that select its
// pods (yes) and those that may (maybe), as policiesSelectingPods does for NetworkPolicies: a
// budget with requirements on the labels the workload's controller sets on its pods
// (workloadPodLabels: pod-template-hash, controller-revision-hash, a pod's name, ...) is
// judged by selectsPods, the others by the template's labels. A budget that requires
// pod-template-hash to be absent selects none of a Deployment's pods, though it matches its
// template.
func budgetsSelectingPods(inv *engine.Inventory, o *engine.Object) (yes, maybe []*disruptionBudget) {
	known, unknown := knownPodLabels(inv, o)
	var byController []*disruptionBudget
	if len(unknown) > 0 {
		byController = controllerLabelBudgets(inv)[o.Namespace]
	}
	yes, maybe = selectingPods(budgetsSelecting(inv, o.Namespace, known), byController,
		func(b *disruptionBudget) labels.Selector { return b.selector }, known, unknown)
	if len(unknown) > 0 {
		sort.Slice(yes, func(i, j int) bool { return yes[i].obj.Name < yes[j].obj.Name })
	}
	return yes, maybe
}

// budgetSelects reports whether a budget surely selects a workload's pods (budgetsSelectingPods).
func budgetSelects(inv *engine.Inventory, b *disruptionBudget, w *engine.Object) bool {
	known, unknown := knownPodLabels(inv, w)
	return selectsPods(b.selector, known, unknown) == selectsYes
}

// knownPodLabels is workloadPodLabels, once per workload and evaluation.
func knownPodLabels(inv *engine.Inventory, o *engine.Object) (labels.Set, map[string]bool) {
	type answer struct {
		known   labels.Set
		unknown map[string]bool
	}
	a := inv.Memo(o, "availability.knownPodLabels", func() any {
		known, unknown := workloadPodLabels(o)
		return answer{known, unknown}
	}).(answer)
	return a.known, a.unknown
}

// controllerLabelBudgets are the budgets, per namespace, whose selectors have requirements on
// labels controllers set on pods (controllerPodLabelKeys), once per evaluation.
func controllerLabelBudgets(inv *engine.Inventory) map[string][]*disruptionBudget {
	return inv.Memo(nil, "availability.controllerLabelBudgets", func() any {
		out := map[string][]*disruptionBudget{}
		for _, b := range budgets(inv).items {
			if mentionsAny(b.selector, controllerPodLabelKeys) {
				out[b.obj.Namespace] = append(out[b.obj.Namespace], b)
			}
		}
		return out
	}).(map[string][]*disruptionBudget)
}

// runningOldRevision returns the Deployment of a ReplicaSet that runs pods its Deployment's
// template no longer describes, or nil: the Deployment exists with the UID the reference names
// (Inventory.Provenance), its template does not explain the ReplicaSet, and the ReplicaSet has
// replicas (one at zero is Idle). A paused Deployment makes no ReplicaSet for a changed template
// (the deployment controller only scales it), and a rollout that does not finish keeps the old
// one running: its pods carry the old template's labels, which a budget must select to protect
// them, whatever it selects of the Deployment's template. How many pods the budget lets go is
// judged on the Deployment, which sets the ReplicaSet's replicas.
func runningOldRevision(inv *engine.Inventory, o *engine.Object) *engine.Object {
	if o.Kind != "ReplicaSet" || o.Workload == nil || o.Workload.Replicas == nil || *o.Workload.Replicas == 0 {
		return nil
	}
	p := inv.Provenance(o)
	if p == nil || p.Owner == nil || p.Explained || p.Idle || p.Owner.Kind != "Deployment" {
		return nil
	}
	return p.Owner
}

// unexplainedPods lists, once per evaluation, the Pods each judged workload runs that its
// template does not explain, by name: Pods whose controller exists with the UID their reference
// names (Inventory.Provenance) but whose pod spec or labels are not what the controller's template
// produces, filed under the workload judged for the controller (a ReplicaSet explained by its
// Deployment files them under the Deployment). A StatefulSet creates its Pods itself, and with
// updateStrategy OnDelete, or a RollingUpdate partition, keeps those not yet updated running the
// old revision and its labels (k8s.io/kubernetes v1.37.2 pkg/controller/statefulset,
// updateStatefulSet); a namespace admin may change a running Pod's labels (kubectl label pod). A
// Pod being deleted is left out: the disruption controller counts no such pod either
// (countHealthyPods); and so is a Pod that has Succeeded or Failed (terminalPod).
func unexplainedPods(inv *engine.Inventory) map[*engine.Object][]*engine.Object {
	return inv.Memo(nil, "availability.unexplainedPods", func() any {
		out := map[*engine.Object][]*engine.Object{}
		for _, p := range inv.ListKind("Pod") {
			pv := inv.Provenance(p)
			if pv == nil || pv.Owner == nil || pv.Explained || p.Obj.GetDeletionTimestamp() != nil || terminalPod(inv, p) {
				continue
			}
			w := inv.JudgedAs(pv.Owner)
			out[w] = append(out[w], p)
		}
		for _, pods := range out {
			sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
		}
		return out
	}).(map[*engine.Object][]*engine.Object)
}

// podsNoBudgetSelects names, by name, the Pods workload o runs that its template does not explain
// (unexplainedPods) and that no budget of the namespace selects by the labels they carry, in a
// complete view (a scan has no running pods to read). The eviction API finds no budget for such a
// Pod, and a drain may evict them all at once, whatever budget selects the template.
func podsNoBudgetSelects(inv *engine.Inventory, o *engine.Object) []string {
	if !inv.Complete {
		return nil
	}
	var names []string
	for _, p := range unexplainedPods(inv)[o] {
		if len(budgetsSelecting(inv, p.Namespace, podLabels(p))) == 0 {
			names = append(names, p.Name)
		}
	}
	return names
}

// terminalPod reports whether o is a Pod that has Succeeded or Failed (engine.Workload.Terminal):
// a completed one-off Pod, or one the kubelet evicted, which stays until it is deleted. It runs
// nothing, and Kubernetes v1.37.2 counts it nowhere an availability check looks: the disruption
// controller never counts it healthy (countHealthyPods, pkg/controller/disruption), the eviction
// API evicts it whatever budget selects it (canIgnorePDB, pkg/registry/core/pod/storage), and the
// scheduler does not see it (its informer selects status.phase!=Succeeded,status.phase!=Failed,
// pkg/scheduler/scheduler.go), so it places no replica beside it and spreads none over it.
//
// A scan reads no phase: the one a manifest's author wrote is dropped on create
// (PrepareForCreate, k8s.io/kubernetes v1.37.2 pkg/registry/core/pod/strategy.go: the Pod starts
// Pending and runs). A Pod that ends (not LongRunning: restartPolicy Never or OnFailure) is taken
// as one that runs nothing lasting, whatever its manifest claims, as it has once it ends: a
// budget protects no pod with it and no replica follows it. A Pod whose containers the kubelet
// restarts after they exit 0 (restartPolicy Always, the default) never Succeeds, and a manifest
// that says it has or has Failed does not make it one that runs nothing. Until December 2026 a
// scan took the phase of a Pod that ends, so its author could make a budget over it select no
// workload (avl-pdb-zero-disruptions NotAssessed instead of Fail) by writing status.phase
// Succeeded.
func terminalPod(inv *engine.Inventory, o *engine.Object) bool {
	if o.Kind != "Pod" || o.Workload == nil {
		return false
	}
	if inv.Complete {
		return o.Workload.Terminal
	}
	return !o.Workload.LongRunning
}

// podOwners indexes, once per evaluation, the workloads a budget can select: every workload
// the engine judges (not the ReplicaSets and Pods a controller made, nor a Pod that has ended,
// terminalPod, nor one a later object of its name replaces, Inventory.Replaced), filed under each of its
// pod labels, and listed per namespace for budgets no label leads to. A Deployment's old
// ReplicaSet that still runs pods (runningOldRevision, judged itself) is not among them: its
// pods are the Deployment's, whose replicas count them, as the disruption controller counts the
// pods of all a Deployment's ReplicaSets against the Deployment's scale, once (getPodDeployment,
// k8s.io/kubernetes v1.37.2 pkg/controller/disruption); counted again, a rollout would double
// the pods a budget seems to cover.
type podOwners struct {
	byLabel map[labelKey][]*engine.Object
	byNs    map[string][]*engine.Object
}

func workloadsByPodLabel(inv *engine.Inventory) *podOwners {
	return inv.Memo(nil, "availability.workloadsByPodLabel", func() any {
		idx := &podOwners{byLabel: map[labelKey][]*engine.Object{}, byNs: map[string][]*engine.Object{}}
		for _, o := range inv.Objects() {
			if o.Workload == nil || inv.JudgedThroughController(o) || o.Kind == "Job" || o.Kind == "CronJob" || runningOldRevision(inv, o) != nil ||
				terminalPod(inv, o) || inv.Replaced(o) {
				continue
			}
			idx.byNs[o.Namespace] = append(idx.byNs[o.Namespace], o)
			for k, v := range podLabels(o) {
				lk := labelKey{o.Namespace, k, v}
				idx.byLabel[lk] = append(idx.byLabel[lk], o)
			}
		}
		return idx
	}).(*podOwners)
}

// selectedWorkloads lists the workloads whose pods a budget selects, in inventory order.
func selectedWorkloads(inv *engine.Inventory, b *disruptionBudget) []*engine.Object {
	return inv.Memo(b.obj, "availability.selectedWorkloads", func() any {
		var out []*engine.Object
		if isNothing(b.selector) {
			return out
		}
		owners := workloadsByPodLabel(inv)
		candidates := owners.byNs[b.obj.Namespace]
		if k, v, ok := requiredLabel(b.pdb.Spec.Selector); ok {
			candidates = owners.byLabel[labelKey{b.obj.Namespace, k, v}]
		}
		for _, w := range candidates {
			if budgetSelects(inv, b, w) {
				out = append(out, w)
			}
		}
		return out
	}).([]*engine.Object)
}

// budgetOf returns the typed budget of a PodDisruptionBudget object, or nil. Whether the API
// server refuses it (refusedBudget) is asked of a manifest only: a budget the operator reads
// exists, so the API server took it (under the validation of its day, which may have been laxer).
func budgetOf(inv *engine.Inventory, o *engine.Object) *disruptionBudget {
	pdb, ok := o.Obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return nil
	}
	b := &disruptionBudget{obj: o, pdb: pdb, selector: budgetSelector(inv, o, pdb)}
	if !inv.Complete {
		b.refused = refusedBudget(inv, o, pdb)
	}
	return b
}

// podCount is the number of pods a workload keeps running at its lowest: an HPA's minReplicas
// when one scales it, the fewest several keep it at when they all target it (sharedAutoscaling),
// else its replicas; 1 for a bare pod. known is false for DaemonSets, whose
// pod count is the number of nodes. A Deployment whose template Argo Rollouts run in its stead
// (scaledAs) counts the pods of every such Rollout together.
func podCount(inv *engine.Inventory, w *engine.Object) (n int32, known bool) {
	var total int32
	for _, as := range scaledAs(inv, w) {
		n, known := ownPodCount(inv, as)
		if !known {
			return 0, false
		}
		total += n
	}
	return total, true
}

// ownPodCount is podCount of one workload, or of one Rollout's stand-in.
func ownPodCount(inv *engine.Inventory, w *engine.Object) (n int32, known bool) {
	if h := autoscalerOf(inv, w); h != nil {
		return autoscalerMin(h), true
	}
	if lowest, _, ok := sharedAutoscaling(inv, w); ok {
		return lowest, true
	}
	switch {
	case w.Kind == "Pod":
		return 1, true
	case w.Workload.Replicas != nil:
		return *w.Workload.Replicas, true
	}
	return 0, false
}

// scaledAs is what a workload's pods are counted as, in a scan: a Deployment whose template
// Argo Rollouts run in its stead (rolloutsRunning) has the pods of each such Rollout, at its
// replicas and under its autoscalers (Argo Rollouts v1.10.2 runs every Rollout that names the
// Deployment, each in ReplicaSets of its own: their pods add up, whatever the Rollouts' names);
// any other workload, and every workload in the operator's view (where the Rollouts' own
// ReplicaSets are among the workloads, and the Deployment at 0 runs none), is itself.
func scaledAs(inv *engine.Inventory, w *engine.Object) []*engine.Object {
	if inv.Complete {
		return []*engine.Object{w}
	}
	rs := rolloutsRunning(inv, w)
	if len(rs) == 0 {
		return []*engine.Object{w}
	}
	out := make([]*engine.Object, len(rs))
	for i, r := range rs {
		out[i] = r.standIn
	}
	return out
}

// describeWorkloads names workloads for messages: Deployment "web", StatefulSet "db".
func describeWorkloads(ws []*engine.Object) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = fmt.Sprintf("%s %q", w.Kind, w.Name)
	}
	return few(names, ", ")
}

// protectsNone says how a budget lets every pod it selects be evicted at once, whatever their
// number (maxUnavailable of 100% or more, minAvailable of 0 or 0%), or "" when it does not.
func protectsNone(pdb *policyv1.PodDisruptionBudget) string {
	if mu := pdb.Spec.MaxUnavailable; mu != nil {
		if p, ok := intOrPercent(mu); ok && p >= 100 {
			return "maxUnavailable: " + mu.String()
		}
	}
	if ma := pdb.Spec.MinAvailable; ma != nil {
		if p, ok := intOrPercent(ma); (ok && p == 0) || (ma.Type == intstr.Int && ma.IntVal == 0) {
			return "minAvailable: " + ma.String()
		}
	}
	return ""
}

// disruptionsAllowed is how many of the pods a budget selects a drain may evict at once when all
// are healthy, as the disruption controller counts: the pods of every workload the budget
// selects, together, less minAvailable, or maxUnavailable itself; percentages round up, and
// pods no controller owns are counted as the controller does (countDisruptionsAllowed). ok is
// false when the budget sets neither field. A workload whose pod count is unknown (a
// DaemonSet's) counts none. An integer minAvailable is met by every healthy pod the budget
// selects (expectedCount = len(pods), getExpectedPodCount, k8s.io/kubernetes v1.37.2
// pkg/controller/disruption), so there such a workload, or a Job or CronJob whose running pods
// the budget selects, could make room to evict every other pod: uncounted names it, and the
// answer is then not known. (maxUnavailable and a percentage count the scale of the pods'
// controllers; for the pods of a DaemonSet or Job, which have none, the controller allows no
// disruption at all, failSafe.)
func disruptionsAllowed(inv *engine.Inventory, b *disruptionBudget) (allowed, pods int32, ok bool, uncounted *engine.Object) {
	a := countedDisruptions(inv, b)
	return a.allowed, a.pods, a.ok, a.uncounted
}

// disruptionCount is what countDisruptionsAllowed counts, with expected: the scale of the
// controllers whose pods the budget selects, which maxUnavailable and percentages count against.
type disruptionCount struct {
	allowed, pods, expected int32
	ok                      bool
	uncounted               *engine.Object
}

// countedDisruptions counts once per budget: avl-pdb asks for each workload the budget selects,
// and a budget over a namespace's thousand workloads would count them all a thousand times.
func countedDisruptions(inv *engine.Inventory, b *disruptionBudget) disruptionCount {
	return inv.Memo(b.obj, "availability.disruptionsAllowed", func() any {
		return countDisruptionsAllowed(inv, b)
	}).(disruptionCount)
}

func countDisruptionsAllowed(inv *engine.Inventory, b *disruptionBudget) disruptionCount {
	var uncounted *engine.Object
	// unmanaged counts the pods no controller owns: the disruption controller leaves them out
	// of the scale it counts maxUnavailable and percentages against (getExpectedScale), but
	// counts them healthy, so they add to the disruptions allowed
	// (disruptionsAllowed = currentHealthy - desiredHealthy, updatePdbStatus). managed counts
	// the pods of controllers the budget selects, and scale, by controller, what each keeps
	// running: the scale the controller counts against.
	var unmanaged, managed int32
	scale := map[*engine.Object]int32{}
	for _, w := range selectedWorkloads(inv, b) {
		n, known := podCount(inv, w)
		switch {
		case !known:
			if uncounted == nil {
				uncounted = w
			}
		case !hasController(w):
			unmanaged += n
		case w.Kind == "Pod":
			// A Pod its controller's template does not explain, judged itself, selected by the
			// labels it carries: one pod, counted against its controller's scale.
			managed++
			if c := scaleOwner(inv, w); c != nil {
				if cn, known := podCount(inv, c); known {
					scale[c] = cn
				}
			} else {
				scale[w] = 1
			}
		default:
			// In the operator's view, the controller's Pods that its template does not explain
			// carry labels of their own (a StatefulSet's pods not yet updated, a Pod relabelled):
			// the budget selects them, or not, by those (the case above), not by the template.
			running := n - int32(len(unexplainedPods(inv)[w]))
			if !inv.Complete {
				running = n
			}
			if running > 0 {
				managed += running
				scale[w] = n
			}
		}
	}
	var expected int32
	for _, n := range scale {
		expected += n
	}
	pods := managed + unmanaged
	count := func(allowed int32, ok bool, uncounted *engine.Object) disruptionCount {
		return disruptionCount{allowed: allowed, pods: pods, expected: expected, ok: ok, uncounted: uncounted}
	}
	scaled := func(v *intstr.IntOrString) int32 {
		if p, isPercent := intOrPercent(v); isPercent {
			return int32((int64(p)*int64(expected) + 99) / 100)
		}
		return v.IntVal
	}
	byScale := countedByScale(b.pdb)
	if byScale {
		// The controller cannot find the scale of some pod's controller (a DaemonSet's, a Job's,
		// or one that is not there): it fails to sync the budget and allows nothing (failSafe).
		if unscalableSelected(inv, b) != nil {
			return count(0, true, nil)
		}
		if w, _, decided := scaleNotFound(inv, b); w != nil && decided {
			return count(0, true, nil)
		}
	}
	switch spec := b.pdb.Spec; {
	case byScale && expected == 0:
		// The controller allows nothing while the scale it counts is 0 (expectedCount <= 0).
		return count(0, true, nil)
	case spec.MaxUnavailable != nil:
		// desiredHealthy = expectedCount - maxUnavailable, at least 0.
		return count(max(pods-max(expected-scaled(spec.MaxUnavailable), 0), 0), true, nil)
	case spec.MinAvailable != nil:
		if byScale {
			uncounted = nil
		} else if uncounted == nil {
			uncounted = selectedJob(inv, b)
		}
		return count(pods-scaled(spec.MinAvailable), true, uncounted)
	}
	return count(0, false, nil)
}

// scaleOwner returns the workload whose scale the disruption controller counts Pod p against:
// the one p's controller is judged as, or, for the pods of a Deployment's old ReplicaSet, the
// Deployment (getPodDeployment). nil when p's controller is not in the inventory.
func scaleOwner(inv *engine.Inventory, p *engine.Object) *engine.Object {
	pv := inv.Provenance(p)
	if pv == nil || pv.Owner == nil {
		return nil
	}
	w := inv.JudgedAs(pv.Owner)
	if d := runningOldRevision(inv, w); d != nil {
		return d
	}
	return w
}

// selectedJob returns the first Job or CronJob of the budget's namespace whose pods the budget
// selects, or nil.
func selectedJob(inv *engine.Inventory, b *disruptionBudget) *engine.Object {
	if isNothing(b.selector) {
		return nil
	}
	for _, kind := range []string{"Job", "CronJob"} {
		for _, j := range inv.List(b.obj.Namespace, kind) {
			if j.Workload != nil && b.selector.Matches(podLabels(j)) {
				return j
			}
		}
	}
	return nil
}

// sharedBudget returns the first workload whose pods the budget selects that another budget of
// the namespace selects too, and that budget's name; nil when there is none.
func sharedBudget(inv *engine.Inventory, b *disruptionBudget) (*engine.Object, string) {
	for _, w := range selectedWorkloads(inv, b) {
		yes, _ := budgetsSelectingPods(inv, w)
		for _, other := range yes {
			if other.obj != b.obj {
				return w, other.obj.Name
			}
		}
	}
	return nil, ""
}

// letsAllGo says how a budget lets every pod of workload o be evicted at once given the pods it
// selects (protectsNone, or disruptionsAllowed as many as o's pods), or "" when it does not.
// unknown, when not "", says why that cannot be told (disruptionsAllowed's uncounted).
func letsAllGo(inv *engine.Inventory, b *disruptionBudget, o *engine.Object) (why, unknown string) {
	if why := protectsNone(b.pdb); why != "" {
		return why, ""
	}
	n, known := podCount(inv, o)
	if !known || n == 0 {
		return "", ""
	}
	allowed, pods, ok, uncounted := disruptionsAllowed(inv, b)
	switch {
	case !ok:
		return "", ""
	case allowed < n && uncounted != nil:
		return "", fmt.Sprintf("PodDisruptionBudget %q also selects the pods of %s, whose number is not known (it depends on the nodes, or on the Job's progress): with minAvailable %s, enough of them may let every pod of the workload be evicted at once",
			b.obj.Name, describeWorkloads([]*engine.Object{uncounted}), b.pdb.Spec.MinAvailable.String())
	case allowed < n:
		return "", ""
	}
	field, v := "maxUnavailable", b.pdb.Spec.MaxUnavailable
	if v == nil {
		field, v = "minAvailable", b.pdb.Spec.MinAvailable
	}
	return fmt.Sprintf("%s: %s, of the %s it selects, lets %d go at once; the workload has %d",
		field, v.String(), countNoun(pods, "pod"), allowed, n), ""
}

// intOrPercent parses an IntOrString percentage such as "25%"; ok is false for integers and
// malformed strings.
func intOrPercent(v *intstr.IntOrString) (p int, ok bool) {
	if v == nil || v.Type != intstr.String {
		return 0, false
	}
	p, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return p, err == nil
}

// countNoun spells "1 replica" or "2 replicas".
func countNoun(n int32, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(int(n)) + " " + word + "s"
}

// eachServingContainer judges the containers that run for the life of a long-running pod:
// regular containers and native sidecars (init containers with restartPolicy Always). Init
// containers that run to completion and ephemeral containers are NotApplicable, and so is a
// workload that runs to completion (engine.Workload.LongRunning: a Job, a CronJob, a pod that
// does not restart its containers after they succeed). judge
// returns why the container fails, or why it cannot be told (NotAssessed), or neither (Pass).
func eachServingContainer(ctx *engine.Context, o *engine.Object, judge func(c engine.Container) (fail, undecided string)) {
	if !o.Workload.LongRunning {
		ctx.NotApplicable("", "the workload runs to completion")
		return
	}
	eachContainerJudged(ctx, o, func(c engine.Container) string {
		switch {
		case c.Type == engine.ContainerEphemeral:
			return "ephemeral containers are for debugging and take no probes"
		case c.Type == engine.ContainerInit && !c.SidecarInit:
			return "init containers run to completion before the pod serves"
		}
		return ""
	}, judge)
}

// judgeProbeIn is judgeProbe, and in a scan first whether the API server refuses the probe
// (refusedProbe): the manifest is what will be applied, and a workload whose template it refuses
// is never created. In the cluster the workload exists, so its template was accepted.
func judgeProbeIn(ctx *engine.Context, o *engine.Object, c engine.Container, field string, p *corev1.Probe) (fail, undecided string) {
	if !ctx.Inventory.Complete {
		if why := refusedProbe(field, p); why != "" {
			return fmt.Sprintf("the API server refuses the %s of container %s (%s): the workload is never created", field, c.Name, why), ""
		}
	}
	return judgeProbe(o, c, field, p)
}

// refusedProbe says why the API server refuses a probe of the given field, or "" when it does
// not (or there is none), by k8s.io/kubernetes v1.37.2 pkg/apis/core/validation: validateHandler
// (exactly one of exec, httpGet, tcpSocket and grpc), validateExecAction (a command),
// ValidatePortNumOrName (a port number of 1 to 65535 or a valid port name), validateProbe (no
// negative number; a terminationGracePeriodSeconds above 0), validateLivenessProbe and
// validateStartupProbe (successThreshold 1, to which 0 is defaulted) and validateReadinessProbe
// (no terminationGracePeriodSeconds).
func refusedProbe(field string, p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	handlers := 0
	for _, set := range []bool{p.Exec != nil, p.HTTPGet != nil, p.TCPSocket != nil, p.GRPC != nil} {
		if set {
			handlers++
		}
	}
	port := func(kind string, v intstr.IntOrString) string {
		if v.Type == intstr.String {
			if msgs := validation.IsValidPortName(v.StrVal); len(msgs) > 0 {
				return fmt.Sprintf("%s.port %q is not a valid port name", kind, v.StrVal)
			}
			return ""
		}
		if v.IntVal < 1 || v.IntVal > 65535 {
			return fmt.Sprintf("%s.port %d is not 1 to 65535", kind, v.IntVal)
		}
		return ""
	}
	switch {
	case handlers == 0:
		return "it names no handler: exec, httpGet, tcpSocket or grpc"
	case handlers > 1:
		return "it names more than one handler"
	case p.Exec != nil && len(p.Exec.Command) == 0:
		return "exec.command is empty"
	case p.HTTPGet != nil && port("httpGet", p.HTTPGet.Port) != "":
		return port("httpGet", p.HTTPGet.Port)
	case p.TCPSocket != nil && port("tcpSocket", p.TCPSocket.Port) != "":
		return port("tcpSocket", p.TCPSocket.Port)
	case p.GRPC != nil && port("grpc", intstr.FromInt32(p.GRPC.Port)) != "":
		return port("grpc", intstr.FromInt32(p.GRPC.Port))
	}
	for _, n := range []struct {
		name string
		v    int32
	}{{"initialDelaySeconds", p.InitialDelaySeconds}, {"timeoutSeconds", p.TimeoutSeconds}, {"periodSeconds", p.PeriodSeconds},
		{"successThreshold", p.SuccessThreshold}, {"failureThreshold", p.FailureThreshold}} {
		if n.v < 0 {
			return fmt.Sprintf("%s %d is negative", n.name, n.v)
		}
	}
	if g := p.TerminationGracePeriodSeconds; g != nil && field == "readinessProbe" {
		return "terminationGracePeriodSeconds is not allowed on a readinessProbe"
	} else if g != nil && *g <= 0 {
		return fmt.Sprintf("terminationGracePeriodSeconds %d is not above 0", *g)
	}
	if field != "readinessProbe" && p.SuccessThreshold > 1 {
		return fmt.Sprintf("successThreshold %d; a %s's must be 1", p.SuccessThreshold, field)
	}
	return ""
}

// judgeProbe says what is wrong with container c's probe of the given field (readinessProbe,
// livenessProbe), or why what it tests cannot be told, or neither when it has one that can fail.
func judgeProbe(o *engine.Object, c engine.Container, field string, p *corev1.Probe) (fail, undecided string) {
	if p == nil {
		return "no " + field, ""
	}
	if cmd := noOpCommand(p); cmd != "" {
		return fmt.Sprintf("%s runs %q, which always succeeds: it tests nothing, as if there were no %s", field, cmd, field), ""
	}
	if name := undeclaredPortName(c, p); name != "" {
		return fmt.Sprintf("%s asks port %q, which container %s does not declare: the kubelet cannot resolve the name, "+
			"and fails the probe every time, whatever the container's state", field, name, c.Name), ""
	}
	if host := otherProbeHost(o, p); host != "" {
		return fmt.Sprintf("%s asks host %q, not the pod: the kubelet sends it from the node to that host, so it does not test the container", field, host), ""
	}
	if port, other := otherContainersPort(o, c, p); other != "" {
		return "", fmt.Sprintf("%s asks port %d, which container %s declares: the containers share the pod's network, "+
			"so %s answers the probe, and whether its answer depends on this container (a proxy that forwards the "+
			"probe to it) cannot be told", field, port, other, other)
	}
	return "", ""
}

// undeclaredPortName returns the port name an HTTP or TCP probe of container c asks when c
// declares no port of that name, or "". The kubelet looks a named port up in the probe's own
// container only, and fails the probe when it finds none (ResolveContainerPort, k8s.io/kubernetes
// v1.37.2 pkg/probe/util.go; prober.probe counts the error as a failure): such a probe fails
// whatever the container's state, and tests none of it.
func undeclaredPortName(c engine.Container, p *corev1.Probe) string {
	var port intstr.IntOrString
	switch {
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	default:
		return ""
	}
	if port.Type != intstr.String || c.Container == nil ||
		slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == port.StrVal }) {
		return ""
	}
	return port.StrVal
}

// otherContainersPort returns the port an HTTP, TCP or gRPC probe of container c asks by number
// and the name of the other container of the pod that declares it (a regular container or a
// native sidecar, which run beside c), when c does not declare it itself; "" when there is none.
// The containers of a pod share its network: only one of them can listen on a port, and the
// kubelet's probe reaches that one, whichever container the probe belongs to. A named port is
// one of c's own (the kubelet looks the name up in c's ports only: ResolveContainerPort,
// k8s.io/kubernetes v1.37.2 pkg/probe/util.go), and so is a port no other container declares.
func otherContainersPort(o *engine.Object, c engine.Container, p *corev1.Probe) (int32, string) {
	var port int32
	switch {
	case p.HTTPGet != nil && p.HTTPGet.Port.Type == intstr.Int:
		port = p.HTTPGet.Port.IntVal
	case p.TCPSocket != nil && p.TCPSocket.Port.Type == intstr.Int:
		port = p.TCPSocket.Port.IntVal
	case p.GRPC != nil:
		port = p.GRPC.Port
	}
	if port == 0 || c.Container == nil || declaresTCPPort(c.Container, port) {
		return 0, ""
	}
	for _, other := range o.Workload.Containers() {
		running := other.Type == engine.ContainerRegular || other.SidecarInit
		if running && other.Name != c.Name && other.Container != nil && declaresTCPPort(other.Container, port) {
			return port, other.Name
		}
	}
	return 0, ""
}

// declaresTCPPort reports whether a container declares a TCP containerPort of that number.
func declaresTCPPort(c *corev1.Container, port int32) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		return p.ContainerPort == port && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP)
	})
}

// otherProbeHost returns the host an HTTP or TCP probe names when that is not the pod, or "".
// The kubelet sends such a probe from the node, to the pod's IP only when host is empty
// (pkg/kubelet/prober/prober.go, k8s.io/kubernetes v1.37.2): any host it names is another
// machine, or the node itself (127.0.0.1 is the node's loopback), except the loopback of a pod
// on the host network, which shares the node's.
func otherProbeHost(o *engine.Object, p *corev1.Probe) string {
	var host string
	switch {
	case p.HTTPGet != nil:
		host = p.HTTPGet.Host
	case p.TCPSocket != nil:
		host = p.TCPSocket.Host
	}
	if host == "" {
		return ""
	}
	if o.Workload.PodSpec.HostNetwork {
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return ""
		}
	}
	return host
}

// shells are the programs whose -c script noOpCommand reads.
var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "ksh": true, "zsh": true}

// noOpPrograms succeed whatever their arguments and whatever state the container is in: true
// ignores its arguments, and echo only prints them.
var noOpPrograms = map[string]bool{"true": true, "echo": true}

// noOpCommand returns the command of an exec probe that succeeds whatever state the container
// is in, written out, or "" when the probe may fail: a no-op program (noOpPrograms, by any
// path), or a shell given -c (alone or among other one-letter options, as -ec or -lc) whose
// script is only no-ops, separated by ;, && or new lines: true, : or echo with plain words,
// exit or exit 0 (the arguments after the script are its $0, $1 and so on). Only these no-ops
// are recognised: a probe's command that tests anything at all (a redirection, a substitution,
// another program) is taken to test something, and so is a shell given an option that takes a
// value (-o pipefail), which is not read.
func noOpCommand(p *corev1.Probe) string {
	if p.Exec == nil || len(p.Exec.Command) == 0 {
		return ""
	}
	cmd := p.Exec.Command
	prog := path.Base(cmd[0])
	noOp := noOpPrograms[prog]
	if script, ok := shellScript(cmd); ok {
		noOp = true
		for _, stmt := range strings.FieldsFunc(strings.ReplaceAll(script, "&&", ";"), func(r rune) bool { return r == ';' || r == '\n' }) {
			noOp = noOp && noOpStatement(strings.Fields(stmt))
		}
	}
	if !noOp {
		return ""
	}
	words := make([]string, len(cmd))
	for i, w := range cmd {
		if w == "" || strings.ContainsAny(w, " \t\n'\"") {
			w = "'" + w + "'"
		}
		words[i] = w
	}
	return few(words, " ")
}

// shellScript returns the script a shell command runs with -c, given alone or among other
// one-letter options before it (sh -e -c, bash -lc), or ok false: not a shell, no -c, or an
// option it does not read (one that takes a value, a long option).
func shellScript(cmd []string) (script string, ok bool) {
	if !shells[path.Base(cmd[0])] {
		return "", false
	}
	c := false
	i := 1
	for ; i < len(cmd) && strings.HasPrefix(cmd[i], "-"); i++ {
		flags := cmd[i][1:]
		if flags == "" || strings.ContainsFunc(flags, func(r rune) bool { return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') }) ||
			strings.ContainsAny(flags, "oO") {
			return "", false
		}
		c = c || strings.Contains(flags, "c")
	}
	if !c || i >= len(cmd) {
		return "", false
	}
	return cmd[i], true
}

// noOpStatement reports whether a shell statement, split into words, succeeds whatever the
// container's state: none, exit or exit 0, or true, : or echo (by any path) with words the shell
// takes as they are (no redirection, substitution, expansion or quoting).
func noOpStatement(words []string) bool {
	switch {
	case len(words) == 0:
		return true
	case words[0] == "exit":
		return len(words) == 1 || len(words) == 2 && words[1] == "0"
	case words[0] != ":" && !noOpPrograms[path.Base(words[0])]:
		return false
	}
	for _, w := range words {
		if strings.ContainsAny(w, "<>|&$`(){}[]*?~!#'\"\\=") {
			return false
		}
	}
	return true
}

// eachResourcedContainer judges every container that can declare resources: regular, init and
// sidecar containers. Ephemeral containers cannot, and are NotApplicable.
func eachResourcedContainer(ctx *engine.Context, o *engine.Object, judge func(c engine.Container) string) {
	eachContainerExcept(ctx, o, func(c engine.Container) string {
		if c.Type == engine.ContainerEphemeral {
			return "ephemeral containers cannot declare resources"
		}
		return ""
	}, judge)
}

// declaresResource reports whether a container's request (or limit, for limits) of a resource
// is set, in the container, in the pod-level resources, or by a LimitRange of the namespace at
// admission (limitRangeDefaults, in the cluster only). A container limit without a request sets the request too:
// Kubernetes defaults the request to the limit. A quantity of zero sets nothing: a zero request
// reserves nothing (the pod is BestEffort) and the kubelet reads a zero memory limit as none.
//
// LimitRanger fills in a Pod's resources when the Pod is created, before the API server stores
// it or a validating webhook sees it, and never again: a Pod the operator or the admission
// webhook judges (a complete view) already holds what a LimitRange gave it, and one without the
// resource was created before the LimitRange that would set it now, and runs without it. Pod
// templates are not touched (their pods are), and a Pod manifest is created later. So in a
// complete view a template that leaves the resource to a LimitRange declares it only if the
// pods it runs hold it: without, names the first (by name) of those that do not (podsRun).
func declaresResource(ctx *engine.Context, o *engine.Object, c engine.Container, name corev1.ResourceName, limit bool) (declared bool, without *engine.Object) {
	return declaresResourceAt(ctx, o, c, name, limit, true)
}

// declaresResourceAt is declaresResource, counting the pod-level resources only when podLevel is
// set: without, whether the container itself (or a LimitRange for it) declares the resource,
// which is what the HPA controller reads of a container a ContainerResource metric names.
func declaresResourceAt(ctx *engine.Context, o *engine.Object, c engine.Container, name corev1.ResourceName, limit, podLevel bool) (declared bool, without *engine.Object) {
	named, set := c.ResourceKeys.Declares(name, limit)
	if set || podLevel && podLevelSets(o, name, limit) {
		return true, nil
	}
	if o.Kind == "Pod" && ctx.Inventory.Complete {
		return false, nil
	}
	// LimitRanger fills in only what the container leaves out: a 0 it names stays.
	if named || !limitRangeDefaults(ctx, o.Namespace, name, limit) {
		return false, nil
	}
	for _, p := range podsRun(ctx.Inventory)[o] {
		if podLevel && podLevelSets(p, name, limit) {
			continue
		}
		for _, pc := range p.Workload.Containers() {
			if pc.Name != c.Name || pc.Type == engine.ContainerEphemeral {
				continue
			}
			if _, set := pc.ResourceKeys.Declares(name, limit); !set && (without == nil || p.Name < without.Name) {
				without = p
			}
		}
	}
	return without == nil, without
}

// podLevelSets reports whether the pod-level resources of o (spec.resources, PodLevelResources,
// beta and on since Kubernetes 1.34) set the request (limit false) or the limit of cpu or memory
// to more than zero, as the API server leaves them in the pods it creates. A pod-level request the
// pod names is what it says. One it leaves out beside a pod-level limit the API server defaults
// (DefaultPodLevelResources, k8s.io/kubernetes v1.37.2 pkg/api/pod/util.go, with
// PodLevelResourcesFixDefaulting; defaultPodRequests in pkg/apis/core/v1/defaults.go before it):
// to the containers' requests aggregated when any regular, init or sidecar container names the
// resource's request (or limit, which sets the request: SetDefaults_Pod), and to the pod-level
// limit only when none does. So a pod-level limit beside containers whose requests are all 0
// requests 0: the scheduler reserves nothing, and such containers ask nothing (a container that
// names 0 is not filled in by a LimitRange either). A Pod the API server holds names its
// defaulted pod-level requests.
func podLevelSets(o *engine.Object, name corev1.ResourceName, limit bool) bool {
	pod := o.Workload.Pod().ResourceKeys
	if limit {
		_, set := pod.Declares(name, true)
		return set
	}
	if named, set := pod.Requested(name); named {
		return set
	}
	if _, limitSet := pod.Declares(name, true); !limitSet {
		return false
	}
	aggregated := false
	for _, c := range o.Workload.Containers() {
		if c.Type == engine.ContainerEphemeral {
			continue
		}
		named, set := c.ResourceKeys.Declares(name, false)
		if set {
			return true
		}
		aggregated = aggregated || named
	}
	return !aggregated
}

// resourceMissing says why a container has no request or limit (declaresResource): what, and
// the Pod of the workload that runs without it though a LimitRange would give it one now.
func resourceMissing(what string, without *engine.Object) string {
	if without == nil {
		return what
	}
	return fmt.Sprintf("%s: Pod %s, created before a LimitRange gave it one, runs without it (LimitRanger fills in resources only when a pod is created)",
		what, without.Name)
}

// limitRangeInFiles is what a scan's finding adds when the files hold a LimitRange in the
// namespace of a container that leaves a resource out: that the scan did not count it
// (limitRangeDefaults), and why.
func limitRangeInFiles(ctx *engine.Context, namespace string) string {
	if ctx.Inventory.Complete || len(ctx.Inventory.List(namespace, "LimitRange")) == 0 {
		return ""
	}
	return " (a scan takes no LimitRange in its files as the cluster's: only cluster administrators may write one)"
}

// podsRun lists, once per evaluation, the Pods each controller runs: those its template
// explains (Inventory.Provenance), filed under their controller and, through a ReplicaSet its
// Deployment's template explains, under the Deployment too. Pods no template explains are
// judged themselves. A Pod that has Succeeded or Failed runs nothing (terminalPod).
func podsRun(inv *engine.Inventory) map[*engine.Object][]*engine.Object {
	return inv.Memo(nil, "availability.podsRun", func() any {
		out := map[*engine.Object][]*engine.Object{}
		for _, p := range inv.ListKind("Pod") {
			if terminalPod(inv, p) {
				continue
			}
			pv := inv.Provenance(p)
			for pv != nil && pv.Explained && pv.Owner != nil {
				out[pv.Owner] = append(out[pv.Owner], p)
				pv = inv.Provenance(pv.Owner)
			}
		}
		return out
	}).(map[*engine.Object][]*engine.Object)
}

// limitRangeDefaults reports whether the LimitRanges of namespace give a container that leaves
// resource name out a non-zero request (limit false) or limit (limit true) at admission. The
// LimitRanger admission plugin, on by default, sets a missing limit from a Container item's
// default and a missing request from its defaultRequest, in regular and init containers
// (mergePodResourceRequirements, k8s.io/kubernetes v1.37.2 plugin/pkg/admission/limitranger),
// after the API server has defaulted the item: default from max, defaultRequest from default,
// then from min (SetDefaults_LimitRangeItem, pkg/apis/core/v1/defaults.go), which a LimitRange
// read from a file has not been through. With several LimitRanges the first applied wins, in an
// order no one chooses: every one that sets the resource must set it to more than zero.
//
// A scan counts none (limitRangeInFiles): only cluster administrators may write LimitRanges
// (Kubernetes' admin, edit and view roles read them, k8s.io/kubernetes v1.37.2
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy), so in a CI gate the team being judged could
// not apply one its files ship, and `kubectl apply` would still create the workloads beside it.
// Until December 2026 a LimitRange in the scanned files filled in the limits and requests of the
// containers of its namespace that declared none.
func limitRangeDefaults(ctx *engine.Context, namespace string, name corev1.ResourceName, limit bool) bool {
	if !ctx.Inventory.Complete {
		return false
	}
	found := false
	for _, r := range ctx.Inventory.List(namespace, "LimitRange") {
		lr, ok := r.Obj.(*corev1.LimitRange)
		if !ok {
			continue
		}
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			q, ok := item.Default[name]
			if !ok {
				q, ok = item.Max[name]
			}
			if !limit {
				if d, set := item.DefaultRequest[name]; set {
					q, ok = d, true
				} else if !ok {
					q, ok = item.Min[name]
				}
			}
			if !ok {
				continue
			}
			if q.IsZero() {
				return false
			}
			found = true
		}
	}
	return found
}

// refusedLimitRange says why the API server refuses to create a LimitRange manifest, or "" when
// it does not: a limit type listed twice or not one the API server knows (refusedLimitType), a
// resource it does not take in an item (refusedLimitResource), a Pod item that sets a default or
// a defaultRequest, a PersistentVolumeClaim item without a min or max of storage, a
// maxLimitRequestRatio below 1 or above max/min, a default of a resource that cannot be
// overcommitted (huge pages, extended resources) other than its defaultRequest, or quantities of
// any resource out of order once an item has been
// defaulted (SetDefaults_LimitRangeItem: a Container item's default from max, its defaultRequest
// from default, then from min): min above max, default or defaultRequest below min or above
// max, defaultRequest above default (ValidateLimitRange, k8s.io/kubernetes v1.37.2
// pkg/apis/core/validation); metadata it refuses (refusedManifestMeta). Such a LimitRange never exists: LimitRanger fills in nothing from
// it, and it bounds nothing. A LimitRange the operator reads exists.
//
// It is asked for each container a scan judges (limitRangeDefaults), so it is decided once per
// LimitRange.
func refusedLimitRange(inv *engine.Inventory, o *engine.Object, lr *corev1.LimitRange) string {
	if inv.Complete {
		return ""
	}
	return inv.Memo(o, "availability.refusedLimitRange", func() any { return limitRangeRefusal(inv, o, lr) }).(string)
}

// limitRangeRefusal is refusedLimitRange's answer for a manifest.
func limitRangeRefusal(inv *engine.Inventory, o *engine.Object, lr *corev1.LimitRange) string {
	if why := unservedVersion(inv, o); why != "" {
		return why
	}
	if why := refusedManifestMeta(inv, &lr.ObjectMeta, apimachineryvalidation.NameIsDNSSubdomain); why != "" {
		return why
	}
	seen := map[corev1.LimitType]bool{}
	for _, item := range lr.Spec.Limits {
		if seen[item.Type] {
			return fmt.Sprintf("type %s is listed twice", item.Type)
		}
		seen[item.Type] = true
		if why := refusedLimitType(item.Type); why != "" {
			return why
		}
		if item.Type == corev1.LimitTypePod && (len(item.Default) > 0 || len(item.DefaultRequest) > 0) {
			return "type Pod may set no default or defaultRequest"
		}
		if item.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := item.Min[corev1.ResourceStorage]
			_, hasMax := item.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				return "type PersistentVolumeClaim needs a min or max of storage"
			}
		}
		names := map[corev1.ResourceName]bool{}
		for _, l := range []corev1.ResourceList{item.Min, item.Max, item.Default, item.DefaultRequest, item.MaxLimitRequestRatio} {
			for name := range l {
				names[name] = true
			}
		}
		sorted := slices.Sorted(maps.Keys(names))
		for _, name := range sorted {
			if why := refusedLimitResource(item.Type, name); why != "" {
				return why
			}
		}
		for _, name := range sorted {
			lowest, hasMin := item.Min[name]
			highest, hasMax := item.Max[name]
			def, hasDef := item.Default[name]
			req, hasReq := item.DefaultRequest[name]
			ratio, hasRatio := item.MaxLimitRequestRatio[name]
			if item.Type == corev1.LimitTypeContainer {
				if !hasDef && hasMax {
					def, hasDef = highest, true
				}
				switch {
				case hasReq:
				case hasDef:
					req, hasReq = def, true
				case hasMin:
					req, hasReq = lowest, true
				}
			}
			above := func(a, b resource.Quantity) bool { return a.Cmp(b) > 0 }
			switch {
			case hasMin && hasMax && above(lowest, highest):
				return fmt.Sprintf("%s min %s is greater than max %s", name, lowest.String(), highest.String())
			case hasReq && hasMin && above(lowest, req):
				return fmt.Sprintf("%s min %s is greater than default request %s", name, lowest.String(), req.String())
			case hasReq && hasMax && above(req, highest):
				return fmt.Sprintf("%s default request %s is greater than max %s", name, req.String(), highest.String())
			case hasReq && hasDef && above(req, def):
				return fmt.Sprintf("%s default request %s is greater than default limit %s", name, req.String(), def.String())
			case hasDef && hasMin && above(lowest, def):
				return fmt.Sprintf("%s min %s is greater than default %s", name, lowest.String(), def.String())
			case hasDef && hasMax && above(def, highest):
				return fmt.Sprintf("%s default %s is greater than max %s", name, def.String(), highest.String())
			case hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0:
				return fmt.Sprintf("%s maxLimitRequestRatio %s is less than 1", name, ratio.String())
			case hasRatio && hasMin && hasMax && ratioAboveMaxOverMin(ratio, lowest, highest):
				return fmt.Sprintf("%s maxLimitRequestRatio %s is greater than max/min", name, ratio.String())
			case hasDef && hasReq && !overcommitted(name) && def.Cmp(req) != 0:
				return fmt.Sprintf("%s default %s must equal defaultRequest %s: it cannot be overcommitted", name, def.String(), req.String())
			}
		}
	}
	return ""
}

// ratioAboveMaxOverMin reports whether a LimitRange item's maxLimitRequestRatio is above its max
// over its min, as ValidateLimitRange computes it (k8s.io/kubernetes v1.37.2).
func ratioAboveMaxOverMin(ratio, lowest, highest resource.Quantity) bool {
	r, lo, hi := float64(ratio.Value()), lowest.Value(), highest.Value()
	if ratio.Value() < resource.MaxMilliValue && lo < resource.MaxMilliValue && hi < resource.MaxMilliValue {
		r, lo, hi = float64(ratio.MilliValue())/1000, lowest.MilliValue(), highest.MilliValue()
	}
	return r > float64(hi)/float64(lo)
}

// overcommitted reports whether a resource may be limited above its request: one in the
// kubernetes.io namespace (unprefixed names are) but huge pages (helper.IsOvercommitAllowed,
// k8s.io/kubernetes v1.37.2 pkg/apis/core/helper).
func overcommitted(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	return native && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix)
}

// refusedLimitType says why the API server refuses a LimitRange item's type, or "": it must be a
// qualified name, and without a "/" Container, Pod or PersistentVolumeClaim
// (validateLimitRangeTypeName, k8s.io/kubernetes v1.37.2 pkg/apis/core/validation).
func refusedLimitType(t corev1.LimitType) string {
	if msgs := validation.IsQualifiedName(string(t)); len(msgs) > 0 {
		return fmt.Sprintf("type %q: %s", t, msgs[0])
	}
	switch t {
	case corev1.LimitTypeContainer, corev1.LimitTypePod, corev1.LimitTypePersistentVolumeClaim:
		return ""
	}
	if !strings.Contains(string(t), "/") {
		return fmt.Sprintf("type %q is not Container, Pod or PersistentVolumeClaim", t)
	}
	return ""
}

// refusedLimitResource says why the API server refuses a resource in a LimitRange item, or "": a
// qualified name, and without a "/" for a Container or Pod item cpu, memory, ephemeral-storage or
// huge pages (ValidateContainerResourceName), for another a resource Kubernetes knows
// (validateResourceName and helper.IsStandardResourceName, k8s.io/kubernetes v1.37.2): a quota's
// requests.cpu is neither.
func refusedLimitResource(t corev1.LimitType, name corev1.ResourceName) string {
	if msgs := validation.IsQualifiedName(string(name)); len(msgs) > 0 {
		return fmt.Sprintf("type %s: resource %q: %s", t, name, msgs[0])
	}
	if strings.Contains(string(name), "/") {
		return ""
	}
	hugePages := strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
	switch t {
	case corev1.LimitTypeContainer, corev1.LimitTypePod:
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage || hugePages {
			return ""
		}
		return fmt.Sprintf("type %s: resource %q is not one a container can set", t, name)
	}
	if standardResources.Has(name) || hugePages || strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix) {
		return ""
	}
	return fmt.Sprintf("type %s: resource %q is not a standard resource", t, name)
}

// standardResources are the resources Kubernetes knows by a name without a "/", beside huge pages
// (helper.IsStandardResourceName, k8s.io/kubernetes v1.37.2 pkg/apis/core/helper).
var standardResources = standardQuotaResources.Clone().Insert(corev1.ResourceStorage)

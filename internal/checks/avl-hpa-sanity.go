package checks

import (
	"fmt"
	"sort"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlHpaSanity = &engine.Check{
	ID:    "avl-hpa-sanity",
	Title: "HorizontalPodAutoscalers keep redundancy and room to scale",
	Description: "An autoscaler whose minReplicas is below the profile's parameters.minReplicas (default 2) " +
		"scales the workload down to a single point of failure when load is low, and one whose " +
		"maxReplicas equals minReplicas, or whose behavior.scaleUp.selectPolicy is Disabled, cannot add capacity " +
		"at all (A1.1). Nor can one the API server refuses (maxReplicas unset or below minReplicas, a negative minReplicas, a scaleTargetRef " +
		"without a kind or a name, an API version it no longer serves: autoscaling/v2beta1 and v2beta2, a name that is not a DNS subdomain, an invalid label or annotation, metrics it refuses (a target of the wrong kind for its source, both averageUtilization and averageValue, a utilization below 1, minReplicas 0 without an Object or External metric), behavior it refuses: a stabilization window above 3600 s, a policy period above 1800 s, a selectPolicy other than Max, Min and Disabled), which only a manifest can hold: it is never created, and the other availability checks do not count it. Nor can one aimed at a kind without a scale subresource (a DaemonSet, a Job, a Pod) or at a " +
		"kind in an API group that does not serve it (extensions/v1beta1 Deployment), nor two autoscalers of one workload: the HPA controller finds its pods controlled by " +
		"more than one (AmbiguousSelector) and neither scales it by its metrics (each only brings replicas outside its minReplicas to maxReplicas range to that bound); nor one whose every metric is the utilization of cpu or memory (no metrics at all " +
		"means a cpu utilization of 80%) that the target's pods do not all request: the HPA controller computes utilization against the requests of " +
		"every regular container and native sidecar (of the container a ContainerResource metric names; of the pod when it sets pod-level requests " +
		"or limits of cpu or memory, which lack a resource that neither they nor any container names), " +
		"fails without one (missing request) and never adds a replica; and so it does when the pods request 0 of it (every container asks 0, or " +
		"the pod-level request does: a pod-level limit beside containers that name the request makes it their aggregate), leaving nothing to divide " +
		"the usage by. A ContainerResource metric's container is judged by its own request, whatever the pod level says. A request a LimitRange of the namespace fills in at admission counts, as " +
		"avl-resource-requests counts it (in the cluster only: a scan counts no LimitRange in its files); a target not among the objects read is not judged so." + supporting,
	Remediation: "Set minReplicas to at least the required replica count and maxReplicas above it, sized for peak load, " +
		"leave scaling up enabled (no behavior.scaleUp.selectPolicy: Disabled), keep one autoscaler per workload, and request the cpu or memory whose " +
		"utilization it follows in every container and sidecar of the target (or follow an average value instead).",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  []string{"HorizontalPodAutoscaler"},
	Reads:    []string{"HorizontalPodAutoscaler", kedaScaledObjectKind, engine.KindWorkload, "LimitRange"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		h, ok := o.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			ctx.NotApplicable("", "not an autoscaling HorizontalPodAutoscaler")
			return
		}
		if why := refusedAutoscaler(ctx.Inventory, o, h); why != "" {
			ctx.Fail("", "the API server refuses the autoscaler (%s): it is never created, and scales nothing", why)
			return
		}
		lowest := autoscalerMin(h)
		var problems []string
		if why := cannotScale(h.Spec.ScaleTargetRef); why != "" {
			problems = append(problems, why)
		} else if why := unmeasurable(ctx, o, h); why != "" {
			problems = append(problems, why)
		}
		if others := otherAutoscalersOfTarget(ctx.Inventory, o, h); len(others) > 0 {
			ref := h.Spec.ScaleTargetRef
			problems = append(problems, fmt.Sprintf("%s %q is also the target of HorizontalPodAutoscaler %s: the HPA controller "+
				"finds its pods controlled by more than one autoscaler (AmbiguousSelector) and none of them scales it by its metrics", ref.Kind, ref.Name, quoteList(others)))
		}
		if want := ctx.Params.MinReplicas; lowest < want {
			problems = append(problems, fmt.Sprintf("minReplicas is %d, below %d", lowest, want))
		}
		switch {
		case h.Spec.MaxReplicas <= lowest:
			problems = append(problems, fmt.Sprintf("maxReplicas %d leaves no room to scale above minReplicas %d", h.Spec.MaxReplicas, lowest))
		case scaleUpDisabled(h):
			problems = append(problems, fmt.Sprintf("behavior.scaleUp.selectPolicy is Disabled: the autoscaler never adds replicas "+
				"above those running (at least minReplicas %d), whatever maxReplicas %d allows", lowest, h.Spec.MaxReplicas))
		}
		if len(problems) > 0 {
			ctx.Fail("", "%s", few(problems, "; "))
			return
		}
		ctx.Pass("")
	},
}

// scaleUpDisabled reports whether an HPA's scale-up policy is Disabled: the HPA controller then
// caps the replicas it wants at those running (calculateScaleUpLimitWithScalingRules,
// k8s.io/kubernetes v1.37.2 pkg/controller/podautoscaler), raising them only to minReplicas.
func scaleUpDisabled(h *autoscalingv2.HorizontalPodAutoscaler) bool {
	b := h.Spec.Behavior
	return b != nil && b.ScaleUp != nil && b.ScaleUp.SelectPolicy != nil &&
		*b.ScaleUp.SelectPolicy == autoscalingv2.DisabledPolicySelect
}

// otherAutoscalersOfTarget names the other HorizontalPodAutoscalers whose scaleTargetRef names
// the same workload as h (kind, name and API group, as autoscalerOf matches them), sorted. With
// any, the HPA controller refuses to scale for each of them: validateAndParseSelector finds the
// target's pods matched by more than one HPA's selector (k8s.io/kubernetes v1.37.2
// pkg/controller/podautoscaler) and sets ScalingActive False, AmbiguousSelector.
func otherAutoscalersOfTarget(inv *engine.Inventory, o *engine.Object, h *autoscalingv2.HorizontalPodAutoscaler) []string {
	ref := h.Spec.ScaleTargetRef
	var others []string
	for _, other := range autoscalersByTarget(inv)[workloadRef{o.Namespace, apiGroup(ref.APIVersion), ref.Kind, ref.Name}] {
		if other.Name != o.Name {
			others = append(others, other.Name)
		}
	}
	sort.Strings(others)
	return others
}

// defaultMetrics are the metrics the API server gives an HPA that sets none: a cpu utilization of
// 80% (SetDefaults_HorizontalPodAutoscaler, k8s.io/kubernetes v1.37.2 pkg/apis/autoscaling/v2),
// which is also what an autoscaling/v1 HPA follows, with or without targetCPUUtilizationPercentage.
var defaultMetrics = []autoscalingv2.MetricSpec{{
	Type: autoscalingv2.ResourceMetricSourceType,
	Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)}},
}}

// unmeasurable says why the HPA controller can compute none of an HPA's metrics, each being the
// utilization of cpu or memory that the target's pods do not all request, or "" when one may be
// computed or the target is not among the objects read. Utilization is usage over request: the
// controller sums the request of each regular container and native sidecar (of the one container
// a ContainerResource metric names; of the pod, when it sets pod-level requests and the metric
// names no container), fails with "missing request" when one has none (calculateRequests,
// k8s.io/kubernetes v1.37.2 pkg/controller/podautoscaler/replica_calculator.go), and, when every
// metric fails, sets ScalingActive False and keeps the replicas it has (computeReplicasForMetrics),
// raising them only to minReplicas. A request counts as avl-resource-requests counts it: set in the
// container (a limit sets it too) or filled in by a LimitRange (declaresResource).
func unmeasurable(ctx *engine.Context, o *engine.Object, h *autoscalingv2.HorizontalPodAutoscaler) string {
	ref := h.Spec.ScaleTargetRef
	w := ctx.Inventory.Get(engine.IdentityKind(ref.APIVersion, ref.Kind), o.Namespace, ref.Name)
	if w == nil || w.Workload == nil || apiGroup(w.APIVersion) != apiGroup(ref.APIVersion) {
		return ""
	}
	metrics := h.Spec.Metrics
	if len(metrics) == 0 {
		metrics = defaultMetrics
	}
	var why []string
	for _, m := range metrics {
		var name corev1.ResourceName
		var container string
		var target autoscalingv2.MetricTarget
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			name, target = m.Resource.Name, m.Resource.Target
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			name, container, target = m.ContainerResource.Name, m.ContainerResource.Container, m.ContainerResource.Target
		default:
			return ""
		}
		if target.Type != autoscalingv2.UtilizationMetricType {
			return ""
		}
		missing := unrequested(ctx, w, name, container)
		if missing == "" {
			return ""
		}
		why = append(why, fmt.Sprintf("%s: %s", name, missing))
	}
	return fmt.Sprintf("every metric is the utilization of a resource the pods of %s do not all request (%s): the HPA controller "+
		"cannot compute it (missing request, ScalingActive False) and never adds a replica", describeWorkloads([]*engine.Object{w}), few(why, "; "))
}

// unrequested names the container of workload w that the HPA controller finds without a request
// of cpu or memory (unmeasurable), or says that the pod has none, or that the pods request 0 of it,
// or "" when the utilization can be computed, or the resource is neither.
//
// When the pod sets pod-level requests of cpu or memory (a pod-level limit sets the request too:
// DefaultPodLevelResources, k8s.io/kubernetes v1.37.2 pkg/api/pod/util.go) and the metric names
// no container, the controller reads the pod's request from resourcehelper.PodRequests
// (calculatePodLevelRequests): the pod-level request, which the API server defaults to the
// containers' requests aggregated, every init container's among them, when a container names
// one, else to the pod-level limit (podLevelSets). The resource is then missing when neither the
// pod-level resources nor any container names it. Otherwise the controller sums the requests of
// the regular containers and sidecars (of the one container a ContainerResource metric names:
// its own request, whatever the pod level says), failing when one names none. Either way a
// request of 0 in every pod leaves nothing to divide the usage by (GetResourceUtilizationRatio,
// pkg/controller/podautoscaler/metrics/utilization.go: "no metrics returned matched known pods").
func unrequested(ctx *engine.Context, w *engine.Object, name corev1.ResourceName, container string) string {
	if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
		return ""
	}
	if pod := w.Workload.Pod().ResourceKeys; container == "" && podLevelRequests(pod) {
		if podLevelSets(w, name, false) {
			return ""
		}
		if named, _ := pod.Requested(name); named {
			return fmt.Sprintf("the pods request 0 %s (their pod-level request)", name)
		}
		named := false
		for _, c := range w.Workload.Containers() {
			if c.Type == engine.ContainerEphemeral {
				continue
			}
			if ok, _ := declaresResource(ctx, w, c, name, false); ok {
				return ""
			}
			n, _ := c.ResourceKeys.Declares(name, false)
			named = named || n
		}
		if named {
			return fmt.Sprintf("the pods request 0 %s (the pod-level request is their containers' requests, each 0)", name)
		}
		return fmt.Sprintf("the pod-level requests name no %s, and no container requests it", name)
	}
	found, nonZero := false, false
	for _, c := range w.Workload.Containers() {
		if c.Type != engine.ContainerRegular && !c.SidecarInit || container != "" && c.Name != container {
			continue
		}
		found = true
		if named, set := c.ResourceKeys.Declares(name, false); named {
			nonZero = nonZero || set
			continue
		}
		if ok, _ := declaresResourceAt(ctx, w, c, name, false, container == ""); !ok {
			return fmt.Sprintf("container %s requests none", c.Name)
		}
		nonZero = true
	}
	switch {
	case !found && container != "":
		return fmt.Sprintf("the pods run no container %s", container)
	case found && !nonZero && container != "":
		return fmt.Sprintf("container %s requests 0 %s", container, name)
	case found && !nonZero:
		return fmt.Sprintf("the pods request 0 %s", name)
	}
	return ""
}

// podLevelRequests reports whether a pod's pod-level resources request cpu or memory, as they do
// once the API server has defaulted a pod-level limit's request (IsPodLevelRequestsSet).
func podLevelRequests(pod engine.ResourceKeys) bool {
	cpu, _ := pod.Declares(corev1.ResourceCPU, false)
	memory, _ := pod.Declares(corev1.ResourceMemory, false)
	return cpu || memory
}

// scalableKinds are the built-in kinds with a scale subresource, by the API group that serves
// them (k8s.io/kubernetes v1.37.2 pkg/registry).
var scalableKinds = map[string]string{"Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "ReplicationController": ""}

// cannotScale says why the HPA controller cannot scale what a scaleTargetRef names, "" when it
// can or cannot tell (a custom resource may have a scale subresource). The controller maps the
// reference's API group and kind, at any version of the group (RESTMappings), and gets the scale
// subresource: a built-in kind without one (noScaleSubresource), or a built-in kind named in a
// Kubernetes API group that does not serve it (extensions, which Kubernetes 1.37 does not serve
// at all), has none to get. A reference without an API group (but to a ReplicationController)
// the API server refuses on create (validationOptionsForHorizontalPodAutoscaler, k8s.io/kubernetes
// v1.37.2 pkg/registry/autoscaling/horizontalpodautoscaler), and maps to nothing.
func cannotScale(ref autoscalingv2.CrossVersionObjectReference) string {
	const never = ": the HPA controller cannot get the target's scale (FailedGetScale) and never scales it"
	group := apiGroup(ref.APIVersion)
	if noScaleSubresource[schema.GroupKind{Group: group, Kind: ref.Kind}] {
		return fmt.Sprintf("scaleTargetRef names a %s, and a %s has no scale subresource", ref.Kind, ref.Kind) + never
	}
	want, builtIn := scalableKinds[ref.Kind]
	switch {
	case !builtIn || group == want:
		return ""
	case group == "":
		return fmt.Sprintf("scaleTargetRef names %s with no API group (apiVersion %q): the API server refuses to create such an "+
			"autoscaler (apiVersion must specify API group), and the HPA controller finds no %s in the core group", ref.Kind, ref.APIVersion, ref.Kind)
	case !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io"):
		return fmt.Sprintf("scaleTargetRef names %s in API group %q (apiVersion %q), which serves no %s", ref.Kind, group, ref.APIVersion, ref.Kind) + never
	}
	return ""
}

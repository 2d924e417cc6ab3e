package checks

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// refusedQuota says why the API server refuses to create a ResourceQuota manifest, or "" when it
// does not (ValidateResourceQuota, k8s.io/kubernetes v1.37.2 pkg/apis/core/validation): its
// metadata (ValidateObjectMeta with ValidateResourceQuotaName, a DNS subdomain); a hard resource
// that is not a qualified name, or without a "/" not one the quota system knows
// (ValidateResourceQuotaResourceName: "pod" for "pods", say); a negative hard quantity, or a
// fraction of a resource counted in whole numbers (ValidateResourceQuantityValue); an unknown
// scope, a scope that does not apply to a hard resource, or both scopes of a conflicting pair
// (validateResourceQuotaScopes); in the scope selector the same, and an operator other than
// Exists for Terminating, NotTerminating, BestEffort, NotBestEffort and
// CrossNamespacePodAffinity, In or NotIn without values, Exists or DoesNotExist with values, or
// an unknown operator (validateScopedResourceSelectorRequirement). Such a quota never exists and
// bounds nothing. A quota the operator reads exists.
func refusedQuota(inv *engine.Inventory, rq *corev1.ResourceQuota) string {
	if inv.Complete {
		return ""
	}
	if why := refusedMeta(&rq.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain); why != "" {
		return why
	}
	spec := field.NewPath("spec")
	var hard []corev1.ResourceName
	for name := range rq.Spec.Hard {
		hard = append(hard, name)
	}
	slices.Sort(hard)
	for _, name := range hard {
		at := spec.Child("hard").Key(string(name))
		if msgs := validation.IsQualifiedName(string(name)); len(msgs) > 0 {
			return field.Invalid(at, name, msgs[0]).Error()
		}
		if !strings.Contains(string(name), "/") && !standardQuotaResource(name) {
			return field.Invalid(at, name, "must be a standard resource for quota").Error()
		}
		q := rq.Spec.Hard[name]
		if q.Sign() < 0 {
			return field.Invalid(at, q.String(), "must be greater than or equal to 0").Error()
		}
		if integerQuotaResource(name) && q.MilliValue()%1000 != 0 {
			return field.Invalid(at, q.String(), "must be an integer").Error()
		}
	}
	scopes := sets.New[corev1.ResourceQuotaScope]()
	for _, s := range rq.Spec.Scopes {
		at := spec.Child("scopes")
		if why := refusedScope(s, hard); why != "" {
			return field.Invalid(at, rq.Spec.Scopes, why).Error()
		}
		scopes.Insert(s)
	}
	if conflictingScopes(scopes) {
		return field.Invalid(spec.Child("scopes"), rq.Spec.Scopes, "conflicting scopes").Error()
	}
	if rq.Spec.ScopeSelector == nil {
		return ""
	}
	at := spec.Child("scopeSelector", "matchExpressions")
	scopes = sets.New[corev1.ResourceQuotaScope]()
	for _, r := range rq.Spec.ScopeSelector.MatchExpressions {
		switch why := refusedScope(r.ScopeName, hard); why {
		case "":
		case "unsupported scope":
			return field.Invalid(at.Child("scopeName"), r.ScopeName, why).Error()
		default:
			return field.Invalid(at, rq.Spec.ScopeSelector, why).Error()
		}
		switch r.ScopeName {
		case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
			corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
			if r.Operator != corev1.ScopeSelectorOpExists {
				return field.Invalid(at.Child("operator"), r.Operator,
					"must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity").Error()
			}
		}
		switch r.Operator {
		case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
			if len(r.Values) == 0 {
				return field.Required(at.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector").Error()
			}
		case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
			if len(r.Values) != 0 {
				return field.Invalid(at.Child("values"), r.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector").Error()
			}
		default:
			return field.Invalid(at.Child("operator"), r.Operator, "not a valid selector operator").Error()
		}
		scopes.Insert(r.ScopeName)
	}
	if conflictingScopes(scopes) {
		return field.Invalid(at, rq.Spec.Scopes, "conflicting scopes").Error()
	}
	return ""
}

// refusedScope says why the API server refuses a quota scope beside these hard resources, or "":
// a scope it does not know (helper.IsStandardResourceQuotaScope), or one that does not apply to a
// standard quota resource among them (helper.IsResourceQuotaScopeValidForResource, k8s.io/kubernetes
// v1.37.2 pkg/apis/core/helper).
func refusedScope(scope corev1.ResourceQuotaScope, hard []corev1.ResourceName) string {
	var valid func(corev1.ResourceName) bool
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		valid = func(r corev1.ResourceName) bool { return r == corev1.ResourcePods || podComputeQuotaResources.Has(r) }
	case corev1.ResourceQuotaScopeBestEffort:
		valid = func(r corev1.ResourceName) bool { return r == corev1.ResourcePods }
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		valid = func(r corev1.ResourceName) bool {
			return r == corev1.ResourcePersistentVolumeClaims || r == corev1.ResourceRequestsStorage
		}
	default:
		return "unsupported scope"
	}
	for _, r := range hard {
		if standardQuotaResource(r) && !valid(r) {
			return "unsupported scope applied to resource"
		}
	}
	return ""
}

// conflictingScopes reports whether scopes hold BestEffort and NotBestEffort, or Terminating and
// NotTerminating, which the API server refuses together.
func conflictingScopes(scopes sets.Set[corev1.ResourceQuotaScope]) bool {
	return scopes.HasAll(corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort) ||
		scopes.HasAll(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating)
}

// podComputeQuotaResources are the quota resources of pods' cpu and memory (k8s.io/kubernetes
// v1.37.2 pkg/apis/core/helper): avl-namespace-quota's computeResources.
var podComputeQuotaResources = sets.New(computeResources...)

// standardQuotaResources are the resources the quota system knows by a name without a "/"
// (helper.IsStandardQuotaResourceName, k8s.io/kubernetes v1.37.2 pkg/apis/core/helper), beside
// huge pages.
var standardQuotaResources = sets.New(
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

func standardQuotaResource(name corev1.ResourceName) bool {
	return standardQuotaResources.Has(name) || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix)
}

// integerQuotaResource reports whether a quota resource is counted in whole numbers: object
// counts, and extended resources (helper.IsIntegerResourceName and IsExtendedResourceName,
// k8s.io/kubernetes v1.37.2 pkg/apis/core/helper): a name with a "/" outside kubernetes.io that
// does not start with "requests." and, so prefixed, is a qualified name (count/deployments.apps,
// nvidia.com/gpu).
func integerQuotaResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
		corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers:
		return true
	}
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	if native || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

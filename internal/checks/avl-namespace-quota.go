package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlNamespaceQuota = &engine.Check{
	ID:    "avl-namespace-quota",
	Title: "Namespaces bound resource use with a ResourceQuota or LimitRange",
	Description: "Without a ResourceQuota or a LimitRange one namespace can claim the cluster's capacity " +
		"(a runaway scale-up, pods without requests) and starve every other team's workloads (A1.1). " +
		"Only a bound on cpu or memory counts: a ResourceQuota that names cpu or memory (requests, " +
		"limits or plain) for every pod (a quota scoped to some pods, Terminating or a PriorityClass " +
		"say, counts only with quotas for the rest, as Terminating and NotTerminating together, or " +
		"PriorityClass In and NotIn the same classes, or PriorityClass Exists alone beside a globalDefault class, which the " +
		"Priority admission plugin gives every pod that names none), or a " +
		"LimitRange that sets a maximum or a default limit of cpu or memory for containers or pods; " +
		"default requests (which limit nothing), object counts and storage limits do not. In a scan " +
		"the quota or limit range must be among the manifests, since they are what ships, and a LimitRange the API server refuses " +
		"(a Pod item with a default, bounds out of order, a resource or limit type it does not take, a ratio below 1, an invalid name or label) or a ResourceQuota it refuses (an invalid name, a resource " +
		"the quota system does not know such as pod for pods, a negative quantity or a fraction of an object count, a scope that " +
		"does not apply or an operator a scope does not take) does not count." + supporting,
	Remediation: "Add a ResourceQuota for requests.cpu, requests.memory and limits.memory sized for the " +
		"namespace, and a LimitRange with default requests and limits for containers that declare none.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  []string{"Namespace"},
	Reads:    []string{"ResourceQuota", "LimitRange", "PriorityClass"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notNamespace(ctx, o) {
			return
		}
		quotas, ranges := ctx.Inventory.List(o.Name, "ResourceQuota"), ctx.Inventory.List(o.Name, "LimitRange")
		if len(quotas)+len(ranges) == 0 {
			ctx.Fail("", "neither a ResourceQuota nor a LimitRange bounds resource use in the namespace")
			return
		}
		var why []string
		for _, r := range ranges {
			lr, ok := r.Obj.(*corev1.LimitRange)
			if ok {
				if refused := refusedLimitRange(ctx.Inventory, r, lr); refused != "" {
					why = append(why, fmt.Sprintf("LimitRange %q is refused by the API server (%s)", r.Name, refused))
					continue
				}
			}
			if ok && limitRangeBoundsCompute(lr) {
				ctx.Pass("")
				return
			}
			if ok && limitRangeRequestsOnly(lr) {
				why = append(why, fmt.Sprintf("LimitRange %q sets only default requests, which limit no container's cpu or memory", r.Name))
				continue
			}
			why = append(why, fmt.Sprintf("LimitRange %q bounds no cpu or memory of containers or pods", r.Name))
		}
		var scoped []corev1.ScopedResourceSelectorRequirement
		for _, q := range quotas {
			rq, ok := q.Obj.(*corev1.ResourceQuota)
			if ok {
				if refused := refusedQuota(ctx.Inventory, rq); refused != "" {
					why = append(why, fmt.Sprintf("ResourceQuota %q is refused by the API server (%s)", q.Name, refused))
					continue
				}
			}
			if !ok || !quotaBoundsCompute(rq) {
				why = append(why, fmt.Sprintf("ResourceQuota %q bounds no cpu or memory", q.Name))
				continue
			}
			scope := quotaScope(rq)
			if scope == "" {
				ctx.Pass("")
				return
			}
			if reqs := quotaScopes(rq); len(reqs) == 1 {
				scoped = append(scoped, reqs[0])
			}
			why = append(why, fmt.Sprintf("ResourceQuota %q applies only to some pods (%s)", q.Name, scope))
		}
		if quotasCoverEveryPod(scoped, priorityClassesOf(ctx.Inventory).defaultName != "") {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "nothing bounds the cpu and memory of every pod in the namespace: %s", strings.Join(why, "; "))
	},
}

// computeResources are the quota and limit range resource names that bound cpu or memory.
var computeResources = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
}

func namesCompute(l corev1.ResourceList) bool {
	for _, r := range computeResources {
		if _, ok := l[r]; ok {
			return true
		}
	}
	return false
}

// quotaBoundsCompute reports whether a quota's hard limits name cpu or memory.
func quotaBoundsCompute(q *corev1.ResourceQuota) bool { return namesCompute(q.Spec.Hard) }

// limitRangeBoundsCompute reports whether a limit range limits the cpu or memory of containers
// or pods: a maximum, or a default limit (given to every container that declares none). A default
// request limits nothing (a container without a limit still may use its node's cpu and memory),
// nor does a minimum; its PersistentVolumeClaim items bound storage. A limit range names cpu and
// memory so: the API server refuses requests.cpu and the like in it.
func limitRangeBoundsCompute(lr *corev1.LimitRange) bool {
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer && item.Type != corev1.LimitTypePod {
			continue
		}
		for _, l := range []corev1.ResourceList{item.Max, item.Default} {
			if _, ok := l[corev1.ResourceCPU]; ok {
				return true
			}
			if _, ok := l[corev1.ResourceMemory]; ok {
				return true
			}
		}
	}
	return false
}

// limitRangeRequestsOnly reports whether a limit range sets default cpu or memory requests for
// containers (and limitRangeBoundsCompute says it limits nothing).
func limitRangeRequestsOnly(lr *corev1.LimitRange) bool {
	for _, item := range lr.Spec.Limits {
		if item.Type == corev1.LimitTypeContainer && namesCompute(item.DefaultRequest) {
			return true
		}
	}
	return false
}

// quotaScope names the pods a quota tracks when its scopes narrow them (the quota evaluator
// charges a pod only to the quotas all of whose scopes match it:
// pkg/quota/v1/evaluator/core/pods.go, podMatchesScopeFunc), or "" for every pod. A scope in
// spec.scopes is the scope selector's Exists.
func quotaScope(q *corev1.ResourceQuota) string {
	var parts []string
	for _, s := range q.Spec.Scopes {
		parts = append(parts, "scope "+string(s))
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		for _, e := range sel.MatchExpressions {
			p := "scope " + string(e.ScopeName)
			if e.Operator != corev1.ScopeSelectorOpExists {
				p += " " + string(e.Operator)
			}
			if len(e.Values) > 0 {
				p += " " + strings.Join(e.Values, ",")
			}
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// quotaScopes lists a quota's scopes as scope selector requirements: a scope in spec.scopes is
// the selector's Exists.
func quotaScopes(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		out = append(out, sel.MatchExpressions...)
	}
	return out
}

// quotasCoverEveryPod reports whether quotas scoped by these requirements, one each, together track
// every pod: Terminating and NotTerminating, or PriorityClass requirements that leave out
// neither the pods that name no class (DoesNotExist, or any NotIn, which the quota evaluator
// matches against labels without the priorityClass key: podMatchesSelector, k8s.io/kubernetes
// v1.37.2 pkg/quota/v1/evaluator/core/pods.go) nor any class (Exists, or NotIn requirements
// whose values In requirements name: a class is left out only by every NotIn). With a
// globalDefault PriorityClass (defaulted) there are no pods without a class: the Priority
// admission plugin gives each pod created without one the default class's name
// (establishPriority, plugin/pkg/admission/priority) before the ResourceQuota plugin charges it.
func quotasCoverEveryPod(reqs []corev1.ScopedResourceSelectorRequirement, defaulted bool) bool {
	var terminating, notTerminating, everyClass bool
	noClass := defaulted
	in := map[string]bool{}
	var leftOut map[string]bool // the classes every NotIn so far leaves out; nil before the first
	for _, r := range reqs {
		switch r.ScopeName {
		case corev1.ResourceQuotaScopeTerminating:
			terminating = true
		case corev1.ResourceQuotaScopeNotTerminating:
			notTerminating = true
		case corev1.ResourceQuotaScopePriorityClass:
			switch r.Operator {
			case corev1.ScopeSelectorOpExists:
				everyClass = true
			case corev1.ScopeSelectorOpDoesNotExist:
				noClass = true
			case corev1.ScopeSelectorOpIn:
				for _, v := range r.Values {
					in[v] = true
				}
			case corev1.ScopeSelectorOpNotIn:
				noClass = true
				next := map[string]bool{}
				for _, v := range r.Values {
					if leftOut == nil || leftOut[v] {
						next[v] = true
					}
				}
				leftOut = next
			}
		}
	}
	if terminating && notTerminating {
		return true
	}
	if leftOut != nil && !everyClass {
		everyClass = true
		for v := range leftOut {
			everyClass = everyClass && in[v]
		}
	}
	return noClass && everyClass
}

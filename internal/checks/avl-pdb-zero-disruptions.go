package checks

import (
	"fmt"
	"slices"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPdbZeroDisruptions = &engine.Check{
	ID:    "avl-pdb-zero-disruptions",
	Title: "PodDisruptionBudgets allow at least one disruption",
	Description: "A budget that allows no voluntary disruption (maxUnavailable 0, minAvailable 100%, or a " +
		"minAvailable as high as the pods it covers, a percentage being taken of the replicas of the pods' " +
		"controllers and rounded up, as the disruption controller does, with the pods no controller owns " +
		"counted besides, and in the operator's view the running pods a controller's template does not explain, such as a " +
		"StatefulSet's pods not yet updated, counted by the labels they carry) blocks every node drain: cluster upgrades and " +
		"node repairs stall, or an operator forces them through and the budget protects nothing " +
		"(A1.2). For a workload scaled by a HorizontalPodAutoscaler, its minReplicas is the pod count " +
		"judged. A budget that selects pods another budget selects too fails as well: the eviction " +
		"API refuses to evict a pod that more than one budget selects. So does a budget with " +
		"maxUnavailable or a percentage minAvailable that selects the pods of a DaemonSet, Job or " +
		"CronJob: the disruption controller counts those against the scale of the pods' controllers, " +
		"which these have not, and then allows no disruption at all; and one of those that selects only " +
		"pods no controller owns, whose expected count is then 0, or a pod whose controller reference " +
		"the disruption controller cannot resolve to a scale (a controller that does not exist, or one " +
		"of a built-in kind without a scale subresource), which makes it allow no disruption either; " +
		"when that controller is a custom resource (whose scale subresource is not read) or, in a scan, " +
		"is not among the manifests, the check says NotAssessed. A budget in a manifest that the API server refuses (minAvailable and maxUnavailable both set, a " +
		"negative value, a percentage above 100% or a string that is not a percentage, an unknown unhealthyPodEvictionPolicy, policy/v1beta1) " +
		"is never created, and is NotApplicable. A budget that sets neither minAvailable nor maxUnavailable (policy/v1 " +
		"defaults neither) fails too when it selects pods: the disruption controller then expects no pods and allows no " +
		"disruption." + argoRolloutPodsText + supporting,
	Remediation: "Use maxUnavailable: 1 (or a percentage above 0), or a minAvailable below the number of pods the " +
		"budget covers; raise the replicas if one pod may not be spared.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{a12},
	Targets:  []string{"PodDisruptionBudget"},
	Reads:    []string{engine.KindWorkload, "HorizontalPodAutoscaler", kedaScaledObjectKind, argoRolloutKind},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		b := budgetOf(ctx.Inventory, o)
		if b == nil {
			ctx.NotApplicable("", "not a policy PodDisruptionBudget")
			return
		}
		if b.refused != "" {
			ctx.NotApplicable("", "the API server refuses the budget ("+b.refused+"): it is never created")
			return
		}
		if w, other := sharedBudget(ctx.Inventory, b); w != nil {
			ctx.Fail("", "the pods of %s are also selected by PodDisruptionBudget %q: the eviction API refuses to evict a pod that more than one budget selects, so node drains block",
				describeWorkloads([]*engine.Object{w}), other)
			return
		}
		spec := b.pdb.Spec
		if w := unscalableSelected(ctx.Inventory, b); w != nil {
			ctx.Fail("", "the budget sets %s and selects the pods of %s, which has no scale subresource: the disruption controller cannot count the pods expected and allows no disruption (failSafe), so no pod it selects may be evicted",
				budgetField(b.pdb), describeWorkloads([]*engine.Object{w}))
			return
		}
		if w, why, decided := scaleNotFound(ctx.Inventory, b); w != nil {
			if decided {
				ctx.Fail("", "the budget sets %s and selects %s, but %s: the disruption controller finds no scale for it, fails to sync the budget and allows no disruption",
					budgetField(b.pdb), describeWorkloads([]*engine.Object{w}), why)
				return
			}
			ctx.NotAssessed("", fmt.Sprintf("the budget sets %s and selects %s, but %s: whether the disruption controller finds its scale (else it allows no disruption) cannot be told",
				budgetField(b.pdb), describeWorkloads([]*engine.Object{w}), why))
			return
		}
		if ws := selectedWorkloads(ctx.Inventory, b); countedByScale(b.pdb) && len(ws) > 0 && !slices.ContainsFunc(ws, hasController) {
			ctx.Fail("", "the budget sets %s and selects only pods no controller owns (%s): the disruption controller counts it against the scale of the pods' controllers, 0 here, and allows no disruption",
				budgetField(b.pdb), describeWorkloads(ws))
			return
		}
		if mu := spec.MaxUnavailable; mu != nil {
			if p, ok := intOrPercent(mu); (ok && p == 0) || (mu.Type == intstr.Int && mu.IntVal == 0) {
				ctx.Fail("", "maxUnavailable is %s: no pod may ever be evicted, so node drains block", mu.String())
				return
			}
			// The pods the budget selects by the labels they carry may be fewer than the scale
			// it is counted against (a StatefulSet's pods not yet updated to the template's
			// labels): currentHealthy - (expectedCount - maxUnavailable) may be 0.
			if c := countedDisruptions(ctx.Inventory, b); c.ok && c.pods > 0 && c.allowed <= 0 {
				ctx.Fail("", "maxUnavailable is %s, but the disruption controller counts it against %s, the scale of the controllers whose pods the budget selects, and the budget selects %s by the labels they carry: it allows no disruption, so node drains block",
					mu.String(), countNoun(c.expected, "pod"), countNoun(c.pods, "pod"))
				return
			}
			ctx.Pass("")
			return
		}
		ma := spec.MinAvailable
		if ma == nil {
			// policy/v1 defaults neither field (policy/v1beta1 defaulted minAvailable to 1):
			// getExpectedPodCount then leaves expectedCount at 0, and updatePdbStatus allows no
			// disruption while it is 0 (k8s.io/kubernetes v1.37.2 pkg/controller/disruption), so
			// the eviction API refuses to evict any pod the budget selects.
			ws := selectedWorkloads(ctx.Inventory, b)
			if selectsNoWorkload(ctx, ws) {
				return
			}
			if !slices.ContainsFunc(ws, func(w *engine.Object) bool { n, known := podCount(ctx.Inventory, w); return !known || n > 0 }) {
				ctx.Pass("")
				return
			}
			ctx.Fail("", "the budget sets neither minAvailable nor maxUnavailable: the disruption controller expects no pods and allows no disruption, "+
				"so no pod of %s may ever be evicted and node drains block", describeWorkloads(ws))
			return
		}
		if p, ok := intOrPercent(ma); ok && p >= 100 {
			ctx.Fail("", "minAvailable is %s: no pod may ever be evicted, so node drains block", ma.String())
			return
		}
		ws := selectedWorkloads(ctx.Inventory, b)
		if selectsNoWorkload(ctx, ws) {
			return
		}
		for _, w := range ws {
			if _, known := podCount(ctx.Inventory, w); !known {
				ctx.NotAssessed("", "the budget selects "+describeWorkloads([]*engine.Object{w})+", whose pod count depends on the nodes")
				return
			}
		}
		// As the disruption controller counts: a percentage is scaled against the controllers'
		// scale alone and rounded up, and pods no controller owns are healthy pods beyond it.
		if allowed, pods, _, _ := disruptionsAllowed(ctx.Inventory, b); pods > 0 && allowed <= 0 {
			ctx.Fail("", "minAvailable %s leaves no pod of %s (%s) free to evict, so node drains block",
				ma.String(), describeWorkloads(ws), countNoun(pods, "pod"))
			return
		}
		ctx.Pass("")
	},
}

// selectsNoWorkload judges a budget that selects no workload, and reports whether it did: in
// the operator's view it protects nothing and blocks nothing (Pass); a scan may not hold the
// workloads it selects (NotAssessed).
func selectsNoWorkload(ctx *engine.Context, ws []*engine.Object) bool {
	if len(ws) > 0 {
		return false
	}
	if ctx.Inventory.Complete {
		ctx.Pass("")
	} else {
		ctx.NotAssessed("", "the budget selects no workload in the scanned input")
	}
	return true
}

// unscalableSelected returns a DaemonSet, Job or CronJob whose pods a budget selects when the
// budget is counted against the scale of the pods' controllers (maxUnavailable, or a
// percentage minAvailable), or nil. These have no scale subresource: the disruption
// controller fails to sync such a budget ("does not implement the scale subresource",
// getExpectedScale) and sets its disruptionsAllowed to 0 (failSafe, k8s.io/kubernetes v1.37.2
// pkg/controller/disruption), so the eviction API refuses to evict any pod it selects.
func unscalableSelected(inv *engine.Inventory, b *disruptionBudget) *engine.Object {
	if !countedByScale(b.pdb) {
		return nil
	}
	for _, w := range selectedWorkloads(inv, b) {
		if w.Kind == "DaemonSet" {
			return w
		}
	}
	return selectedJob(inv, b)
}

// budgetField names the field a budget sets, with its value: "maxUnavailable: 1".
func budgetField(pdb *policyv1.PodDisruptionBudget) string {
	if v := pdb.Spec.MaxUnavailable; v != nil {
		return "maxUnavailable: " + v.String()
	}
	if v := pdb.Spec.MinAvailable; v != nil {
		return "minAvailable: " + v.String()
	}
	return "neither minAvailable nor maxUnavailable"
}

// countedByScale reports whether the disruption controller counts a budget against the scale of
// the controllers of the pods it selects (getExpectedScale): maxUnavailable, or a percentage
// minAvailable. An integer minAvailable is counted against the pods themselves.
func countedByScale(pdb *policyv1.PodDisruptionBudget) bool {
	return pdb.Spec.MaxUnavailable != nil || pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type != intstr.Int
}

// hasController reports whether a workload the budget selects has pods a controller owns: any
// but a Pod without a controller reference (getExpectedScale counts those as unmanagedPods, in
// no scale; updatePdbStatus allows nothing while the scale counted is 0).
func hasController(w *engine.Object) bool {
	return w.Kind != "Pod" || metav1.GetControllerOf(w.Obj) != nil
}

// scaleNotFound returns a pod the budget selects whose controller reference the disruption
// controller cannot turn into a scale, when the budget is counted by scale (countedByScale), with
// why; decided is false when that cannot be told from the objects read. The disruption controller
// looks up the controller each pod names, by kind, name and UID (getExpectedScale and its
// finders, k8s.io/kubernetes v1.37.2 pkg/controller/disruption: a ReplicationController,
// ReplicaSet, Deployment or StatefulSet, else the scale subresource of the kind), and when it
// finds none it fails to sync the budget and allows no disruption (failSafe). A controller
// reference is what the pod claims: the controller may not exist (in the operator, which sees the
// whole cluster; in a scan it may not be among the manifests), be a built-in kind without a
// scale subresource (a DaemonSet, a Job, a ConfigMap, a static pod's Node), or be a custom
// resource, whose scale subresource (or whether its kind is served at all) is not read. Pods
// their controller's template explains are not among the workloads selected: their controller is.
func scaleNotFound(inv *engine.Inventory, b *disruptionBudget) (w *engine.Object, why string, decided bool) {
	if !countedByScale(b.pdb) {
		return nil, "", false
	}
	var undecided *engine.Object
	var undecidedWhy string
	for _, p := range selectedWorkloads(inv, b) {
		if p.Kind != "Pod" {
			continue
		}
		ref := metav1.GetControllerOf(p.Obj)
		if ref == nil {
			continue
		}
		var reason string
		known := true
		switch {
		case !builtInGroup(ref):
			reason = fmt.Sprintf("its controller %s %s %s is a custom resource, which is not read", ref.APIVersion, ref.Kind, ref.Name)
			known = false
		case !hasScale(ref):
			reason = fmt.Sprintf("its controller %s %s is a built-in kind without a scale subresource", ref.Kind, ref.Name)
		default:
			owner := inv.Get(ref.Kind, p.Namespace, ref.Name)
			switch {
			case owner != nil && owner.Obj.GetUID() == ref.UID:
				continue
			case inv.Complete:
				reason = fmt.Sprintf("its controller %s %s is not there (with the UID its reference names)", ref.Kind, ref.Name)
			default:
				reason = fmt.Sprintf("its controller %s %s is not among the objects given", ref.Kind, ref.Name)
				known = false
			}
		}
		if known {
			return p, reason, true
		}
		if undecided == nil {
			undecided, undecidedWhy = p, reason
		}
	}
	return undecided, undecidedWhy, false
}

// hasScale reports whether a controller reference names a built-in kind the disruption
// controller finds a scale for: a ReplicationController, a ReplicaSet of apps or extensions (its
// finders read ReplicaSets by name from the apps informer), or a Deployment or StatefulSet of
// apps (a Deployment named by a pod itself is found through its scale subresource, which the
// unserved extensions/v1beta1 has not).
func hasScale(ref *metav1.OwnerReference) bool {
	switch g := apiGroup(ref.APIVersion); ref.Kind {
	case "ReplicationController":
		return g == ""
	case "ReplicaSet":
		return g == "apps" || g == "extensions"
	case "Deployment", "StatefulSet":
		return g == "apps"
	}
	return false
}

package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var avlPriorityClass = &engine.Check{
	ID:    "avl-priority-class",
	Title: "Long-running workloads set a priority class",
	Description: "When a cluster runs short of capacity the scheduler preempts and the kubelet evicts pods by " +
		"priority; without a priorityClassName a critical service has the same priority as any batch " +
		"job and may be the one that goes (A1.1). A class counts only when its value is above what pods " +
		"that name none get (0, or the value of the globalDefault PriorityClass); a class that does not " +
		"exist fails in the cluster (the Priority admission plugin refuses the pods) and is NotAssessed " +
		"in a scan that does not hold it, or holds only one the API server refuses (an invalid name or label, a value above " +
		"1000000000, an unknown preemptionPolicy), which neither counts nor, as globalDefault, sets what other pods get. " +
		"In a scan a class of the files passes no workload (NotAssessed): only cluster administrators create " +
		"PriorityClasses, and the pods get the value of the cluster's class of that name; one whose value the files " +
		"show no higher than the default still fails. system-cluster-critical and system-node-critical exist in " +
		"every cluster. " +
		"Workloads that run to completion are NotApplicable: Jobs, CronJobs and Pods whose restartPolicy is not Always, unless a regular container is restarted after it exits 0 (its own restartPolicy Always, or a restartPolicyRules rule that restarts on exit code 0, Kubernetes 1.35+), and Pods whose regular containers' own restartPolicy (Never, OnFailure) lets every one of them complete." + supporting,
	Remediation: "Define PriorityClasses for the cluster's tiers, with values above the globalDefault class's (or " +
		"above 0 without one), and set spec.priorityClassName in the pod template.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{a11},
	Targets:  workload,
	Reads:    []string{"PriorityClass"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if !o.Workload.LongRunning {
			ctx.NotApplicable("", "the workload runs to completion")
			return
		}
		name := o.Workload.Pod().PriorityClassName
		if name == "" {
			ctx.Fail("", "no priorityClassName: the pods have the default priority")
			return
		}
		if _, ok := systemPriorityClasses[name]; ok {
			ctx.Pass("")
			return
		}
		if strings.HasPrefix(name, systemPriorityClassPrefix) {
			ctx.Fail("", "PriorityClass %q does not exist: the API server reserves names that start with %q for "+
				"system-cluster-critical and system-node-critical, and the Priority admission plugin refuses the pods",
				name, systemPriorityClassPrefix)
			return
		}
		classes := priorityClassesOf(ctx.Inventory)
		value, ok := classes.values[name]
		switch {
		case !ok && classes.refused[name] != "":
			ctx.NotAssessed("", fmt.Sprintf("PriorityClass %q is refused by the API server (%s): it is never created, and whether the cluster "+
				"has a class of that name is not in the scanned input", name, classes.refused[name]))
		case !ok && ctx.Inventory.Complete:
			ctx.Fail("", "PriorityClass %q does not exist: the Priority admission plugin refuses the pods", name)
		case !ok:
			ctx.NotAssessed("", fmt.Sprintf("PriorityClass %q is not in the scanned input", name))
		case value <= classes.defaultValue && classes.defaultName == "":
			ctx.Fail("", "PriorityClass %q has value %d, no higher than the 0 pods that name no class get: "+
				"the pods have no priority over them", name, value)
		case value <= classes.defaultValue:
			ctx.Fail("", "PriorityClass %q has value %d, no higher than %d, the value of globalDefault PriorityClass %q "+
				"that pods which name no class get: the pods have no priority over them", name, value, classes.defaultValue, classes.defaultName)
		case !ctx.Inventory.Complete:
			// The class is the files', which need not be the cluster's: a class that does not
			// rank the pods above the default fails above, as a claim against the author.
			ctx.NotAssessed("", fmt.Sprintf("PriorityClass %q %s", name, priorityClassInFiles))
		default:
			ctx.Pass("")
		}
	},
}

// priorityClassInFiles says why a scan passes no workload on a PriorityClass of its files: only
// cluster administrators create PriorityClasses (cluster-scoped; no role a namespace's users hold
// in Kubernetes v1.37.2's bootstrap policy grants them), so a team cannot apply the copy its files
// ship, and its pods get the value of the cluster's class of that name. Until December 2026 a
// copy in the files with a high value passed the workload whatever the cluster's class was.
const priorityClassInFiles = "in the scanned input need not be the cluster's: only cluster administrators create PriorityClasses, and the pods get the value of the cluster's class of that name"

// systemPriorityClassPrefix starts the names the API server reserves for its own PriorityClasses
// (k8s.io/kubernetes v1.37 pkg/apis/scheduling, SystemPriorityClassPrefix): validation refuses
// any other class whose name starts with it.
const systemPriorityClassPrefix = "system-"

// systemPriorityClasses are the PriorityClasses the API server creates in every cluster, with
// the only values validation lets them have (pkg/apis/scheduling/v1 helpers.go).
var systemPriorityClasses = map[string]int32{
	"system-cluster-critical": 2000000000,
	"system-node-critical":    2000001000,
}

// priorityClasses is what the evaluation's PriorityClasses say: each class's value, and the
// priority of pods that name no class.
type priorityClasses struct {
	values map[string]int32
	// defaultName and defaultValue are the globalDefault class's, the one with the lowest value
	// when several are (the Priority admission plugin's choice, getDefaultPriorityClass); "" and
	// 0 without one.
	defaultName  string
	defaultValue int32
	// refused says, by name, why the API server refuses to create a class of the manifests
	// (refusedPriorityClass), which values leaves out.
	refused map[string]string
}

// priorityClassesOf indexes the evaluation's PriorityClasses once. A class written more than
// once is the last written, as applied.
func priorityClassesOf(inv *engine.Inventory) *priorityClasses {
	return inv.Memo(nil, "availability.priorityClasses", func() any {
		idx := &priorityClasses{values: map[string]int32{}, refused: map[string]string{}}
		isDefault := map[string]bool{}
		for _, o := range inv.ListKind("PriorityClass") {
			pc, ok := o.Obj.(*schedulingv1.PriorityClass)
			if !ok {
				continue
			}
			if why := refusedPriorityClass(inv, pc); why != "" {
				idx.refused[o.Name] = why
				delete(idx.values, o.Name)
				delete(isDefault, o.Name)
				continue
			}
			delete(idx.refused, o.Name)
			idx.values[o.Name] = pc.Value
			isDefault[o.Name] = pc.GlobalDefault
		}
		for name, d := range isDefault {
			if !d {
				continue
			}
			v := idx.values[name]
			if idx.defaultName == "" || v < idx.defaultValue || (v == idx.defaultValue && name < idx.defaultName) {
				idx.defaultName, idx.defaultValue = name, v
			}
		}
		return idx
	}).(*priorityClasses)
}

// highestUserDefinablePriority is the highest value of a class that is not a system class
// (k8s.io/kubernetes v1.37.2 pkg/apis/scheduling, HighestUserDefinablePriority).
const highestUserDefinablePriority = 1000000000

// refusedPriorityClass says why the API server refuses to create a PriorityClass manifest, or ""
// when it does not (ValidatePriorityClass, k8s.io/kubernetes v1.37.2 pkg/apis/scheduling/validation):
// its metadata (ValidateObjectMeta, a DNS subdomain name); a value above
// highestUserDefinablePriority; a preemptionPolicy other than PreemptLowerPriority and Never
// (ValidatePreemptionPolicy); a name with the system prefix but for a system class with its own
// value, not globalDefault (IsKnownSystemPriorityClass). Such a class never exists: it gives no pod its value, nor, as
// globalDefault, its value to the pods that name none. A class the operator reads exists.
func refusedPriorityClass(inv *engine.Inventory, pc *schedulingv1.PriorityClass) string {
	if inv.Complete {
		return ""
	}
	if why := refusedMeta(&pc.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain); why != "" {
		return why
	}
	if strings.HasPrefix(pc.Name, systemPriorityClassPrefix) {
		// IsKnownSystemPriorityClass (pkg/apis/scheduling/v1): one of the system classes, with
		// its value, and not the global default.
		if v, ok := systemPriorityClasses[pc.Name]; !ok || v != pc.Value || pc.GlobalDefault {
			return field.Forbidden(field.NewPath("metadata", "name"), "priority class names with '"+systemPriorityClassPrefix+"' prefix are reserved for system use only").Error()
		}
	} else if pc.Value > highestUserDefinablePriority {
		return field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %d", highestUserDefinablePriority)).Error()
	}
	if p := pc.PreemptionPolicy; p != nil {
		switch *p {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		case "":
			return field.Required(field.NewPath("preemptionPolicy"), "").Error()
		default:
			return field.NotSupported(field.NewPath("preemptionPolicy"), *p, []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}).Error()
		}
	}
	return ""
}

package checks

import (
	"fmt"
	"strconv"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// KEDA's ScaledObject (keda.sh/v1alpha1), the only version KEDA serves, as github.com/kedacore/keda/v2
// v2.20.2 defines and handles it (apis/keda/v1alpha1, controllers/keda,
// pkg/scaling/executor/scale_scaledobjects.go). A ScaledObject scales its target through a
// HorizontalPodAutoscaler KEDA creates and owns (controllers/keda/hpa.go): named keda-hpa-<name>
// unless spec.advanced.horizontalPodAutoscalerConfig.name names it, minReplicas the
// minReplicaCount when above 0 and 1 otherwise, maxReplicas the maxReplicaCount (100 when unset).
// KEDA itself moves the target between zero (or idleReplicaCount) and the autoscaler's range: while
// the triggers are idle it scales the target to idleReplicaCount when set, to 0 when
// minReplicaCount is 0 or unset, and raises one below minReplicaCount to it; once they are
// active it raises a target at 0 (or below minReplicaCount with idleReplicaCount set) to
// max(minReplicaCount, 1), and the autoscaler scales from there.
const (
	kedaGroup                    = "keda.sh"
	kedaScaledObjectKind         = "ScaledObject"
	kedaPausedAnnotation         = "autoscaling.keda.sh/paused"
	kedaPausedReplicasAnnotation = "autoscaling.keda.sh/paused-replicas"
	kedaDefaultMaxReplicas       = 100
)

// kedaScaledObjectSpec is what the checks read of a ScaledObject's spec.
type kedaScaledObjectSpec struct {
	ScaleTargetRef *struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Name       string `json:"name"`
	} `json:"scaleTargetRef"`
	IdleReplicaCount *int32 `json:"idleReplicaCount"`
	MinReplicaCount  *int32 `json:"minReplicaCount"`
	MaxReplicaCount  *int32 `json:"maxReplicaCount"`
	Advanced         *struct {
		HorizontalPodAutoscalerConfig *struct {
			Name string `json:"name"`
		} `json:"horizontalPodAutoscalerConfig"`
	} `json:"advanced"`
	Triggers []struct {
		Type             string         `json:"type"`
		Name             string         `json:"name"`
		Metadata         map[string]any `json:"metadata"`
		UseCachedMetrics bool           `json:"useCachedMetrics"`
	} `json:"triggers"`
}

// scaledObject is a ScaledObject KEDA acts on (not refused), read.
type scaledObject struct {
	obj    *engine.Object
	target workloadRef
	// hpa is the HorizontalPodAutoscaler KEDA creates for it; nil while it is paused (KEDA
	// deletes the autoscaler of a paused ScaledObject).
	hpa *autoscalingv2.HorizontalPodAutoscaler
	// floor is the fewest replicas KEDA leaves the target at, and why.
	floor    int32
	floorWhy string
}

// kedaScaling is what the ScaledObjects of an evaluation that KEDA acts on do: each, in the
// order read, and by the workload each scales.
type kedaScaling struct {
	list     []*scaledObject
	byTarget map[workloadRef][]*scaledObject
}

// scaledObjects reads the ScaledObjects of the evaluation that KEDA acts on, once per evaluation.
func scaledObjects(inv *engine.Inventory) *kedaScaling {
	return inv.Memo(nil, "availability.scaledObjects", func() any {
		k := &kedaScaling{byTarget: map[workloadRef][]*scaledObject{}}
		for _, o := range inv.ListKind(kedaScaledObjectKind) {
			if so := readScaledObject(inv, o); so != nil {
				k.list = append(k.list, so)
				k.byTarget[so.target] = append(k.byTarget[so.target], so)
			}
		}
		return k
	}).(*kedaScaling)
}

// kedaAutoscalers are the HorizontalPodAutoscalers the ScaledObjects of a scan make KEDA create,
// in the order read, each with its ScaledObject. In the operator's view the autoscaler KEDA
// created is itself in the cluster, and read: one that exists is the evidence that KEDA acts,
// which a ScaledObject alone is not (its CRD may be installed without KEDA running), and none is
// made up.
func kedaAutoscalers(inv *engine.Inventory) []*scaledObject {
	if inv.Complete {
		return nil
	}
	var out []*scaledObject
	for _, so := range scaledObjects(inv).list {
		if so.hpa != nil {
			out = append(out, so)
		}
	}
	return out
}

// kedaScaledObjectOf returns the ScaledObject that has KEDA scale an autoscaler's target, or nil:
// in a scan, the one whose autoscaler kedaAutoscalers made up; in the operator's view, the
// ScaledObject read that the autoscaler names as its controller (by name, and by UID when the
// reference gives one) and that scales the autoscaler's own target. KEDA raises that target from
// zero into the autoscaler's range once a trigger is active, which the HPA controller, disabled
// at zero replicas (ScalingDisabled), does not.
func kedaScaledObjectOf(inv *engine.Inventory, h *autoscalingv2.HorizontalPodAutoscaler) *engine.Object {
	if !inv.Complete {
		for _, so := range kedaAutoscalers(inv) {
			if so.hpa == h {
				return so.obj
			}
		}
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(h)
	if ref == nil || ref.Kind != kedaScaledObjectKind || apiGroup(ref.APIVersion) != kedaGroup {
		return nil
	}
	t := h.Spec.ScaleTargetRef
	target := workloadRef{h.Namespace, apiGroup(t.APIVersion), t.Kind, t.Name}
	for _, so := range scaledObjects(inv).byTarget[target] {
		if so.hpa != nil && so.obj.Name == ref.Name && (ref.UID == "" || ref.UID == so.obj.Obj.GetUID()) {
			return so.obj
		}
	}
	return nil
}

// readScaledObject reads a ScaledObject KEDA acts on, or returns nil when it does not: in a scan, the API
// server refuses its manifest (an apiVersion other than keda.sh/v1alpha1, metadata, the CRD's
// schema: no scaleTargetRef.name, no trigger, a trigger without a type or metadata, a negative
// minReplicaCount or idleReplicaCount, a maxReplicaCount below 1, a minReplicaCount above the
// maxReplicaCount); or KEDA's controller refuses it and creates no autoscaler
// (CheckReplicaCountBoundsAreValid: an idleReplicaCount not below the minReplicaCount, counted
// as 0 when unset; ValidateTriggers: two triggers of one name, useCachedMetrics on a cpu, memory
// or cron trigger), or it names no scalable target KEDA can resolve (an apiVersion that does not
// parse).
func readScaledObject(inv *engine.Inventory, o *engine.Object) *scaledObject {
	// KEDA serves ScaledObjects at keda.sh/v1alpha1 only.
	if o.Kind != kedaScaledObjectKind || o.APIVersion != kedaGroup+"/v1alpha1" || refusedCustomResource(inv, o, true) != "" {
		return nil
	}
	var spec kedaScaledObjectSpec
	if !readSpec(o, &spec) {
		return nil // its spec does not match the ScaledObject schema
	}
	ref := spec.ScaleTargetRef
	maxReplicas := int32(kedaDefaultMaxReplicas)
	if spec.MaxReplicaCount != nil {
		maxReplicas = *spec.MaxReplicaCount
	}
	switch {
	case ref == nil || ref.Name == "", // scaleTargetRef.name is required
		len(spec.Triggers) == 0, // at least one trigger
		spec.MinReplicaCount != nil && *spec.MinReplicaCount < 0,
		spec.IdleReplicaCount != nil && *spec.IdleReplicaCount < 0,
		maxReplicas < 1,
		spec.MinReplicaCount != nil && *spec.MinReplicaCount > maxReplicas:
		return nil
	}
	names := map[string]bool{}
	for _, t := range spec.Triggers {
		switch {
		case t.Type == "" || t.Metadata == nil, // a trigger needs a type and metadata
			t.UseCachedMetrics && (t.Type == "cpu" || t.Type == "memory" || t.Type == "cron"),
			t.Name != "" && names[t.Name]: // a trigger name used twice
			return nil
		}
		names[t.Name] = t.Name != ""
	}
	// The autoscaler's minReplicas: minReplicaCount above 0, else 1 (GetHPAMinReplicas).
	hpaMin := int32(1)
	if spec.MinReplicaCount != nil && *spec.MinReplicaCount > 0 {
		hpaMin = *spec.MinReplicaCount
	}
	// CheckReplicaCountBoundsAreValid counts the minimum as 0 when minReplicaCount is unset.
	boundsMin := int32(0)
	if spec.MinReplicaCount != nil {
		boundsMin = hpaMin
	}
	if spec.IdleReplicaCount != nil && *spec.IdleReplicaCount >= boundsMin {
		return nil
	}
	apiVersion, kind := ref.APIVersion, ref.Kind
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	if kind == "" {
		kind = "Deployment"
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil // scaleTargetRef.apiVersion does not parse
	}
	so := &scaledObject{obj: o, target: workloadRef{o.Namespace, gv.Group, kind, ref.Name}}
	switch {
	case spec.IdleReplicaCount != nil:
		so.floor, so.floorWhy = *spec.IdleReplicaCount, fmt.Sprintf("when its triggers are idle (idleReplicaCount %d)", *spec.IdleReplicaCount)
	case spec.MinReplicaCount == nil || *spec.MinReplicaCount == 0:
		so.floor, so.floorWhy = 0, "when its triggers are idle (minReplicaCount 0, KEDA's default)"
	default:
		so.floor = *spec.MinReplicaCount
	}
	annotations := o.Annotations()
	if v, ok := annotations[kedaPausedReplicasAnnotation]; ok {
		// KEDA deletes the autoscaler and holds the target at the count (handlePause); a
		// value that is no count stops the scaling all the same.
		if n, err := strconv.ParseInt(v, 10, 32); err == nil && n >= 0 {
			so.floor, so.floorWhy = int32(n), fmt.Sprintf("while it is paused (%s %q)", kedaPausedReplicasAnnotation, v)
		} else {
			so.floor, so.floorWhy = -1, ""
		}
		return so
	}
	if v, ok := annotations[kedaPausedAnnotation]; ok && kedaTrue(v) {
		// Paused: no autoscaler, and the target keeps the replicas it has.
		so.floor, so.floorWhy = -1, ""
		return so
	}
	hpaName := "keda-hpa-" + o.Name
	if a := spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
		hpaName = a.HorizontalPodAutoscalerConfig.Name
	}
	controller := true
	so.hpa = &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: hpaName, Namespace: o.Namespace, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.Obj.GetUID(), Controller: &controller,
		}}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: gv.String(), Kind: kind, Name: ref.Name},
			MinReplicas:    &hpaMin,
			MaxReplicas:    maxReplicas,
		},
	}
	return so
}

// scaledObjectFloor returns the ScaledObject that leaves a workload at the fewest replicas,
// that count and why, when KEDA scales it below its autoscaler's minReplicas (to zero or its
// idleReplicaCount while the triggers are idle, or to a paused count); ok is false otherwise.
// It only ever lowers what the workload is judged at: a ScaledObject in the cluster whose
// autoscaler does not exist is no evidence that KEDA raises anything.
func scaledObjectFloor(inv *engine.Inventory, o *engine.Object) (so *scaledObject, ok bool) {
	for _, s := range scaledObjects(inv).byTarget[workloadRef{o.Namespace, apiGroup(o.APIVersion), o.Kind, o.Name}] {
		if s.floorWhy == "" || s.floor < 0 {
			continue
		}
		if so == nil || s.floor < so.floor {
			so = s
		}
	}
	return so, so != nil
}

// kedaTrue reads a boolean annotation's value as KEDA v2.20.2 does (apis/keda/v1alpha1
// getBoolAnnotation): strconv.ParseBool's answer, and true for a value that is not a boolean
// ("yes", "on", ""), so autoscaling.keda.sh/paused: "yes" pauses the ScaledObject.
func kedaTrue(v string) bool {
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// UnstructuredReadsAnnotation reports whether a built-in check reads the annotation key of an
// object of a kind the operator reads unstructured (an add-on's): KEDA's pause annotations of a
// ScaledObject (avl-replicas), the name of the resource a Trivy Operator report is of, and the
// pod's claim a generated ResourceClaim was made for (wl-device-admin-access names it). The
// operator's cache keeps them whole when it trims the others (inventory.TrimAnnotations).
func UnstructuredReadsAnnotation(key string) bool {
	return key == kedaPausedAnnotation || key == kedaPausedReplicasAnnotation || key == trivyLabelResourceName ||
		key == podClaimAnnotation
}

package engine

import (
	"encoding/json"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// AppliedEnv is the environment a container of a workload's pod template had in the manifest
// kubectl apply last applied (kubectl's last-applied-configuration annotation), where it holds
// literal values the live container does not.
type AppliedEnv struct {
	// Container is the container's name, and Live whether the live pod template has a
	// container of that name (kubectl edit may have taken the container out).
	Container string
	Live      bool
	// Env is the container's env as the annotation holds it, every entry, and Removed the
	// indexes in Env of the entries with a literal value that the live container does not hold
	// under that name (kubectl edit, kubectl set env or a patch took them out or changed them).
	Env     []corev1.EnvVar
	Removed []int
}

// appliedContainer is what RemovedEnv decodes of a container of the annotation.
type appliedContainer struct {
	Name string          `json:"name"`
	Env  []corev1.EnvVar `json:"env"`
}

type appliedPodSpec struct {
	Containers     []appliedContainer `json:"containers"`
	InitContainers []appliedContainer `json:"initContainers"`
}

type appliedTemplate struct {
	Spec appliedPodSpec `json:"spec"`
}

// RemovedEnv lists, for each container (and init container) of the pod template that the
// last-applied-configuration annotation of the workload obj holds, the literal env values the
// live pod template's container of that name does not hold: the annotation is text of the
// object, readable by whoever can get it, so a credential kubectl edit or kubectl set env took
// out of the spec is still there until the next kubectl apply. nil when obj is no workload,
// has no such annotation, or the annotation holds nothing the live spec does not. Only the
// containers' names and env are decoded.
func RemovedEnv(obj KubeObject) []AppliedEnv {
	raw := obj.GetAnnotations()[corev1.LastAppliedConfigAnnotation]
	if raw == "" {
		return nil
	}
	w := workloadOf(obj)
	if w == nil {
		return nil
	}
	var spec appliedPodSpec
	switch obj.(type) {
	case *corev1.Pod:
		var pod struct {
			Spec appliedPodSpec `json:"spec"`
		}
		if json.Unmarshal([]byte(raw), &pod) != nil {
			return nil
		}
		spec = pod.Spec
	case *batchv1.CronJob:
		var cronJob struct {
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template appliedTemplate `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		if json.Unmarshal([]byte(raw), &cronJob) != nil {
			return nil
		}
		spec = cronJob.Spec.JobTemplate.Spec.Template.Spec
	default:
		var applied struct {
			Spec struct {
				Template appliedTemplate `json:"template"`
			} `json:"spec"`
		}
		if json.Unmarshal([]byte(raw), &applied) != nil {
			return nil
		}
		spec = applied.Spec.Template.Spec
	}
	// The live containers' literal entries, as name and value: a set, so that containers of
	// thousands of entries are not compared entry by entry.
	type entry struct{ container, name, value string }
	live := map[string]bool{}
	held := map[entry]bool{}
	for _, c := range slices.Concat(w.PodSpec.InitContainers, w.PodSpec.Containers) {
		live[c.Name] = true
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				held[entry{c.Name, e.Name, e.Value}] = true
			}
		}
	}
	var out []AppliedEnv
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		a := AppliedEnv{Container: c.Name, Live: live[c.Name], Env: c.Env}
		for i, e := range c.Env {
			if e.Value != "" && e.ValueFrom == nil && !held[entry{c.Name, e.Name, e.Value}] {
				a.Removed = append(a.Removed, i)
			}
		}
		if len(a.Removed) > 0 {
			out = append(out, a)
		}
	}
	return out
}

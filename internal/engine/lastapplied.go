package engine

import (
	"encoding/json"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// AppliedContainer is what a container of a workload's pod template had in the manifest
// kubectl apply last applied (kubectl's last-applied-configuration annotation), where that
// holds literal env values or a command line the live container does not.
type AppliedContainer struct {
	// Container is the container's name, and Live whether the live pod template has a
	// container of that name (kubectl edit may have taken the container out).
	Container string
	Live      bool
	// Env is the container's env as the annotation holds it, every entry, and Removed the
	// indexes in Env of the entries with a literal value that the live container does not hold
	// under that name (kubectl edit, kubectl set env or a patch took them out or changed them).
	Env     []corev1.EnvVar
	Removed []int
	// Command and Args are the container's command and args as the annotation holds them, and
	// ArgvChanged whether they are not the live container's (kubectl edit or a patch changed
	// them, or took the container out): the annotation still holds what they were.
	Command, Args []string
	ArgvChanged   bool
}

// appliedContainer is what StaleApplied decodes of a container of the annotation.
type appliedContainer struct {
	Name    string          `json:"name"`
	Env     []corev1.EnvVar `json:"env"`
	Command []string        `json:"command"`
	Args    []string        `json:"args"`
}

type appliedPodSpec struct {
	Containers     []appliedContainer `json:"containers"`
	InitContainers []appliedContainer `json:"initContainers"`
}

type appliedTemplate struct {
	Spec appliedPodSpec `json:"spec"`
}

// StaleApplied lists, for each container (and init container) of the pod template that the
// last-applied-configuration annotation of the workload obj holds, the literal env values the
// live pod template's container of that name does not hold, and its command and args where
// they are not the live container's: the annotation is text of the object, readable by
// whoever can get it, so a credential kubectl edit, kubectl set env or a patch took out of the
// spec is still there until the next kubectl apply. nil when obj is no workload, has no such
// annotation, or the annotation holds nothing the live spec does not. Only the containers'
// names, env, command and args are decoded.
func StaleApplied(obj KubeObject) []AppliedContainer {
	return StaleAppliedThrough(obj, nil)
}

// StaleAppliedThrough is StaleApplied for a workload whose env values the operator's informer
// cache may have replaced by stand-ins (checks.ReduceEnvValues; standIns is its Digest, nil
// when none): a value of the annotation is held by the live container when the entry of that
// name holds it or its stand-in, so the cache reduces a workload whose annotation is stale as
// any other (a tenant kept 1.25 MiB of its env values whole by leaving in the annotation one
// entry the spec does not hold) and the check lists what it lists of the whole workload.
func StaleAppliedThrough(obj KubeObject, standIns EnvStandIns) []AppliedContainer {
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
	live := map[string]*corev1.Container{}
	held := map[entry]bool{}
	for _, cs := range [][]corev1.Container{w.PodSpec.InitContainers, w.PodSpec.Containers} {
		for i := range cs {
			c := &cs[i]
			live[c.Name] = c
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					held[entry{c.Name, e.Name, e.Value}] = true
				}
			}
		}
	}
	var out []AppliedContainer
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		l := live[c.Name]
		a := AppliedContainer{Container: c.Name, Live: l != nil, Env: c.Env, Command: c.Command, Args: c.Args}
		for i, e := range c.Env {
			if e.Value != "" && e.ValueFrom == nil && !held[entry{c.Name, e.Name, e.Value}] &&
				(standIns == nil || !held[entry{c.Name, e.Name, standIns.EnvStandIn(e.Value)}]) {
				a.Removed = append(a.Removed, i)
			}
		}
		if len(c.Command)+len(c.Args) > 0 {
			a.ArgvChanged = l == nil || !slices.Equal(c.Command, l.Command) || !slices.Equal(c.Args, l.Args)
		}
		if len(a.Removed) > 0 || a.ArgvChanged {
			out = append(out, a)
		}
	}
	return out
}

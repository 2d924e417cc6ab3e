package checks

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/intern"
)

// sharedFrom is the length from which the operator's cache shares the bytes of equal command
// lines and env values among the workloads it holds (ShareCommandLines): an entry of the table
// costs some 40 to 60 bytes (a map slot and the runtime's weak handle), which a tenant's text
// written anew in each object adds to what it takes, at most 6% from here.
const sharedFrom = 1 << 10

var sharedText = intern.New(sharedFrom)

// ShareCommandLines has obj, a workload of the operator's informer cache, hold each string of
// sharedFrom bytes or more of its containers' command lines (command, args, and its probes'
// and lifecycle hooks' exec commands) and literal env values as the bytes of an equal string
// another object of the cache holds, if any: the cache keeps the text of a Deployment, its
// ReplicaSets and their Pods once, not once for each (a tenant's 500 KiB of args took 500 KiB
// of the operator's heap in each). Nothing reads other text than before: every string is equal
// to the one it replaces. It bounds nothing a tenant writes anew in each object.
func ShareCommandLines(obj metav1.Object) {
	spec := podSpecOf(obj)
	if spec == nil {
		return
	}
	share := func(list []string) {
		for i := range list {
			list[i] = sharedText.Of(list[i])
		}
	}
	for _, c := range podContainers(spec) {
		share(c.Command)
		share(c.Args)
		for i := range c.Env {
			if c.Env[i].ValueFrom == nil {
				c.Env[i].Value = sharedText.Of(c.Env[i].Value)
			}
		}
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil && p.Exec != nil {
				share(p.Exec.Command)
			}
		}
		if l := c.Lifecycle; l != nil {
			for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
				if h != nil && h.Exec != nil {
					share(h.Exec.Command)
				}
			}
		}
	}
}

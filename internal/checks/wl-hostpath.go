package checks

import (
	"fmt"
	"path"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// sensitiveHostPaths are host directories whose exposure hands over the node.
var sensitiveHostPaths = []string{"/", "/etc", "/root", "/home", "/proc", "/sys", "/dev", "/boot",
	"/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/etc/kubernetes", "/var/log"}

var wlHostPath = &engine.Check{
	ID:    "wl-hostpath",
	Title: "Pods do not mount host directories",
	Description: "A hostPath volume exposes the node's filesystem to the pod; written to, or pointing " +
		"at kubelet, runtime or /etc paths, it hands over the node (CC6.1)." + supporting,
	Remediation: "Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		var found []string
		for _, v := range o.Workload.PodSpec.Volumes {
			if v.HostPath == nil {
				continue
			}
			desc := fmt.Sprintf("%q (%s)", v.HostPath.Path, v.Name)
			if isSensitiveHostPath(v.HostPath.Path) {
				desc += ", a sensitive host path"
			}
			if writable := hostPathWritable(o, v.Name); writable {
				desc += ", mounted writable"
			}
			found = append(found, desc)
		}
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "mounts host path %s", few(found, "; "))
	},
}

func isSensitiveHostPath(p string) bool {
	p = path.Clean(p)
	for _, s := range sensitiveHostPaths {
		if p == s || (s != "/" && strings.HasPrefix(p, s+"/")) {
			return true
		}
	}
	return false
}

func hostPathWritable(o *engine.Object, volume string) bool {
	for _, c := range o.Workload.Containers() {
		for _, m := range c.VolumeMounts {
			if m.Name == volume && !m.ReadOnly {
				return true
			}
		}
	}
	return false
}

package checks

import (
	"path"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// runtimeSockets are the container runtime endpoints: whoever reaches one controls every
// container on the node. A socket under /run is reached as well under /var/run, a symlink to
// /run on the node that the kubelet resolves there (runtimeSocketSpellings). Besides the CRI
// runtimes' own: the containerd that dockerd starts when no system containerd runs (moby
// libcontainerd/supervisor, in the exec root /var/run/docker), Bottlerocket's host containerd
// (its admin and control containers), Podman's root API socket, and the former dockershim's
// CRI socket, which Bottlerocket's containerd also served.
var runtimeSockets = []string{
	"/run/docker.sock", "/run/containerd/containerd.sock", "/run/crio/crio.sock",
	"/run/cri-dockerd.sock", "/run/k3s/containerd/containerd.sock", "/run/k0s/containerd.sock",
	"/var/snap/microk8s/common/run/containerd.sock", "/run/docker/containerd/containerd.sock",
	"/run/host-containerd/containerd.sock", "/run/podman/podman.sock", "/run/dockershim.sock",
}

// runtimeSocketSpellings are the runtime sockets, those under /run also under /var/run.
var runtimeSocketSpellings = func() []string {
	var out []string
	for _, s := range runtimeSockets {
		if strings.HasPrefix(s, "/run/") {
			out = append(out, "/var"+s)
		}
		out = append(out, s)
	}
	return out
}()

// runtimePipes are the runtimes' named pipes on Windows nodes, where a hostPath can mount a
// named pipe: Docker's and containerd's.
var runtimePipes = []string{`\\.\pipe\docker_engine`, `\\.\pipe\containerd-containerd`}

// runtimePipe is the runtime's named pipe a Windows host path names, spelled with either
// slash and in any case (Windows paths are not case-sensitive); "" when it names none.
func runtimePipe(hostPath string) string {
	p := strings.TrimRight(strings.ReplaceAll(hostPath, "/", `\`), `\`)
	for _, pipe := range runtimePipes {
		if strings.EqualFold(p, pipe) {
			return pipe
		}
	}
	return ""
}

var wlRuntimeSocket = &engine.Check{
	ID:    "wl-runtime-socket",
	Title: "Pods do not mount the container runtime socket",
	Description: "The Docker, containerd, CRI-O or Podman socket (on Windows nodes, named pipe) lets a pod start " +
		"privileged containers on the node and read every other container: full node takeover " +
		"(CC6.1) and a path for malicious software (CC6.8)." + supporting,
	Remediation: "Remove the hostPath volume that mounts the runtime socket (or its directory).",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		for _, v := range o.Workload.PodSpec.Volumes {
			if v.HostPath == nil {
				continue
			}
			if pipe := runtimePipe(v.HostPath.Path); pipe != "" {
				ctx.Fail("", "volume %q mounts the container runtime's named pipe %s", v.Name, pipe)
				return
			}
			p := path.Clean(v.HostPath.Path)
			if p == "/" {
				ctx.Fail("", "volume %q mounts the host's root directory, which holds the container runtime socket", v.Name)
				return
			}
			for _, s := range runtimeSocketSpellings {
				if p == s || strings.HasPrefix(s, p+"/") {
					ctx.Fail("", "volume %q mounts the container runtime socket %s", v.Name, s)
					return
				}
			}
		}
		ctx.Pass("")
	},
}

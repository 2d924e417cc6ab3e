package checks

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// runtimeSockets are the container runtime endpoints: whoever reaches one controls every
// container on the node. A socket under /run is reached as well under /var/run, a symlink to
// /run on the node that the kubelet resolves there (runtimeSocketSpellings). Besides the CRI
// runtimes' own: the containerd that dockerd starts when no system containerd runs (moby
// libcontainerd/supervisor, in the exec root /var/run/docker), Bottlerocket's host containerd
// (its admin and control containers), Talos' system containerd (its own services: apid, trustd,
// etcd), Podman's root API socket, the former dockershim's CRI socket, which Bottlerocket's
// containerd also served, and the NRI socket (containerd 2 serves it by default, CRI-O when NRI is
// on), through which an external plugin adjusts every container the runtime creates (mounts,
// devices, OCI hooks run as root on the node).
var runtimeSockets = []string{
	"/run/docker.sock", "/run/containerd/containerd.sock", "/run/crio/crio.sock",
	"/run/cri-dockerd.sock", "/run/k3s/containerd/containerd.sock", "/run/k0s/containerd.sock",
	"/var/snap/microk8s/common/run/containerd.sock", "/run/docker/containerd/containerd.sock",
	"/run/host-containerd/containerd.sock", "/system/run/containerd/containerd.sock",
	"/run/podman/podman.sock", "/run/dockershim.sock", "/run/nri/nri.sock",
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

// runtimeSocketDirs are directories in which a runtime keeps a socket per container or pod:
// containerd's shims listen in /run/containerd/s whatever containerd's own state directory (a
// constant, defaults.DefaultStateDir, in containerd's pkg/shim; moved there from abstract sockets
// for CVE-2020-15257, which a host-network container reached), and each shim's task API creates
// and execs processes, with any capabilities, in the containers of its pod. A host path that is
// such a directory, lies in it or holds it reaches them.
var runtimeSocketDirs = []string{"/run/containerd/s"}

// runtimeSocketDirSpellings are the runtime socket directories, also under /var/run.
var runtimeSocketDirSpellings = func() []string {
	var out []string
	for _, d := range runtimeSocketDirs {
		out = append(out, "/var"+d, d)
	}
	return out
}()

// runtimePipes are the runtimes' named pipes on Windows nodes, where a hostPath can mount a
// named pipe: Docker's, containerd's and cri-dockerd's CRI endpoint (kubeadm's CRISocketDocker on
// Windows; its Linux socket is /run/cri-dockerd.sock).
var runtimePipes = []string{`\\.\pipe\docker_engine`, `\\.\pipe\containerd-containerd`, `\\.\pipe\cri-dockerd`}

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
		"privileged containers on the node and read every other container, and the runtime's NRI socket " +
		"lets it add mounts, devices and hooks that run as root to every container the runtime creates, as containerd's " +
		"shim sockets (/run/containerd/s) let it run processes with any capabilities in other pods' containers: full node takeover " +
		"(CC6.1) and a path for malicious software (CC6.8). The socket counts however the host path " +
		"reaches it: through a directory above it, /var/run, or a process's root directory under " +
		"/proc (the runtime resolves symbolic links in the host path on the node), and a relative path counts from /, " +
		"from which the runtime resolves it (proc/1/root is the node's root directory). A claim bound to a hostPath or local " +
		"PersistentVolume at such a path mounts it too; a claim whose volume a scan does not show is left to wl-hostpath-pv. " +
		"A Windows HostProcess container runs as a process of the node, where the runtime's named pipes are, and fails " +
		"without mounting them, as a pod that mounts the host's root directory does." + supporting,
	Remediation: "Remove the hostPath volume that mounts the runtime socket (or its directory); on Windows, remove windowsOptions.hostProcess.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc68},
	Targets:     workload,
	Reads:       []string{"PersistentVolumeClaim", "PersistentVolume"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if name := o.Workload.Pod().HostProcess; name != "" {
			// A HostProcess container runs as a process of the node, in its object namespace and
			// filesystem (KEP-1981): the runtime's named pipe is there for it as for any process of
			// its user, as the socket is for a Linux pod that mounts /.
			ctx.Fail("", "%s sets windowsOptions.hostProcess: true: its containers run as Windows HostProcess containers, processes "+
				"of the node, which reach the container runtime's named pipes (%s) without mounting them", name, strings.Join(runtimePipes, ", "))
			return
		}
		for _, v := range o.Workload.Pod().HostPaths {
			if what := runtimeSocketReached(v.Path); what != "" {
				ctx.Fail("", "volume %q mounts %s", v.Volume, what)
				return
			}
		}
		// A claim bound to a hostPath or local PersistentVolume mounts its node path as a
		// hostPath volume would. Claims whose volume a scan cannot see are wl-hostpath-pv's
		// (NotAssessed there).
		found, _, _ := hostVolumesClaimed(ctx.Inventory, o, func(what, name, typ, p string, vol *corev1.PersistentVolume) (string, string) {
			if blockDevice(vol) {
				return "", ""
			}
			if reached := runtimeSocketReached(p); reached != "" {
				return fmt.Sprintf("%s is on PersistentVolume %q, a %s volume at %q, which mounts %s", what, name, typ, p, reached), ""
			}
			return "", ""
		})
		if len(found) > 0 {
			ctx.Fail("", "%s", few(found, "; "))
			return
		}
		ctx.Pass("")
	},
}

// runtimeSocketReached names the container runtime socket (or named pipe) a host path reaches,
// as "the container runtime socket /run/docker.sock", or "" when it reaches none: the socket
// itself or a directory above it, a socket in a runtime socket directory (runtimeSocketDirs),
// spelled under /run or /var/run, or through a process's root directory under /proc, and a
// relative path from / (nodePath). wl-hostpath-pv counts such a path as sensitive.
func runtimeSocketReached(hostPath string) string {
	if pipe := runtimePipe(hostPath); pipe != "" {
		return "the container runtime's named pipe " + pipe
	}
	p := nodePath(hostPath) // a relative path from /, as containerd resolves it
	for q := throughProcRoot(p); q != p; q = throughProcRoot(p) {
		p = q // /proc/1/root/proc/1/root/... resolves again
	}
	if p == "/" {
		return "the host's root directory, which holds the container runtime socket"
	}
	for _, s := range runtimeSocketSpellings {
		if p == s || strings.HasPrefix(s, p+"/") {
			return "the container runtime socket " + s
		}
	}
	for i, d := range runtimeSocketDirSpellings {
		if p == d || strings.HasPrefix(p, d+"/") || strings.HasPrefix(d, p+"/") {
			return "the containerd shims' sockets " + runtimeSocketDirs[i/2]
		}
	}
	return ""
}

// throughProcRoot returns the host path a cleaned host path names when it goes through a
// process's root directory (/proc/<pid>/root, /proc/self/root, /proc/<pid>/task/<tid>/root) or
// the working directory of PID 1 or of the runtime itself (/proc/1/cwd, /proc/self/cwd): the
// container runtime resolves symbolic links in a host path before it bind-mounts it (containerd's
// CRI WithMounts calls ResolveSymbolicLink), in the node's mount namespace, where those are the
// host's root directory. Any other path is returned as it is.
func throughProcRoot(p string) string {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return p
	}
	parts := strings.SplitN(rest, "/", 3) // process, root or cwd or task, rest
	if len(parts) < 2 || !isProcessDir(parts[0]) {
		return p
	}
	link, tail := parts[1], ""
	if len(parts) == 3 {
		tail = parts[2]
	}
	if link == "task" {
		// /proc/<pid>/task/<tid>/root
		t := strings.SplitN(tail, "/", 3)
		if len(t) < 2 || !isProcessDir(t[0]) || t[1] != "root" {
			return p
		}
		link, tail = "root", ""
		if len(t) == 3 {
			tail = t[2]
		}
	}
	switch {
	case link == "root":
	case link == "cwd" && (parts[0] == "1" || parts[0] == "self" || parts[0] == "thread-self"):
	default:
		return p
	}
	return path.Clean("/" + tail)
}

// isProcessDir reports whether a /proc entry names a process: a PID, self or thread-self.
func isProcessDir(s string) bool {
	if s == "self" || s == "thread-self" {
		return true
	}
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

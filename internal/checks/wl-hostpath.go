package checks

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// sensitiveHostPaths are host directories whose exposure hands over the node. /run (and /var/run,
// a symlink to it on the node) holds the container runtime's sockets, systemd's private socket
// and the system D-Bus socket, each of which runs anything as root on the node. /usr, /bin, /sbin,
// /lib and /lib64 hold the programs and libraries the kubelet, the runtime and systemd run as root
// (the kubelet's FlexVolume drivers in /usr/libexec/kubernetes too), and /opt/cni the CNI plugins
// the runtime runs as root for every pod (/opt/cni/bin, containerd's and CRI-O's default).
// /var/lib/etcd is etcd's data directory on a control-plane node (kubeadm's DefaultEtcdDataDir),
// every Secret of the cluster; /var/lib/rancher (K3s' and RKE2's data-dir), /var/lib/k0s and
// /var/snap/microk8s hold those distributions' join tokens, the cluster CA's private keys and
// their datastores.
var sensitiveHostPaths = []string{"/", "/etc", "/root", "/home", "/proc", "/sys", "/dev", "/boot",
	"/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/etc/kubernetes", "/var/log",
	"/run", "/var/run", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/opt/cni",
	"/var/lib/etcd", "/var/lib/rancher", "/var/lib/k0s", "/var/snap/microk8s"}

var wlHostPath = &engine.Check{
	ID:    "wl-hostpath",
	Title: "Pods do not mount host directories",
	Description: "A hostPath volume exposes the node's filesystem to the pod; written to, or pointing " +
		"at kubelet, runtime or /etc paths, it hands over the node (CC6.1). A Windows HostProcess " +
		"container runs as a process of the node, with no filesystem isolation: it has the node's " +
		"filesystem without a hostPath volume, and fails here too (and wl-windows-hostprocess). " +
		"Pod Security Standards controls: HostPath Volumes and HostProcess (baseline)." + pssDecided + supporting,
	Remediation: "Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume (on Windows, remove windowsOptions.hostProcess).",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostPath)
	},
}

// pssHostPath decides wl-hostpath: the Pod Security Standards controls HostPath Volumes and
// HostProcess (baseline). A HostProcess container runs as a process of the node with no
// filesystem isolation (KEP-1981; Kubernetes' "Create a Windows HostProcess Pod": the container's
// image is only mounted at %CONTAINER_SANDBOX_MOUNT_POINT%, and the process reads and writes the
// node's drives as its user may): judged by its volumes alone, a HostProcess pod, which has the
// node's filesystem without asking for any of it, passed while a Linux pod mounting / fails.
var pssHostPath = &pssControl{checks: []policy.CheckID{"hostPathVolumes", "windowsHostProcess"}, podLevel: true, detail: hostPathDetail}

// hostPathDetail names the host paths that are sensitive or mounted writable.
func hostPathDetail(o *engine.Object) string {
	var found []string
	var writable map[string]bool
	for _, v := range o.Workload.PodSpec.Volumes {
		if v.HostPath == nil {
			continue
		}
		if writable == nil {
			writable = writableVolumes(o)
		}
		var why []string
		if isSensitiveHostPathVolume(v.HostPath.Path) {
			why = append(why, "a sensitive host path")
		}
		if writable[v.Name] {
			why = append(why, "mounted writable")
		}
		if len(why) > 0 {
			found = append(found, fmt.Sprintf("%q (%s) is %s", v.HostPath.Path, v.Name, strings.Join(why, ", ")))
		}
	}
	return few(found, "; ")
}

// windowsSensitiveHostPaths are the directories of a Windows node's system drive whose exposure
// hands over the node, spelled as windowsSystemDrivePath spells them: the system's programs,
// those of the runtime and the kubelet (containerd in Program Files, C:\k where AKS and the
// Windows kubeadm scripts keep the kubelet, its configuration and kubeconfig), and the runtimes'
// state and configuration in ProgramData.
var windowsSensitiveHostPaths = []string{"/windows", "/program files", "/program files (x86)", "/programdata", "/k"}

// isSensitiveHostPath reports whether a host path is a sensitive one, lies under one, or holds
// one (/var holds /var/lib/kubelet and /var/log, and exposes them as much as they are exposed
// themselves), or reaches a container runtime socket or named pipe wherever the runtime keeps it
// (runtimeSocketReached: MicroK8s' under /var/snap, Talos' under /system, Docker's pipe). A path
// on a Windows node's system drive is judged as the path the kubelet maps there (C:\var\lib\kubelet
// is /var/lib/kubelet, C:\ is /), in any case, and against windowsSensitiveHostPaths too. A
// relative path is judged from /, as the node resolves it (nodePath).
func isSensitiveHostPath(p string) bool {
	if runtimeSocketReached(p) != "" {
		return true
	}
	if q, ok := windowsSystemDrivePath(p); ok {
		return windowsSensitive(q)
	}
	if sensitiveIn(nodePath(p), sensitiveHostPaths) {
		return true
	}
	// A path without a drive is on a Windows node's system drive: the kubelet writes c: before a
	// rooted one (k8s v1.37.2 pkg/kubelet makeMounts and pkg/volume/local: IsWindowsLocalPath,
	// MakeAbsolutePath) and c:\ before a relative one (MakeAbsolutePath). Which OS a
	// PersistentVolume's node runs the volume does not show, so such a path is judged both ways.
	if !strings.HasPrefix(p, `\\`) { // a UNC path, which the kubelet passes as it is
		if q, ok := windowsSystemDrivePath(`c:\` + p); ok {
			return windowsSensitive(q)
		}
	}
	return false
}

// isSensitiveHostPathVolume reports whether a hostPath volume's path (a pod's, or a
// PersistentVolume's of type hostPath) is sensitive: isSensitiveHostPath, or relative. The Windows
// kubelet passes a relative hostPath to the runtime as it is (makeMounts makes only a path with a
// leading slash absolute), and containerd stats and resolves it from its own working directory
// (containerd 2.x internal/cri/opts parseMount): C:\Windows\System32 for a Windows service, or,
// run by a service wrapper, its own directory in C:\Program Files. A local volume's relative path
// is made absolute by the kubelet instead (isSensitiveHostPath judges it).
func isSensitiveHostPathVolume(p string) bool {
	return isSensitiveHostPath(p) || relativeHostPath(p)
}

// relativeHostPath reports whether a host path is relative on a Windows node: no drive, no
// leading slash of either kind.
func relativeHostPath(p string) bool {
	return p != "" && !strings.ContainsRune(p, ':') && p[0] != '/' && p[0] != '\\'
}

// windowsSensitive reports whether a path on a Windows node's system drive, as
// windowsSystemDrivePath spells it, is a sensitive one, lies under one or holds one.
func windowsSensitive(q string) bool {
	return sensitiveIn(q, sensitiveHostPaths) || sensitiveIn(q, windowsSensitiveHostPaths)
}

// nodePath is a Linux host path as the node resolves it, cleaned: a relative one (which the API
// server accepts: it refuses only '..') from /. The kubelet makes a local volume's path absolute
// so (k8s v1.37.2 pkg/volume/local, MakeAbsolutePath: filepath.Clean("/" + path) on Linux), and
// containerd's CRI stats a hostPath, makes it when missing and resolves a symbolic link at its end
// from its own working directory, / under systemd (containerd 2.x internal/cri/opts WithMounts:
// ResolveSymbolicLink), so proc/1/root becomes / and var/run /run before runc mounts it.
func nodePath(p string) string {
	return path.Clean("/" + p)
}

// sensitiveIn reports whether the cleaned path p is one of the sensitive paths, lies under one or
// holds one.
func sensitiveIn(p string, sensitive []string) bool {
	for _, s := range sensitive {
		if p == s || (s != "/" && strings.HasPrefix(p, s+"/")) || strings.HasPrefix(s, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// windowsSystemDrivePath returns a path on a Windows node's system drive, C: in either case and
// with either slash, as the Linux-spelled path the Windows kubelet maps there (it makes / into
// c:\), lower-cased, since Windows paths are not case-sensitive; ok is false for any other path.
// The Win32 extended-length and device prefixes (\\?\C:\Windows, \\.\C:\Windows, in either
// slash) name the same file: the kubelet passes a path that starts with \\ as it is
// (IsWindowsUNCPath), and containerd resolves every host path to one of that form before it
// mounts it (containerd 2.x pkg/os ResolveSymbolicLink on Windows: GetFinalPathNameByHandle).
func windowsSystemDrivePath(p string) (string, bool) {
	for _, prefix := range []string{`\\?\`, `\\.\`, "//?/", "//./"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			p = rest
			break
		}
	}
	if len(p) < 2 || (p[0] != 'c' && p[0] != 'C') || p[1] != ':' {
		return "", false
	}
	return path.Clean("/" + strings.ToLower(strings.ReplaceAll(p[2:], `\`, "/"))), true
}

// writableVolumes are the names of the volumes some container of o mounts writable: listed once
// for all of a pod's hostPath volumes, since searching every container's mounts for each volume
// cost a pod of n containers and n volumes n^2 (20,000 of each, 1.8 MB, took a second).
func writableVolumes(o *engine.Object) map[string]bool {
	out := map[string]bool{}
	for _, c := range o.Workload.Containers() {
		for _, m := range c.VolumeMounts {
			if !m.ReadOnly {
				out[m.Name] = true
			}
		}
	}
	return out
}

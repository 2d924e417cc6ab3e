package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostPathPV = &engine.Check{
	ID:    "wl-hostpath-pv",
	Title: "Pods do not reach sensitive host directories through PersistentVolumes",
	Description: "A PersistentVolume of type hostPath or local is a directory on a node. The Pod Security " +
		"Standards allow any PersistentVolumeClaim, so a namespace admin whose claim binds to a " +
		"volume at /, /etc, /var/lib/kubelet, /var/lib/etcd, /run, /usr, /opt/cni or another sensitive host path (wl-hostpath's list), " +
		"or at a container runtime socket or a directory above one (as wl-runtime-socket finds them), " +
		"or on a Windows node's system drive at C:\\, C:\\Windows, C:\\ProgramData, C:\\k or the like, in any spelling (a relative path is the node's path from /, " +
		"as the kubelet and the runtime make it absolute, and a relative hostPath is C:\\Windows\\System32's on a Windows node), " +
		"mounts it as if the pod had a hostPath volume, and while such a volume is Available any claim " +
		"that matches it may bind to it (CC6.1). The check fails such a PersistentVolume and every " +
		"workload whose claims are bound to one: claims the pod spec names, generic ephemeral " +
		"volumes and a StatefulSet's claim templates. A local volume in Block mode is one device under /dev, " +
		"mapped into the container: whether a disk set aside for it or the node's own, the volume does not " +
		"show, so it and the workloads bound to it are NotAssessed. A scan sees only the claims and volumes in its " +
		"input: a claim whose volume it cannot see is NotAssessed, and so is one bound to a volume of its input at no sensitive path, since only " +
		"cluster administrators create PersistentVolumes and the claim binds to the cluster's volume of that name." + supporting,
	Remediation: "Delete the PersistentVolume, or recreate it on a directory set aside for it (as " +
		"local-path provisioners do); give workloads that need node data a CSI driver scoped to it.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc61},
	Targets:  append(append([]string{}, workload...), "PersistentVolume"),
	Reads:    []string{"PersistentVolumeClaim", "PersistentVolume"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "PersistentVolume" {
			judgePersistentVolume(ctx, o)
			return
		}
		judgeClaimVolumes(ctx, o)
	},
}

// persistentVolumeHostPath returns the node directory a PersistentVolume is (hostPath or
// local), or "".
func persistentVolumeHostPath(pv *corev1.PersistentVolume) (string, string) {
	switch {
	case pv.Spec.HostPath != nil:
		return "hostPath", pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		return "local", pv.Spec.Local.Path
	}
	return "", ""
}

// sensitiveVolumePath reports whether a PersistentVolume of type typ (persistentVolumeHostPath)
// at path p is at a sensitive host path.
func sensitiveVolumePath(typ, p string) bool {
	if typ == "hostPath" {
		return isSensitiveHostPathVolume(p)
	}
	return isSensitiveHostPath(p)
}

// blockDevice reports whether a PersistentVolume of type local in Block mode is a device under
// /dev: the kubelet maps that one device into the container (volumeDevices), not a directory of
// the node. Whether it is a disk set aside for the volume or one the node's own filesystems are
// on, the PersistentVolume does not show. hostPath volumes have no Block mode.
func blockDevice(pv *corev1.PersistentVolume) bool {
	return pv.Spec.Local != nil && pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode == corev1.PersistentVolumeBlock &&
		strings.HasPrefix(nodePath(pv.Spec.Local.Path), "/dev/")
}

// blockDeviceUndecided says why a blockDevice volume is neither passed nor failed.
const blockDeviceUndecided = "whether it is a disk set aside for the volume or one the node's own filesystems are on, the PersistentVolume does not show"

func judgePersistentVolume(ctx *engine.Context, o *engine.Object) {
	pv, ok := o.Obj.(*corev1.PersistentVolume)
	if !ok {
		ctx.NotApplicable("", "not a v1 PersistentVolume")
		return
	}
	typ, p := persistentVolumeHostPath(pv)
	switch {
	case typ == "":
		ctx.NotApplicable("", "not a hostPath or local volume")
	case blockDevice(pv):
		ctx.NotAssessed("", fmt.Sprintf("a local volume of the block device %q: %s", p, blockDeviceUndecided))
	case !sensitiveVolumePath(typ, p):
		ctx.Pass("")
	case pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Name != "":
		ctx.Fail("", "%s volume at %q, a sensitive host path, is reserved for claim %s/%s, which mounts it", typ, p, pv.Spec.ClaimRef.Namespace, pv.Spec.ClaimRef.Name)
	default:
		ctx.Fail("", "%s volume at %q, a sensitive host path, is reserved for no claim: any claim that matches it may bind to it", typ, p)
	}
}

// sensitiveVolumesOpenTo says whether a PersistentVolume at a sensitive host path, or of a block
// device (blockDevice), may be bound to a claim in the namespace: one reserved for no claim (any
// claim that matches it may bind to it), or for a claim in that namespace.
func sensitiveVolumesOpenTo(inv *engine.Inventory, namespace string) bool {
	open := inv.Memo(nil, "workloads.sensitivePersistentVolumes", func() any {
		open := map[string]bool{} // claimRef namespace; "" for volumes reserved for no claim
		for _, o := range inv.ListKind("PersistentVolume") {
			if pv, ok := o.Obj.(*corev1.PersistentVolume); ok {
				if typ, p := persistentVolumeHostPath(pv); typ != "" && (sensitiveVolumePath(typ, p) || blockDevice(pv)) {
					if r := pv.Spec.ClaimRef; r != nil && r.Name != "" {
						open[r.Namespace] = true
					} else {
						open[""] = true
					}
				}
			}
		}
		return open
	}).(map[string]bool)
	return open[""] || open[namespace]
}

// volumeInFiles says why a scan does not pass a workload whose claim is bound to a
// PersistentVolume of its files that reaches no sensitive host path. Only cluster administrators
// create PersistentVolumes (Kubernetes' admin and edit roles cannot, k8s.io/kubernetes v1.37.2
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy), so in a CI gate the team being judged cannot
// apply one its files ship, and a claim that names a volume (spec.volumeName) binds to the
// cluster's volume of that name, whatever the files say of it. One the files show at a sensitive
// path still fails the workload: the files say the claim is meant for it. Until December 2026 a
// harmless copy in the files, named in a claim's volumeName, passed a workload whose claim the
// cluster binds to a hostPath volume at /etc.
const volumeInFiles = "in the scanned input need not be the cluster's: only cluster administrators create PersistentVolumes, and the claim binds to the cluster's volume of that name"

func judgeClaimVolumes(ctx *engine.Context, o *engine.Object) {
	found, unseen, claims := hostVolumesClaimed(ctx.Inventory, o, func(what, name, typ, p string, vol *corev1.PersistentVolume) (fail, undecided string) {
		switch {
		case blockDevice(vol):
			return "", fmt.Sprintf("%s is on PersistentVolume %q, a local volume of the block device %q: %s", what, name, p, blockDeviceUndecided)
		case sensitiveVolumePath(typ, p):
			return fmt.Sprintf("%s is on PersistentVolume %q, a %s volume at %q (a sensitive host path)", what, name, typ, p), ""
		}
		return "", ""
	})
	switch {
	case !claims:
		ctx.NotApplicable("", "no volume is backed by a PersistentVolumeClaim")
	case len(found) > 0:
		ctx.Fail("", "%s", few(found, "; "))
	case len(unseen) > 0:
		ctx.NotAssessed("", few(unseen, "; "))
	default:
		ctx.Pass("")
	}
}

// hostVolumesClaimed judges the hostPath and local PersistentVolumes workload o's claims are
// bound to, or will be: claims the pod spec names, generic ephemeral volumes and a StatefulSet's
// claim templates. judge is given each such volume, with what of o is on it ("volume \"data\""),
// and says why it fails or why it cannot be told. unseen adds the claims and volumes a scan
// cannot see. claims is false when no volume of o is backed by a claim. In the operator's view,
// when no PersistentVolume at a sensitive host path (runtime sockets among them) may be bound
// to a claim of o's namespace, nothing is judged.
func hostVolumesClaimed(inv *engine.Inventory, o *engine.Object, judge func(what, name, typ, p string, vol *corev1.PersistentVolume) (fail, undecided string)) (found, unseen []string, claims bool) {
	w := o.Workload
	pod := w.Pod()
	type claimed struct {
		what string // "volume \"data\""
		// pv is the PersistentVolume a claim template's spec.volumeName binds the claims made
		// from it to: the volume of each of claims that does not exist yet, or, without claims,
		// the volume's.
		pv string
		// claims are the claims that hold the volume's data, any one of which may be bound.
		claims []string
		// unknown says why the claims cannot be named ("" when they can).
		unknown string
	}
	var vols []claimed
	for _, c := range pod.Claims {
		what := fmt.Sprintf("volume %q", c.Volume)
		switch {
		case !c.Ephemeral:
			vols = append(vols, claimed{what: what, claims: []string{c.Claim}})
		case c.PersistentVolume != "":
			vols = append(vols, claimed{what: what, pv: c.PersistentVolume})
		case o.Kind == "Pod" && o.Name != "":
			vols = append(vols, claimed{what: what, claims: []string{o.Name + "-" + c.Volume}})
		default:
			vols = append(vols, claimed{what: what, unknown: "its pods' ephemeral claims are named after pods the template has not made"})
		}
	}
	for _, c := range w.ClaimTemplates {
		// The StatefulSet controller makes only the claims that do not exist: one that does is
		// mounted as it is, whatever volume the template names (createPersistentVolumeClaims in
		// k8s.io/kubernetes v1.37 pkg/controller/statefulset/stateful_pod_control.go).
		var names []string
		for i, end := w.ClaimOrdinals(); i < end; i++ {
			names = append(names, engine.StatefulSetClaim(c.Volume, o.Name, i))
		}
		vols = append(vols, claimed{what: fmt.Sprintf("claim template %q", c.Volume), pv: c.PersistentVolume, claims: names})
	}
	if len(vols) == 0 {
		return nil, nil, false
	}
	if inv.Complete && !sensitiveVolumesOpenTo(inv, o.Namespace) {
		// The operator sees every PersistentVolume: none at a sensitive host path may be bound to
		// a claim in this namespace (none exists, or each is reserved for a claim elsewhere), so no
		// claim here is or will be until that changes (which evaluates again).
		return nil, nil, true
	}
	for _, v := range vols {
		if v.unknown != "" {
			unseen = append(unseen, v.what+": "+v.unknown)
			continue
		}
		var pvs []string
		switch {
		case len(v.claims) == 0 && v.pv != "":
			pvs = []string{v.pv}
		case len(v.claims) == 0:
			// A StatefulSet scaled to zero: no replica mounts a claim.
		default:
			var absent []string
			made := false // a claim not there yet is made bound to v.pv
			for _, name := range v.claims {
				pvc := inv.Get("PersistentVolumeClaim", o.Namespace, name)
				switch {
				case pvc == nil && v.pv != "":
					if !made {
						pvs, made = append(pvs, v.pv), true
					}
				case pvc == nil && inv.Complete:
					// Not created yet: nothing is mounted.
				case pvc == nil:
					absent = append(absent, name)
				default:
					claim, ok := pvc.Obj.(*corev1.PersistentVolumeClaim)
					switch {
					case !ok:
						unseen = append(unseen, fmt.Sprintf("%s: claim %q is not a v1 PersistentVolumeClaim", v.what, name))
					case claim.Spec.VolumeName != "":
						pvs = append(pvs, claim.Spec.VolumeName)
					case !inv.Complete:
						unseen = append(unseen, fmt.Sprintf("%s: claim %q is bound when applied, to a volume the input cannot show", v.what, name))
					}
				}
			}
			switch len(absent) {
			case 0:
			case 1:
				unseen = append(unseen, fmt.Sprintf("%s: claim %q is not in the scanned input", v.what, absent[0]))
			default:
				unseen = append(unseen, fmt.Sprintf("%s: claims %q to %q are not in the scanned input", v.what, absent[0], absent[len(absent)-1]))
			}
		}
		for _, name := range pvs {
			pv := inv.Get("PersistentVolume", "", name)
			if pv == nil {
				if !inv.Complete {
					unseen = append(unseen, fmt.Sprintf("%s: PersistentVolume %q is not in the scanned input", v.what, name))
				}
				continue
			}
			judged := false // failed or undecided
			if vol, ok := pv.Obj.(*corev1.PersistentVolume); ok {
				if typ, p := persistentVolumeHostPath(vol); typ != "" {
					switch fail, undecided := judge(v.what, name, typ, p, vol); {
					case fail != "":
						found, judged = append(found, fail), true
					case undecided != "":
						unseen, judged = append(unseen, undecided), true
					}
				}
			}
			if !judged && !inv.Complete {
				unseen = append(unseen, fmt.Sprintf("%s: PersistentVolume %q %s", v.what, name, volumeInFiles))
			}
		}
	}
	return found, unseen, true
}

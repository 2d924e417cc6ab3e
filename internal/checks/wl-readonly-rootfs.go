package checks

import (
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlReadonlyRootfs = &engine.Check{
	ID:    "wl-readonly-rootfs",
	Title: "Containers have a read-only root filesystem",
	Description: "A writable root filesystem lets an attacker drop tools and persist changes in the " +
		"running container; read-only makes the image the only code that runs (CC6.8). Windows pods " +
		"(" + windowsPods + "), where the kubelet does not apply it, are not applicable. A privileged container fails " +
		"whatever it sets: it can remount its root filesystem read-write. One that adds SYS_ADMIN (or " +
		"ALL) can too, unless the node's AppArmor or SELinux policy refuses mount, which the spec does " +
		"not show: NotAssessed." + supporting,
	Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application writes.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(ctx, o) {
			// The API server refuses readOnlyRootFilesystem in a pod whose os.name is windows, and
			// the Windows kubelet never hands it to the runtime.
			ctx.NotApplicable("", "Windows pods cannot set readOnlyRootFilesystem: the Windows kubelet does not apply it")
			return
		}
		eachContainerJudged(ctx, o, nil, func(c engine.Container) (string, string) {
			sc := containerSC(c)
			switch {
			case !isTrue(sc.ReadOnlyRootFilesystem):
				return "root filesystem is writable (readOnlyRootFilesystem is not true)", ""
			case isTrue(sc.Privileged):
				// The runtime mounts the root filesystem read-only, but a privileged container
				// has CAP_SYS_ADMIN and runs without seccomp or AppArmor confinement, so
				// mount(2) lets it remount / read-write.
				return "root filesystem can be made writable: readOnlyRootFilesystem is true, but the container is " +
					"privileged, and can remount it read-write (mount -o remount,rw /)", ""
			}
			if added := sysAdminAdded(sc); added != "" {
				// CAP_SYS_ADMIN lets mount(2) remount / read-write: the runtime's default
				// seccomp profile allows mount to its holder (moby's and containerd's default
				// profiles, under caps CAP_SYS_ADMIN), and no profile applies when none is set.
				// Only the node's AppArmor profile (the runtime default denies mount) or SELinux
				// policy may refuse it.
				return "", "readOnlyRootFilesystem is true, but the container adds CAP_SYS_ADMIN (capabilities.add holds " +
					strconv.Quote(added) + "), which can remount the " +
					"root filesystem read-write (mount -o remount,rw /) unless the node's AppArmor or SELinux policy " +
					"refuses mount, which the spec does not show"
			}
			return "", ""
		})
	},
}

// sysAdminAdded names how the container's capabilities.add grants CAP_SYS_ADMIN ("SYS_ADMIN" or
// "ALL", as written), or "" when they do not. The runtimes read the names in any case; they grant
// ALL before dropping ALL, then add the named capabilities and drop the named ones (containerd's
// CRI WithCapabilities). A CAP_ spelling counts as an addition (capName), as the profile's
// allowedCapabilities do, but not as a drop: containerd prefixes it again, so it may grant or drop
// nothing, and only the reading that never passes a container holding the capability is taken.
func sysAdminAdded(sc *corev1.SecurityContext) string {
	if sc.Capabilities == nil {
		return ""
	}
	added := func(name string) (string, bool) {
		for _, c := range sc.Capabilities.Add {
			if capName(c) == name {
				return string(c), true
			}
		}
		return "", false
	}
	dropped := func(name string) bool {
		return slices.ContainsFunc(sc.Capabilities.Drop, func(c corev1.Capability) bool { return strings.EqualFold(string(c), name) })
	}
	if dropped("SYS_ADMIN") {
		return ""
	}
	if c, ok := added("SYS_ADMIN"); ok {
		return c
	}
	if c, ok := added("ALL"); ok && !dropped("ALL") {
		return c
	}
	return ""
}

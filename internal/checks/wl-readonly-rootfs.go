package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlReadonlyRootfs = &engine.Check{
	ID:    "wl-readonly-rootfs",
	Title: "Containers have a read-only root filesystem",
	Description: "A writable root filesystem lets an attacker drop tools and persist changes in the " +
		"running container; read-only makes the image the only code that runs (CC6.8). Windows pods " +
		"(spec.os.name windows, or a node selector or required node affinity that admits only Windows " +
		"nodes), where the kubelet does not apply it, are not applicable. A privileged container fails " +
		"whatever it sets: it can remount its root filesystem read-write." + supporting,
	Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application writes.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if isWindows(o) {
			// The API server refuses readOnlyRootFilesystem in a pod whose os.name is windows, and
			// the Windows kubelet never hands it to the runtime.
			ctx.NotApplicable("", "Windows pods cannot set readOnlyRootFilesystem: the Windows kubelet does not apply it")
			return
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			sc := containerSC(c)
			switch {
			case !isTrue(sc.ReadOnlyRootFilesystem):
				return "root filesystem is writable (readOnlyRootFilesystem is not true)"
			case isTrue(sc.Privileged):
				// The runtime mounts the root filesystem read-only, but a privileged container
				// has CAP_SYS_ADMIN and runs without seccomp or AppArmor confinement, so
				// mount(2) lets it remount / read-write.
				return "root filesystem can be made writable: readOnlyRootFilesystem is true, but the container is " +
					"privileged, and can remount it read-write (mount -o remount,rw /)"
			}
			return ""
		})
	},
}

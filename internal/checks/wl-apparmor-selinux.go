package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// allowedSELinuxTypes are the SELinux types the Pod Security Standards' baseline level allows.
var allowedSELinuxTypes = map[string]bool{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true, "container_engine_t": true}

var wlApparmorSelinux = &engine.Check{
	ID:    "wl-apparmor-selinux",
	Title: "Containers keep their AppArmor and SELinux confinement",
	Description: "An Unconfined AppArmor profile, or a custom SELinux user, role or type, removes " +
		"the mandatory access control that contains a compromised container (CC6.8)." + supporting,
	Remediation: "Remove AppArmor Unconfined settings and custom seLinuxOptions user, role and type.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		annotations := map[string]string{}
		if o.Workload.PodMeta != nil && o.Workload.PodMeta.Annotations != nil {
			annotations = o.Workload.PodMeta.Annotations
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			if p := effectiveAppArmor(o, c); p != nil && p.Type == corev1.AppArmorProfileTypeUnconfined {
				return "AppArmor profile is Unconfined"
			}
			if annotations["container.apparmor.security.beta.kubernetes.io/"+c.Name] == "unconfined" {
				return "AppArmor annotation sets the container unconfined"
			}
			if se := effectiveSELinux(o, c); se != nil {
				switch {
				case !allowedSELinuxTypes[se.Type]:
					return fmt.Sprintf("SELinux type %q is not a container type", se.Type)
				case se.User != "" || se.Role != "":
					return "sets a custom SELinux user or role"
				}
			}
			return ""
		})
	},
}

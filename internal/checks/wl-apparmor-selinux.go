package checks

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlApparmorSelinux = &engine.Check{
	ID:    "wl-apparmor-selinux",
	Title: "Containers keep their AppArmor and SELinux confinement",
	Description: "An Unconfined AppArmor profile, or a custom SELinux user, role or type, removes " +
		"the mandatory access control that contains a compromised container (CC6.8). " +
		"Pod Security Standards control: AppArmor and SELinux (baseline). Beyond the standard, a " +
		"privileged container fails: the runtime gives it no SELinux label and not its default " +
		"AppArmor profile (with a Localhost AppArmor profile, which containerd applies on AppArmor " +
		"nodes, it is NotAssessed)." +
		windowsNotApplicable(macFacility) + pssDecided + supporting,
	Remediation: "Remove AppArmor Unconfined settings and custom seLinuxOptions user, role and type.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssApparmorSelinux)
	},
}

// pssApparmorSelinux decides wl-apparmor-selinux: the Pod Security Standards control AppArmor and
// SELinux (baseline).
var pssApparmorSelinux = &pssControl{checks: []policy.CheckID{"appArmorProfile", "seLinuxOptions"}, linuxOnly: macFacility,
	privileged: privilegedWithoutMAC}

// privilegedWithoutMAC judges a privileged container, to which the runtime gives no SELinux
// label, and no AppArmor profile but a Localhost one: containerd's CRI clears a privileged
// container's SELinux label ("If privileged don't set the SELinux label") and sets no AppArmor
// profile for RuntimeDefault, or none given, on one ("Do not set apparmor profile when container
// is privileged"), but does apply a Localhost profile. It fails, or with a Localhost AppArmor
// profile (the container's field, else the pod's, else the container's annotation, as the
// kubelet reads them) is NotAssessed: which of AppArmor and SELinux the node enforces, and what
// another runtime does with the profile, the spec does not show.
func privilegedWithoutMAC(name string, m *metav1.ObjectMeta, s *corev1.PodSpec) (fail, notAssessed string) {
	if localhostAppArmor(name, m, s) {
		return "", "the container is privileged (securityContext.privileged: true): the runtime gives it no SELinux " +
			"label, and applies its Localhost AppArmor profile only on an AppArmor node (containerd does; which module " +
			"the node enforces, the spec does not show)"
	}
	return "runs without AppArmor or SELinux confinement: the container is privileged (securityContext.privileged: true), " +
		"and the runtime gives a privileged container no SELinux label and not its default AppArmor profile", ""
}

// localhostAppArmor reports whether the only container of s, named name, runs with a Localhost
// AppArmor profile: its securityContext.appArmorProfile, else the pod's, else the deprecated
// annotation container.apparmor.security.beta.kubernetes.io/<name> (the kubelet's order).
func localhostAppArmor(name string, m *metav1.ObjectMeta, s *corev1.PodSpec) bool {
	if _, sc := onlyContainer(s); sc != nil && sc.AppArmorProfile != nil {
		return sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeLocalhost
	}
	if s.SecurityContext != nil && s.SecurityContext.AppArmorProfile != nil {
		return s.SecurityContext.AppArmorProfile.Type == corev1.AppArmorProfileTypeLocalhost
	}
	if m != nil {
		return strings.HasPrefix(m.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+name], corev1.DeprecatedAppArmorBetaProfileNamePrefix)
	}
	return false
}

// macFacility is the Linux facility pssApparmorSelinux governs, which Windows pods do not have.
const macFacility = "AppArmor or SELinux"

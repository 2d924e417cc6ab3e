package checks

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlRunAsRoot = &engine.Check{
	ID:    "wl-run-as-root",
	Title: "Containers run as a non-root user",
	Description: "A container running as UID 0 is root on the node if it escapes, and root inside " +
		"the container can rewrite its own binaries. Running as a non-root user limits what a " +
		"compromised process can reach (CC6.1). " +
		"Pod Security Standards control: Running as Non-root and Running as Non-root user " +
		"(restricted). Beyond the standard, which reads only runAsUser, a container of a pod that a Windows " +
		"node may run (spec.os.name windows, or no spec.os.name and no node selector or required node " +
		"affinity that admits only Linux nodes; a Pod bound to a node whose kubernetes.io/os label is linux runs on none) fails whose windowsOptions.runAsUserName is an administrator " +
		"account: SYSTEM, or ContainerAdministrator in any spelling (the kubelet's runAsNonRoot refuses only " +
		"the bare name, and the Windows kubelet ignores runAsUser)." + pssDecided + supporting,
	Remediation: "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser, and build the image with a non-root USER (on Windows, run as ContainerUser or another unprivileged account).",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssRunAsRoot)
	},
}

// pssRunAsRoot decides wl-run-as-root: the Pod Security Standards control Running as Non-root and
// Running as Non-root user (restricted).
var pssRunAsRoot = &pssControl{checks: []policy.CheckID{"runAsNonRoot", "runAsUser"}, beyond: windowsAdministrator}

// windowsAdministrator says why the only container of a pod that a Windows node may run
// (engine.Inventory.MayRunOnWindowsOf: by its own spec, its RuntimeClass and, bound, its node) runs as an administrator account there, "" when it does not (or only
// Linux nodes may run the pod, whose windowsOptions no kubelet applies). Windows pods cannot set
// runAsUser, which is all the Running as Non-root user control reads, and a pod that declares no
// OS may, but the Windows kubelet ignores it; its runAsNonRoot refuses only a runAsUserName that
// is exactly ContainerAdministrator in some case (k8s v1.37.2 pkg/kubelet/kuberuntime/
// security_context_windows.go verifyRunAsNonRoot): "User Manager\ContainerAdministrator", the
// same account as whoami names it, and SYSTEM, the most privileged account (on the node, for a
// HostProcess container), pass both. The container's runAsUserName overrides the pod's.
func windowsAdministrator(ctx *engine.Context, o *engine.Object, s *corev1.PodSpec) string {
	if !ctx.Inventory.MayRunOnWindowsOf(o) {
		return ""
	}
	fail := windowsAdministratorAccount(s)
	if fail != "" && !ctx.Inventory.WindowsPodOf(o) {
		fail += " (nothing keeps the pod to Linux nodes: on a Windows node the kubelet ignores runAsUser and applies windowsOptions)"
	}
	return fail
}

// windowsAdministratorAccount is windowsAdministrator for a pod that a Windows node runs.
func windowsAdministratorAccount(s *corev1.PodSpec) string {
	_, sc := onlyContainer(s)
	var user *string
	if psc := s.SecurityContext; psc != nil && psc.WindowsOptions != nil {
		user = psc.WindowsOptions.RunAsUserName
	}
	if sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.RunAsUserName != nil {
		user = sc.WindowsOptions.RunAsUserName
	}
	if user == nil {
		// The image's user, which the kubelet checks against ContainerAdministrator.
		return ""
	}
	domain, account, qualified := strings.Cut(*user, `\`)
	if !qualified {
		domain, account = "", *user
	}
	switch {
	case strings.EqualFold(account, "ContainerAdministrator") && !qualified:
		// The kubelet refuses to start it while runAsNonRoot is true; without runAsNonRoot the
		// library has failed the container already.
		return "names the container's administrator as its user (windowsOptions.runAsUserName " + *user + "); the kubelet " +
			"refuses to start it only while runAsNonRoot is true"
	case strings.EqualFold(account, "ContainerAdministrator") && (domain == "." || strings.EqualFold(domain, "User Manager")):
		return "runs as the container's administrator (windowsOptions.runAsUserName " + *user + "): runAsNonRoot " +
			"does not stop it, since the kubelet refuses only the name ContainerAdministrator written alone"
	case strings.EqualFold(account, "SYSTEM") && (domain == "" || strings.EqualFold(domain, "NT AUTHORITY")):
		return "runs as SYSTEM, the most privileged Windows account (windowsOptions.runAsUserName " + *user + "): " +
			"runAsNonRoot does not stop it, since the kubelet refuses only ContainerAdministrator"
	}
	return ""
}

package checks

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// capName strips the optional CAP_ prefix.
func capName(c corev1.Capability) string {
	return strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")
}

var wlDangerousCaps = &engine.Check{
	ID:    "wl-dangerous-caps",
	Title: "Containers do not add dangerous Linux capabilities",
	Description: "Capabilities beyond the runtime's defaults (ALL, SYS_ADMIN, NET_ADMIN, NET_RAW, " +
		"SYS_PTRACE, SYS_MODULE, BPF, ...) give a container kernel-level powers that lead to node " +
		"compromise (CC6.1, CC6.8). Capabilities in the profile's allowedCapabilities pass. " +
		"Pod Security Standards control: Capabilities (baseline); the capabilities in " +
		"parameters.allowedCapabilities are exempt, beyond the standard. A privileged container fails " +
		"whatever it adds or drops: the runtime grants it every capability." + pssDecided + supporting,
	Remediation: "Remove the capability from securityContext.capabilities.add, or add it to the profile's allowedCapabilities after review.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61, cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssDangerousCaps)
	},
}

// pssDangerousCaps decides wl-dangerous-caps: the Pod Security Standards control Capabilities
// (baseline); the capabilities in parameters.allowedCapabilities are exempt, beyond the standard.
var pssDangerousCaps = &pssControl{checks: []policy.CheckID{"capabilities_baseline"}, project: withoutAllowedCapabilities,
	privileged: privilegedHasEveryCapability}

// privilegedHasEveryCapability fails a privileged container: the runtime grants it every
// capability, whatever capabilities.add and drop say (containerd's CRI applies oci.WithPrivileged,
// which sets them all, after the container's capabilities; CRI-O sets those only for an
// unprivileged container).
func privilegedHasEveryCapability(string, *metav1.ObjectMeta, *corev1.PodSpec) (fail, notAssessed string) {
	return "has every capability: the container is privileged (securityContext.privileged: true), and the runtime " +
		"grants a privileged container every capability (CAP_SYS_ADMIN among them), whatever capabilities.add and drop say", ""
}

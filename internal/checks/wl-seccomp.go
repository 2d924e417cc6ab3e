package checks

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlSeccomp = &engine.Check{
	ID:    "wl-seccomp",
	Title: "Containers run with a seccomp profile",
	Description: "Without a seccomp profile (RuntimeDefault or Localhost) a container can make any " +
		"system call, which widens the kernel attack surface malicious code can use (CC6.8). " +
		"Pod Security Standards control: Seccomp (baseline and restricted). Beyond the standard, " +
		"a privileged container fails whatever its profile: Kubernetes applies no seccomp profile " +
		"to one (privileged containers always run Unconfined)." +
		windowsNotApplicable(seccompFacility) + pssDecided + supporting,
	Remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or Localhost with a reviewed profile).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssSeccomp)
	},
}

// pssSeccomp decides wl-seccomp: the Pod Security Standards control Seccomp (baseline and
// restricted).
var pssSeccomp = &pssControl{checks: []policy.CheckID{"seccompProfile_baseline", "seccompProfile_restricted"}, linuxOnly: seccompFacility,
	privileged: privilegedWithoutSeccomp}

// privilegedWithoutSeccomp fails a privileged container: Kubernetes applies no seccomp profile to
// one ("Privileged containers always run as Unconfined"; containerd's CRI generateSeccompSpecOpts
// returns none for a privileged container, whatever the profile).
func privilegedWithoutSeccomp(string, *metav1.ObjectMeta, *corev1.PodSpec) (fail, notAssessed string) {
	return "runs without a seccomp filter: the container is privileged (securityContext.privileged: true), " +
		"and Kubernetes applies no seccomp profile to a privileged container, whatever its profile says", ""
}

// seccompFacility is the Linux facility pssSeccomp governs, which Windows pods do not have.
const seccompFacility = "seccomp"

package checks

import (
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
		"(restricted)." + pssDecided + supporting,
	Remediation: "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser, and build the image with a non-root USER.",
	Severity:    high,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssRunAsRoot)
	},
}

// pssRunAsRoot decides wl-run-as-root: the Pod Security Standards control Running as Non-root and
// Running as Non-root user (restricted).
var pssRunAsRoot = &pssControl{checks: []policy.CheckID{"runAsNonRoot", "runAsUser"}}

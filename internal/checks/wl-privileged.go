package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlPrivileged = &engine.Check{
	ID:    "wl-privileged",
	Title: "Containers do not run privileged",
	Description: "A privileged container has every capability and access to the host's devices: " +
		"it can take over the node and every workload on it. Logical access (CC6.1) and " +
		"protection against malicious software (CC6.8) both depend on it not being there. A Windows " +
		"HostProcess container is Windows' privileged container: it runs as a process on the node, " +
		"outside any container isolation, and Windows pods cannot set securityContext.privileged, so " +
		"it fails here too (and wl-windows-hostprocess). " +
		"Pod Security Standards controls: Privileged Containers and HostProcess (baseline)." + pssDecided + supporting,
	Remediation: "Remove securityContext.privileged, or set it to false (on Windows, remove windowsOptions.hostProcess). Grant the specific capability the container needs instead.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssPrivileged)
	},
}

// pssPrivileged decides wl-privileged: the Pod Security Standards controls Privileged Containers
// and HostProcess (baseline). A HostProcess container is the Windows privileged container
// (KEP-1981, "Windows privileged containers"), and a Windows pod cannot set the privileged flag
// (the API server refuses it): judged by the flag alone, every HostProcess container passed.
var pssPrivileged = &pssControl{checks: []policy.CheckID{"privileged", "windowsHostProcess"}}

package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlHostProbes = &engine.Check{
	ID:    "wl-host-probes",
	Title: "Probes and lifecycle handlers do not reach other hosts",
	Description: "A host field in an httpGet or tcpSocket probe or lifecycle handler makes the " +
		"kubelet, which runs with the node's network identity, connect to any address the pod's " +
		"author names: a way to reach node-local and control-plane endpoints the pod itself is not " +
		"allowed to reach (CC6.1, CC6.6). " +
		"Pod Security Standards control: Host Probes / Lifecycle " +
		"Hooks (baseline, since v1.34)." + pssDecided + supporting,
	Remediation: "Remove host from the probes' and lifecycle handlers' httpGet and tcpSocket: the kubelet then " +
		"connects to the pod's own IP. Probe another service from inside the container instead.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc61, cc66},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssHostProbes)
	},
}

// pssHostProbes decides wl-host-probes: the Pod Security Standards control Host Probes /
// Lifecycle Hooks (baseline).
var pssHostProbes = &pssControl{checks: []policy.CheckID{"hostProbesAndHostLifecycle"}}

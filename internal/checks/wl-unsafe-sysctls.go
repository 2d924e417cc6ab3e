package checks

import (
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// safeSysctls are the namespaced sysctls the Pod Security Standards' baseline level allows.
var safeSysctls = map[string]bool{
	"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true,
	"net.ipv4.ip_unprivileged_port_start": true, "net.ipv4.tcp_syncookies": true,
	"net.ipv4.ping_group_range": true, "net.ipv4.ip_local_reserved_ports": true,
	"net.ipv4.tcp_keepalive_time": true, "net.ipv4.tcp_fin_timeout": true,
	"net.ipv4.tcp_keepalive_intvl": true, "net.ipv4.tcp_keepalive_probes": true,
}

var wlUnsafeSysctls = &engine.Check{
	ID:    "wl-unsafe-sysctls",
	Title: "Pods set only safe sysctls",
	Description: "Sysctls outside the safe, namespaced set change kernel behaviour for the whole " +
		"node, beyond the pod's own boundary (CC6.1). " +
		"Pod Security Standards control: Sysctls (baseline)." + pssDecided + supporting,
	Remediation: "Remove the unsafe sysctls from securityContext.sysctls; tune the node instead if it is really needed.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgePSS(ctx, o, pssUnsafeSysctls)
	},
}

// pssUnsafeSysctls decides wl-unsafe-sysctls: the Pod Security Standards control Sysctls
// (baseline).
var pssUnsafeSysctls = &pssControl{checks: []policy.CheckID{"sysctls"}, podLevel: true}

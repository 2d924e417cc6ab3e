package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// workloadChecks: A. workload privilege and hardening.
var workloadChecks = []*engine.Check{
	wlPrivileged,
	wlPrivilegeEscalation,
	wlRunAsRoot,
	wlRootGroup,
	wlHostNamespaces,
	wlHostNetwork,
	wlHostPort,
	wlHostProbes,
	wlHostPath,
	wlRuntimeSocket,
	wlDangerousCaps,
	wlDropAllCaps,
	wlReadonlyRootfs,
	wlSeccomp,
	wlApparmorSelinux,
	wlProcmount,
	wlUnsafeSysctls,
	wlWindowsHostprocess,
	wlVolumeTypes,
	nsPssEnforced,
}

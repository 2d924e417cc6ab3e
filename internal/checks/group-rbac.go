package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// rbacChecks: C. RBAC risk.
var rbacChecks = []*engine.Check{
	rbacClusterAdminBinding,
	rbacWildcards,
	rbacSecretRead,
	rbacBoundSecretRead,
	rbacExecAttachPortforward,
	rbacBoundExec,
	rbacPrivilegeEscalation,
	rbacWorkloadCreate,
	rbacSystemGroups,
	rbacControlPlaneTakeover,
	rbacLogTampering,
	rbacNetworkControl,
	rbacDanglingBinding,
}

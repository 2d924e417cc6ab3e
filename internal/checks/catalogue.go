// Package checks is the built-in SOC 2 check catalogue: one check per file, named by its ID,
// listed in an explicit order by Catalogue; helpers-*.go hold what several checks share. Pass and
// fail fixtures for each check live in testdata/<check-id>/. docs/checks.md is generated from
// Catalogue by hack/checksdoc (`make docs`, kept current by `make verify`).
package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// Version is the version of the catalogue. Bump it when a check is added or removed, or when a
// check's meaning, severity or criteria change: reports record it.
const Version = "2026.12.31.24"

// Catalogue returns the built-in checks in the order reports, `soc2-operator checks` and
// docs/checks.md list them, by group. The order and IDs are part of the report format (the
// golden files of internal/scan depend on them). The checks are shared: do not modify them.
func Catalogue() []*engine.Check {
	return []*engine.Check{
		// Workload hardening (Pod Security Standards controls among them).
		wlPrivileged,
		wlPrivilegeEscalation,
		wlRunAsRoot,
		wlRootGroup,
		wlHostNamespaces,
		wlHostNetwork,
		wlHostPort,
		wlHostProbes,
		wlHostPath,
		wlHostPathPV,
		wlRuntimeSocket,
		wlDeviceAdminAccess,
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

		// Service accounts.
		saTokenAutomount,
		saDefaultUsed,
		saDefaultBound,
		saMissing,
		saLegacyTokenSecret,

		// RBAC.
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

		// Network boundary.
		netPodPolicyCoverage,
		netNamespaceDefaultDeny,
		netIngressTLS,
		netServiceExposure,
		netIngressHostHygiene,
		netIngressSnippets,
		netUnauthenticatedService,

		// Supply chain.
		imgRegistryAllowlist,
		imgMutableTag,
		imgDigestPinned,
		imgSignature,
		imgPullPolicy,
		imgCriticalCVEs,
		imgEmbeddedSecrets,
		imgDeprecatedRegistry,

		// Secrets.
		secLiteralEnvCredentials,
		secConfigmapCredentials,
		secSecretAsEnv,
		secPvEncryption,
		secEtcdEncryption,

		// Change control.
		audApiserverAuditLog,
		chgOwnershipLabels,
		chgDeprecatedApis,
		chgSystemNamespaces,

		// Availability.
		avlReplicas,
		avlPdb,
		avlPdbZeroDisruptions,
		avlPdbHpaMismatch,
		avlTopologySpread,
		avlReadinessProbe,
		avlLivenessProbe,
		avlResourceRequests,
		avlMemoryLimit,
		avlBarePod,
		avlNamespaceQuota,
		avlRollingUpdate,
		avlPriorityClass,
		avlHpaSanity,
	}
}

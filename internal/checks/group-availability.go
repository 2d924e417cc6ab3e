package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// availabilityChecks: H. availability (A1).
var availabilityChecks = []*engine.Check{
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

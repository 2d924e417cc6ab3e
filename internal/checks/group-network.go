package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// networkChecks: D. network boundary.
var networkChecks = []*engine.Check{
	netPodPolicyCoverage,
	netNamespaceDefaultDeny,
	netIngressTLS,
	netServiceExposure,
	netIngressHostHygiene,
	netUnauthenticatedService,
}

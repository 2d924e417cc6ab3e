package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// identityChecks: B. identity and service accounts.
var identityChecks = []*engine.Check{
	saTokenAutomount,
	saDefaultUsed,
	saDefaultBound,
	saMissing,
}

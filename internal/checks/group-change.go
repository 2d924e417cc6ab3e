package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// changeChecks: G. logging, monitoring and change control.
var changeChecks = []*engine.Check{
	audApiserverAuditLog,
	chgOwnershipLabels,
	chgDeprecatedApis,
	chgSystemNamespaces,
}

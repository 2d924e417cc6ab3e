// Package checks is the built-in SOC 2 check catalogue: one check per file, named by its ID,
// listed in an explicit order by Catalogue. Pass and fail fixtures for each check live in
// testdata/<check-id>/.
package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// Version is the version of the catalogue. Bump it when a check is added or removed, or when a
// check's meaning, severity or criteria change: reports record it.
const Version = "2026.12.1"

// Catalogue returns the built-in checks in the order reports and `soc2-operator checks` list
// them: the groups of SOC2-CHECKS.md, in order. The checks are shared: do not modify them.
func Catalogue() []*engine.Check {
	groups := [][]*engine.Check{
		workloadChecks,
		identityChecks,
		rbacChecks,
		networkChecks,
		supplyChainChecks,
		secretChecks,
		changeChecks,
		availabilityChecks,
	}
	var all []*engine.Check
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

package checks

// The trivy-checks conformance suite (trivy_conformance_test.go) for the checks in trivy-checks' checks/kubernetes/security directory.

// trivySecurityMapping: trivy-checks id -> the catalogue checks that judge the same thing.
var trivySecurityMapping = map[string][]string{}

// trivySecurityUnmapped: trivy-checks id -> why no catalogue check judges it.
var trivySecurityUnmapped = map[string]string{}

// trivySecurityDisagreements: "ID key" of a case (as the test names it) -> why the catalogue's verdict
// differs from trivy-checks' by design.
var trivySecurityDisagreements = map[string]string{}

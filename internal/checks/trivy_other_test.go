package checks

// The trivy-checks conformance suite (trivy_conformance_test.go) for the checks in trivy-checks' checks/kubernetes access, network, resources and workloads directories.

// trivyOtherMapping: trivy-checks id -> the catalogue checks that judge the same thing.
var trivyOtherMapping = map[string][]string{}

// trivyOtherUnmapped: trivy-checks id -> why no catalogue check judges it.
var trivyOtherUnmapped = map[string]string{}

// trivyOtherDisagreements: "ID key" of a case (as the test names it) -> why the catalogue's verdict
// differs from trivy-checks' by design.
var trivyOtherDisagreements = map[string]string{}

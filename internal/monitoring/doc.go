// Package monitoring holds the tests of config/prometheus: the PrometheusRule's alerts run
// through `promtool test rules`, use only series the operator registers, and link to their
// runbook in docs/runbooks.md.
package monitoring

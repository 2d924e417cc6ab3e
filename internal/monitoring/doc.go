// Package monitoring holds the tests of config/prometheus and config/grafana: the
// PrometheusRule's alerts run through `promtool test rules`, use only series the operator
// registers, and link to their runbook in docs/runbooks.md; the Grafana dashboard loads into
// Grafana's dashboard model, and every query in it reads series and labels that a running
// operator's /metrics holds.
package monitoring

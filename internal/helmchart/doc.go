// Package helmchart holds the tests of the Helm chart, charts/soc2-operator, run with the real
// helm CLI (hack/tool.sh helm): `helm lint --strict` and `helm template` of every documented
// values combination (charts/soc2-operator/ci), the values schema refusing bad values, the
// rendered chart compared object by object with `kustomize build config/...`, `helm install` on
// a real API server, and the operator's own scan of the rendered chart.
package helmchart

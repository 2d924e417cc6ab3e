#!/usr/bin/env bash
# Builds a pinned Go tool from the Go module proxy into a cache outside the checkout, once, and
# prints the path of the binary. Heavy tools build in a throwaway module of their own, so their
# dependencies never mix with the project's go.mod.
#
#   hack/tool.sh kustomize
#   hack/tool.sh versitygw   (an S3-compatible server whose posix backend implements versioning
#                             and Object Lock, Apache-2.0; the journal's s3 store tests start it)
#   hack/tool.sh promtool    (Prometheus's promtool; `promtool test rules` unit-tests the alerts
#                             of config/prometheus; several minutes the first time)
#   hack/tool.sh helm        (the Helm CLI; the tests lint, render and install charts/soc2-operator
#                             with it)
#   hack/tool.sh krew        (kubectl's plugin manager, and validate-krew-manifest, the check
#   hack/tool.sh validate-krew-manifest   krew-index runs on a manifest: hack/krewgen's tests
#                             validate the generated manifest and install the plugin with them)
#
# Environment: SOC2_TOOLS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/tools).
set -o errexit -o nounset -o pipefail

name="${1:?usage: hack/tool.sh kustomize|versitygw|promtool|helm|krew|validate-krew-manifest}"
case "${name}" in
  kustomize)
    module=sigs.k8s.io/kustomize/kustomize/v5
    version=v5.8.2
    package=sigs.k8s.io/kustomize/kustomize/v5
    ;;
  versitygw)
    module=github.com/versity/versitygw
    version=v1.8.0
    package=github.com/versity/versitygw/cmd/versitygw
    ;;
  promtool)
    module=github.com/prometheus/prometheus
    version=v0.316.0
    package=github.com/prometheus/prometheus/cmd/promtool
    ;;
  helm)
    module=helm.sh/helm/v4
    version=v4.3.1
    package=helm.sh/helm/v4/cmd/helm
    ;;
  krew|validate-krew-manifest)
    # krew's validation package is internal to its module, and its go.mod requires
    # k8s.io/client-go v11.0.0+incompatible, which would displace the project's client-go:
    # it is built here, in a module of its own.
    module=sigs.k8s.io/krew
    version=v0.4.3
    package=sigs.k8s.io/krew/cmd/${name}
    ;;
  *)
    echo "hack/tool.sh: unknown tool ${name}" >&2
    exit 2
    ;;
esac

cache_root="${SOC2_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/tools}"
dest="${cache_root}/${name}-${version}/${name}"
if [[ -x "${dest}" ]]; then
  echo "${dest}"
  exit 0
fi

mkdir -p "${cache_root}"
exec 9>"${cache_root}/.lock-${name}"
command -v flock >/dev/null 2>&1 && flock 9
if [[ -x "${dest}" ]]; then
  echo "${dest}"
  exit 0
fi

echo "tool: building ${name} ${version} from the Go module proxy (a minute or two the first time)" >&2
start=$(date +%s)
work="$(mktemp -d "${cache_root}/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
(
  cd "${work}"
  cat > go.mod <<MOD
module soc2-operator.local/${name}-build

go 1.24

require ${module} ${version}
MOD
  cat > tools.go <<GO
//go:build tools

package tools

import _ "${package}"
GO
  go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath -o "${work}/${name}" "${package}"
)
mkdir -p "$(dirname "${dest}")"
mv "${work}/${name}" "${dest}"
echo "tool: built ${name} in $(( $(date +%s) - start ))s" >&2
echo "${dest}"

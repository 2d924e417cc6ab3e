#!/usr/bin/env bash
# Builds versitygw (an S3-compatible server with a posix backend that implements versioning and
# Object Lock; Apache-2.0) from the Go module proxy into a cache outside the checkout, once,
# keyed by version, and prints the path of the binary. The journal's s3 store tests start it.
#
#   hack/versitygw.sh
#
# Environment: SOC2_TOOLS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/tools),
#              VERSITYGW_VERSION (default v1.8.0).
set -o errexit -o nounset -o pipefail

version="${VERSITYGW_VERSION:-v1.8.0}"
module=github.com/versity/versitygw
package=github.com/versity/versitygw/cmd/versitygw

cache_root="${SOC2_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/tools}"
dest="${cache_root}/versitygw-${version}/versitygw"
if [[ -x "${dest}" ]]; then
  echo "${dest}"
  exit 0
fi

mkdir -p "${cache_root}"
exec 9>"${cache_root}/.lock-versitygw"
command -v flock >/dev/null 2>&1 && flock 9
if [[ -x "${dest}" ]]; then
  echo "${dest}"
  exit 0
fi

echo "versitygw: building ${version} from the Go module proxy (about 2 minutes the first time)" >&2
work="$(mktemp -d "${cache_root}/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
start=$(date +%s)
if ! CGO_ENABLED=0 GOBIN="${work}" GOFLAGS=-trimpath go install "${package}@${version}" >&2; then
  # Where the proxy refuses the module's version list, `go install mod@v` fails; a throwaway
  # module that requires the exact version builds the same package (see TOOLING.md).
  echo "versitygw: go install refused, building in a throwaway module" >&2
  (
    cd "${work}"
    cat > go.mod <<MOD
module soc2-operator.local/versitygw-build

go 1.24

require ${module} ${version}
MOD
    cat > tools.go <<GO
//go:build tools

package tools

import _ "${package}"
GO
    go mod tidy >&2
    CGO_ENABLED=0 go build -trimpath -o "${work}/versitygw" "${package}"
  )
fi
mkdir -p "$(dirname "${dest}")"
mv "${work}/versitygw" "${dest}"
echo "versitygw: built in $(( $(date +%s) - start ))s" >&2
echo "${dest}"

#!/usr/bin/env bash
# Builds the local control plane used by envtest, `make demo` and the kubectl e2e tests:
# kube-apiserver and kubectl from k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3.
# Everything comes from the Go module proxy; nothing is downloaded from release sites.
#
# The binaries go into a cache outside the checkout, keyed by version, and a later run
# reuses them. The script prints the directory that holds them (KUBEBUILDER_ASSETS).
#
#   hack/control-plane.sh            build if needed, print the directory
#   hack/control-plane.sh --check    exit 0 if the cache is complete, 1 if not
#   hack/control-plane.sh --path     print the directory without building
#
# Environment:
#   SOC2_CONTROL_PLANE_CACHE  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/control-plane)
#   KUBERNETES_VERSION        default v1.37.2
#   ETCD_VERSION              default v3.6.6
set -o errexit -o nounset -o pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.6}"
# Staging modules carry the same minor with major 0: v1.37.2 -> v0.37.2.
STAGING_VERSION="v0.${KUBERNETES_VERSION#v1.}"

cache_root="${SOC2_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator/control-plane}"
dest="${cache_root}/kubernetes-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}"
binaries=(kube-apiserver kubectl etcd)

complete() {
  local b
  for b in "${binaries[@]}"; do
    [[ -x "${dest}/${b}" ]] || return 1
  done
}

case "${1:-}" in
  --check) complete; exit $? ;;
  --path) echo "${dest}"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check|--path]" >&2; exit 2 ;;
esac

if complete; then
  echo "${dest}"
  exit 0
fi

log() { echo "control-plane: $*" >&2; }

mkdir -p "${cache_root}"
# One builder at a time: parallel `make test` runs wait for the first build.
exec 9>"${cache_root}/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
  if complete; then
    echo "${dest}"
    exit 0
  fi
fi

work="$(mktemp -d "${cache_root}/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
start=$(date +%s)

# --- kube-apiserver and kubectl ------------------------------------------------------------
log "building kube-apiserver and kubectl ${KUBERNETES_VERSION} from the Go module proxy (about 10-15 minutes the first time)"
mkdir -p "${work}/kubernetes"
(
  cd "${work}/kubernetes"
  kube_mod="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -n "${kube_mod}" ]] || { log "could not download k8s.io/kubernetes@${KUBERNETES_VERSION}"; exit 1; }
  go_line="$(grep -m1 '^go ' "${kube_mod}")"
  {
    echo "module soc2-operator.local/control-plane-build"
    echo
    echo "${go_line}"
    echo
    echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"
    echo
    echo "replace ("
    # k8s.io/kubernetes replaces every staging module with a path inside its own tree; a
    # module that depends on it must point each of them at the published version instead.
    sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*$|\t\1 => \1 '"${STAGING_VERSION}"'|p' "${kube_mod}"
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy >&2
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor}"
  CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags}" -o "${work}/out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags}" -o "${work}/out/kubectl" k8s.io/kubernetes/cmd/kubectl
)

# --- etcd ----------------------------------------------------------------------------------
log "building etcd ${ETCD_VERSION} from the Go module proxy"
mkdir -p "${work}/etcd"
(
  cd "${work}/etcd"
  cat > go.mod <<MOD
module soc2-operator.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
MOD
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${work}/out/etcd" go.etcd.io/etcd/server/v3
)

mkdir -p "${dest}"
for b in "${binaries[@]}"; do
  mv "${work}/out/${b}" "${dest}/${b}.tmp"
  mv "${dest}/${b}.tmp" "${dest}/${b}"
done
log "built in $(( $(date +%s) - start ))s into ${dest}"
echo "${dest}"

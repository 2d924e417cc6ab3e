#!/usr/bin/env bash
# Makes sure a command from a Debian package is installed (installing the package with apt-get
# when it is missing) and prints the command's path. Tests need a few such programs (chromium for
# the browser tests, xmllint for the JUnit schema check); CI runs on a fresh machine, so `make
# test` calls this first. It needs root (or sudo) the first time.
#
#   hack/apt.sh COMMAND PACKAGE      e.g. hack/apt.sh xmllint libxml2-utils
set -o errexit -o nounset -o pipefail

cmd="${1:?usage: hack/apt.sh COMMAND PACKAGE}"
pkg="${2:?usage: hack/apt.sh COMMAND PACKAGE}"

if command -v "${cmd}" >/dev/null 2>&1; then
  command -v "${cmd}"
  exit 0
fi
sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "hack/apt.sh: ${cmd} is missing and this is not root: apt-get install ${pkg}" >&2; exit 1; }
  sudo="sudo"
fi
exec 9>"${TMPDIR:-/tmp}/soc2-operator-apt.lock"
command -v flock >/dev/null 2>&1 && flock 9
if command -v "${cmd}" >/dev/null 2>&1; then
  command -v "${cmd}"
  exit 0
fi
echo "apt: installing Debian's ${pkg} package for ${cmd}" >&2
start=$(date +%s)
${sudo} apt-get update >&2
DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y --no-install-recommends "${pkg}" >&2
echo "apt: installed ${pkg} in $(( $(date +%s) - start ))s" >&2
command -v "${cmd}"

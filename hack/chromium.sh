#!/usr/bin/env bash
# Installs headless Chromium from Debian's `chromium` package when it is missing (the evidence
# pack's browser test opens index.html in it) and prints the path of the binary. CI runs on a
# fresh machine, so `make test` calls this first; it needs root (or sudo) the first time.
#
#   hack/chromium.sh
set -o errexit -o nounset -o pipefail

find_chromium() {
  local c
  for c in chromium chromium-browser; do
    if command -v "${c}" >/dev/null 2>&1; then
      command -v "${c}"
      return 0
    fi
  done
  return 1
}

if find_chromium; then
  exit 0
fi

sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "hack/chromium.sh: chromium is missing and this is not root: apt-get install chromium" >&2; exit 1; }
  sudo="sudo"
fi
lock="${TMPDIR:-/tmp}/soc2-operator-chromium.lock"
exec 9>"${lock}"
command -v flock >/dev/null 2>&1 && flock 9
if find_chromium; then
  exit 0
fi
echo "chromium: installing Debian's chromium package" >&2
start=$(date +%s)
${sudo} apt-get update >&2
DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y --no-install-recommends chromium >&2
echo "chromium: installed in $(( $(date +%s) - start ))s" >&2
find_chromium

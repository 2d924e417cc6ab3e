#!/usr/bin/env bash
# Installs headless Chromium from Debian's `chromium` package when it is missing (the evidence
# pack's and the dashboard's browser tests drive it) and prints the path of the binary.
#
#   hack/chromium.sh
set -o errexit -o nounset -o pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/apt.sh" chromium chromium

#!/usr/bin/env bash
# The one command that installs everything and runs the whole test suite on a fresh machine
# that has only Node.js. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != "10" ]; then
  if [ "$(id -u)" = "0" ]; then npm install -g pnpm@10 >/dev/null; fi
fi
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version | cut -d. -f1)" = "10" ]; then
  PNPM=(pnpm)
else
  PNPM=(npx --yes pnpm@10)
fi
# As root, the system tools some suites drive come from apt when missing: `ip` (iproute2) for the
# network-namespace tests, Debian's chromium for the dashboard's browser tests. (The container
# engines are installed by the engine suites themselves.) Not root: those tests say they skipped.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null; }
}
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  command -v ip >/dev/null 2>&1 || apt_install iproute2
  command -v chromium >/dev/null 2>&1 || apt_install chromium
fi
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" test

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
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" test

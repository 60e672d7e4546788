#!/usr/bin/env bash
# The README demo, one command on a fresh Linux machine with only Node.js (20.19 or newer):
# installs pnpm 10 and the workspace, and builds, when needed; then starts 3 managers and 2
# workers on localhost (separate `swarmkit node start` processes, runtime `process`), deploys a web
# service through the routing mesh, scales it, rolls out an update, kills the leader and shows the
# cluster recover (examples/demo/demo.mjs). Ctrl-C stops everything it started and removes its state.
#
#   bash scripts/demo.sh         # the demo; it waits for Ctrl-C at the end
#   bash scripts/demo.sh --ci    # (or DEMO_CI=1) every step checked, then exit: 0, or 1 naming the failed step
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { printf '==> %s\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || fail "Node.js 20.19 or newer is needed (node not found)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || fail "Node.js 20.19 or newer is needed (this is $(node --version))"

# What is built: every workspace package the CLI loads, and the CLI's bin.
built=true
for pkg in api raft store pki network engine-adapter orchestrator agent core cli; do
  [ -f "packages/$pkg/dist/index.js" ] || built=false
done
[ -f packages/cli/dist/bin.js ] || built=false
installed=true
[ -d node_modules ] && [ -d examples/demo/node_modules ] || installed=false

if [ "$installed" = false ] || [ "$built" = false ]; then
  pnpm_major() { "$@" --version 2>/dev/null | cut -d. -f1; }
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm_major pnpm)" = "10" ]; then
    PNPM=(pnpm)
  else
    phase "installing pnpm 10 (npm install -g pnpm@10)"
    if npm install -g pnpm@10 >/dev/null 2>&1 && command -v pnpm >/dev/null 2>&1 && [ "$(pnpm_major pnpm)" = "10" ]; then
      PNPM=(pnpm)
    else
      phase "no global install possible: using npx pnpm@10"
      PNPM=(npx --yes pnpm@10)
    fi
  fi
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if [ "$installed" = false ]; then
    phase "installing the workspace (pnpm install --frozen-lockfile)"
    "${PNPM[@]}" install --frozen-lockfile >"$log" 2>&1 || { cat "$log" >&2; fail "pnpm install failed"; }
  fi
  if [ "$built" = false ]; then
    phase "building the packages (pnpm build, a few minutes)"
    "${PNPM[@]}" build >"$log" 2>&1 || { cat "$log" >&2; fail "pnpm build failed"; }
  fi
  rm -f "$log"
  trap - EXIT
fi

# Sources edited after the last build are not rebuilt (a shared work tree changes all the time): say so.
stale=""
for pkg in api raft store pki network engine-adapter orchestrator agent core cli; do
  if [ -n "$(find "packages/$pkg/src" -newer "packages/$pkg/dist/index.js" -name '*.ts' -print -quit 2>/dev/null)" ]; then
    stale="$stale $pkg"
  fi
done
[ -z "$stale" ] || phase "note: sources changed since the last build (${stale# }): run pnpm build if the demo misbehaves"

phase "starting the demo"
exec node examples/demo/demo.mjs "$@"

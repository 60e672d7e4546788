#!/usr/bin/env bash
# Consumer test: uses the packages the way an application does after `npm install`.
#
# Packs every built package with `pnpm pack`, installs the tarballs with npm into a fresh
# TypeScript project in a temporary folder (third-party dependencies come from the npm registry),
# then
#   1. compiles a small program with strict tsc (module NodeNext) against the shipped .d.ts,
#   2. runs the compiled program with node,
#   3. bundles the program with esbuild (platform node, format esm) and runs the bundle from a
#      folder that holds nothing else — no node_modules, no .proto file — so a schema read from
#      disk at run time fails here with ENOENT.
# Each run prints one JSON line; the test fails unless all three give the expected one.
#
# Usage: pnpm build && bash scripts/consumer-test.sh   (KEEP=1 keeps the temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

for pkg in packages/*/; do
  if [ ! -f "$pkg/dist/index.js" ]; then
    echo "consumer-test: $pkg has no dist/ — run pnpm build first" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/swarmkit-consumer.XXXXXX")
if [ "${KEEP:-}" = "1" ]; then echo "consumer-test: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/tarballs" "$work/app/src" "$work/run"

echo "--- pack"
for pkg in packages/*/; do
  (cd "$pkg" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
ls "$work/tarballs"

# The toolchain versions the workspace itself uses.
dev() { node -e "process.stdout.write(require('./package.json').devDependencies[process.argv[1]])" "$1"; }
ts_version=$(dev typescript)
types_node_version=$(dev @types/node)
esbuild_version=$(dev esbuild)

cat >"$work/app/package.json" <<'EOF'
{ "name": "swarmkit-consumer", "version": "0.0.0", "private": true, "type": "module" }
EOF
cat >"$work/app/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2023",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "skipLibCheck": false,
    "outDir": "dist",
    "rootDir": "src"
  },
  "include": ["src"]
}
EOF
cat >"$work/app/src/main.ts" <<'EOF'
import { cryptoRandom, decodeSpec, encodeSpec, systemClock, validateServiceSpec, withServiceDefaults } from '@swarmkit-ts/api'
import { FakeRuntime, type LogLine } from '@swarmkit-ts/engine-adapter'
import { Orchestrator, serviceProgress } from '@swarmkit-ts/orchestrator'
import { DnsServer, NetworkAllocator, NetworkControl, ServiceResolver } from '@swarmkit-ts/network'
import { MemoryRaftStorage, decodeMessage, encodeMessage, type Message } from '@swarmkit-ts/raft'
import { MemoryStore } from '@swarmkit-ts/store'
import { Resolver } from 'node:dns/promises'

// api: the protobuf codec (its schema must be inside the JavaScript).
const spec = withServiceDefaults({
  annotations: { name: 'web' },
  mode: { replicated: { replicas: 3 } },
  task: { container: { image: 'busybox', command: ['httpd', '-f'] } },
})
validateServiceSpec(spec)
const decoded = decodeSpec('service', encodeSpec('service', spec))

// store: create and get.
const store = new MemoryStore()
const serviceId = '0123456789abcdefghijklmno'
await store.update((tx) => tx.services.create({ id: serviceId, spec }))
const stored = store.view((tx) => tx.services.get(serviceId))

// orchestrator: the replicated orchestrator creates the service's tasks in slots 1..3; a job
// schedule is validated with croner (bundled with api).
const running = new Orchestrator({ store, clock: systemClock, random: cryptoRandom }).start()
let slots: number[] = []
for await (const p of serviceProgress(store, serviceId)) {
  slots = p.slots.map((s) => s.slot)
  if (slots.length === 3) break
}
await running.stop()
validateServiceSpec({
  annotations: { name: 'nightly' },
  mode: { replicatedJob: { schedule: { cron: '0 3 * * *', timeZone: 'Europe/Paris' } } },
  task: { container: { image: 'busybox' } },
})

// raft: memory storage and the message codec, with a member id above 2^63 (exact uint64).
const storage = new MemoryRaftStorage()
storage.append([{ term: 1, index: 1, type: 'normal', data: new Uint8Array([42]) }])
const heartbeat: Message = { type: 'heartbeat', from: 2n ** 63n + 5n, to: 7n, term: 3, commit: 1, context: new Uint8Array(0) }
const echoed = decodeMessage(encodeMessage(heartbeat))

// engine-adapter: FakeRuntime create / start / wait / logs.
const runtime = new FakeRuntime()
const containerId = await runtime.create({ image: 'busybox:fake', command: ['sh', '-c', 'echo hello; echo world; exit 3'] })
await runtime.start(containerId)
const exitCode = await runtime.wait(containerId)
const lines: string[] = []
for await (const l of runtime.logs(containerId) as AsyncIterable<LogLine>) lines.push(l.line)
await runtime.close()

// network: a network from the pool, the allocator gives the service its VIP there, and the DNS
// server (dns-packet bundled) answers node:dns with it.
const netStore = new MemoryStore()
const effects = { store: netStore, clock: systemClock, random: cryptoRandom }
await new NetworkControl(effects).create({ annotations: { name: 'front' } })
const allocator = new NetworkAllocator(effects).start()
await netStore.update((tx) =>
  tx.services.create({
    id: 'apiapiapiapiapiapiapiapia',
    spec: withServiceDefaults({ annotations: { name: 'api' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox' }, networks: [{ target: 'front' }] } }),
  }),
)
const resolver = new ServiceResolver({ store: netStore })
resolver.start()
const dns = new DnsServer({ resolver, address: '127.0.0.1', port: 0, scope: ['front'] })
const { port } = await dns.start()
const client = new Resolver()
client.setServers([`127.0.0.1:${port}`])
let vip: string[] = []
for (let i = 0; i < 200 && vip.length === 0; i++) {
  vip = await client.resolve4('api').catch(() => [])
  if (vip.length === 0) await new Promise((r) => setTimeout(r, 10))
}
await dns.stop()
await resolver.stop()
await allocator.stop()

console.log(JSON.stringify({
  vip,
  replicas: 'replicated' in decoded.mode ? decoded.mode.replicated.replicas : null,
  parallelism: decoded.update?.parallelism,
  stored: stored?.spec.annotations.name,
  slots,
  lastIndex: storage.lastIndex(),
  from: echoed.from.toString(),
  exitCode,
  lines,
}))
EOF
expected='{"vip":["10.0.0.2"],"replicas":3,"parallelism":1,"stored":"web","slots":[1,2,3],"lastIndex":1,"from":"9223372036854775813","exitCode":3,"lines":["hello","world"]}'

echo "--- npm install (tarballs, typescript@$ts_version, @types/node@$types_node_version, esbuild@$esbuild_version)"
cd "$work/app"
npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/*.tgz \
  "typescript@$ts_version" "@types/node@$types_node_version" "esbuild@$esbuild_version"

check() { # name, output
  if [ "$2" != "$expected" ]; then
    printf 'consumer-test: %s printed\n  %s\nexpected\n  %s\n' "$1" "$2" "$expected" >&2
    exit 1
  fi
  echo "ok   $1"
}

echo "--- tsc (strict, NodeNext)"
npx --no-install tsc -p tsconfig.json
check "node dist/main.js" "$(node dist/main.js)"

echo "--- esbuild bundle (platform node, format esm), run from an empty folder"
# - CommonJS dependencies (grpc-js, protobufjs) bundled into an ES module call require() for Node
#   built-ins: the banner gives the bundle a require (esbuild's recipe for format esm on node).
# - dockerode stays external: it brings native addons (ssh2, cpu-features) that no bundler can
#   inline, and engine-adapter loads it only when a DockerRuntime is used, so this program (a
#   FakeRuntime) runs without it. An application using DockerRuntime ships dockerode beside it.
npx --no-install esbuild src/main.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --banner:js="import { createRequire as __swarmkitCreateRequire } from 'node:module'; const require = __swarmkitCreateRequire(import.meta.url);" \
  --external:dockerode --outfile="$work/run/app.mjs"
ls "$work/run"
check "node app.mjs (bundled)" "$(cd "$work/run" && node app.mjs)"

echo "--- a store-only project: api, raft and store installed without any gRPC package"
mkdir -p "$work/store-only/src"
cd "$work/store-only"
cp "$work/app/tsconfig.json" .
echo '{ "name": "swarmkit-store-only", "version": "0.0.0", "private": true, "type": "module" }' >package.json
cat >src/main.ts <<'EOF'
import { withServiceDefaults } from '@swarmkit-ts/api'
import { MemoryRaftStorage } from '@swarmkit-ts/raft'
import { MemoryStore } from '@swarmkit-ts/store'

const store = new MemoryStore()
const spec = withServiceDefaults({ annotations: { name: 'db' }, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox' } } })
await store.update((tx) => tx.services.create({ id: 'abcdefghijklmnopqrstuvwxy', spec }))
const stored = store.view((tx) => tx.services.get('abcdefghijklmnopqrstuvwxy'))
console.log(JSON.stringify({ stored: stored?.spec.annotations.name, lastIndex: new MemoryRaftStorage().lastIndex() }))
EOF
npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/swarmkit-ts-{api,raft,store}-*.tgz \
  "typescript@$ts_version" "@types/node@$types_node_version"
if [ -e node_modules/@grpc ]; then
  echo "consumer-test: installing api, raft and store brought a gRPC package: $(ls node_modules/@grpc)" >&2
  exit 1
fi
npx --no-install tsc -p tsconfig.json
out=$(node dist/main.js)
if [ "$out" != '{"stored":"db","lastIndex":0}' ]; then
  echo "consumer-test: the store-only program printed $out" >&2
  exit 1
fi
echo "ok   store-only: no @grpc/* installed, strict tsc (skipLibCheck false), node dist/main.js"

echo "consumer-test: passed (node_modules: $(du -sh "$work/app/node_modules" | cut -f1) with every package and the toolchain," \
  "$(du -sh "$work/store-only/node_modules" | cut -f1) store-only with typescript)"
cd "$repo"

/**
 * Issue 21's scale benchmarks, on `Cluster.simulate` (the whole cluster in this process on a
 * virtual clock: managers with Raft on a memory network and memory storage, every worker an
 * `Agent` on a `FakeRuntime`, every loop on one `ManualClock`):
 *
 * 1. `small`: 1,000 workers, 100 services × 1,000 replicas — wall, CPU and virtual time from the
 *    first create to every task RUNNING; peak RSS and the heap held once they run.
 * 2. `large` (only with `BENCH_SIM_1M=1`: minutes and ~10 GB): 10,000 workers, 1,000 services ×
 *    1,000 replicas (target < 60 s wall on 2 cores, moonshot 30 s), same figures.
 * 3. `drain`: 10,000 workers running `BENCH_DRAIN_TASKS` tasks (default 100,000; after `large`,
 *    its 1,000,000), 1,000 of them set to `drain` at once — time until every task is RUNNING on
 *    the other 9,000 and none is left on a drained node.
 *
 * One thread (the simulator is deterministic: no worker threads). Run it with `BENCH_ONLY=simulate
 * pnpm bench` (bench/run.ts). Knobs: `BENCH_SIM_ROWS` (`small,large,drain`: which rows; default `small,drain`, plus `large` with `BENCH_SIM_1M=1`),
 * `BENCH_MANAGERS` (default 3; `BENCH_LARGE_MANAGERS` for the large row, default the same),
 * `BENCH_SMALL` / `BENCH_LARGE` (`workers×services×replicas`, e.g. `200×10×1000`),
 * `BENCH_SNAPSHOT_INTERVAL` (the managers' Raft snapshot interval), `BENCH_DRAIN_WORKERS` (10,000), `BENCH_DRAINED` (1,000), `BENCH_PROGRESS_MS` (real ms between
 * progress lines, 10,000). Node flags go after the entry; the large row needs {@link LARGE_NODE_FLAGS}
 * (`pnpm --filter @swarmkit-ts/core bench:sim-1m` runs it with them). Writes bench-results/core-simulate.json.
 *
 * @module
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { TaskState } from '@swarmkit-ts/api'
import type { ServiceSpec } from '@swarmkit-ts/api'
import { printTable, writeBenchResults, Stopwatch } from '../../../scripts/test-support/bench-report.ts'
import { simulateCluster } from '../src/testing.ts'
import type { SimulatedCluster } from '../src/testing.ts'

const ROWS_ENV = process.env['BENCH_SIM_ROWS'] ?? (process.env['BENCH_SIM_1M'] === '1' ? 'small,large,drain' : 'small,drain')
const PICKED = new Set(ROWS_ENV.split(','))
const MANAGERS = Number(process.env['BENCH_MANAGERS'] ?? 3)
const LARGE_MANAGERS = Number(process.env['BENCH_LARGE_MANAGERS'] ?? MANAGERS)
const DRAIN_WORKERS = Number(process.env['BENCH_DRAIN_WORKERS'] ?? 10_000)
const DRAINED = Number(process.env['BENCH_DRAINED'] ?? 1_000)
const DRAIN_TASKS = Number(process.env['BENCH_DRAIN_TASKS'] ?? 100_000)
/** The managers' Raft snapshot interval (entries), when set; else the simulator's default. */
const SNAPSHOT_INTERVAL = process.env['BENCH_SNAPSHOT_INTERVAL'] === undefined ? undefined : Number(process.env['BENCH_SNAPSHOT_INTERVAL'])
const PROGRESS_MS = Number(process.env['BENCH_PROGRESS_MS'] ?? 10_000)
/**
 * Node flags for the large row: a heap of up to 18 GB (it holds ~10 GB); semi-spaces of 256 MiB
 * (at 64 MiB, 2,900 scavenges took 130 s of a 491 s run; 256 measured the same or slightly
 * better); and a heap limit that doubles after each full collection. V8's own growing factor
 * fell to its minimum of 1.1 on this heap, so a full mark of 5–10 GB (each 10–30 s of the main
 * thread) started after every ~10 % of growth.
 */
export const LARGE_NODE_FLAGS = '--max-old-space-size=18000 --max-semi-space-size=256 --heap-growing-percent=100'
/** The heap limit below which the large row refuses to start (it would run out of heap). */
const LARGE_MIN_HEAP_BYTES = 12 * 2 ** 30

/** Virtual time any one phase may take before the run counts as failed. */
const GUARD_VIRTUAL_MS = 3_600_000

/** A cluster's shape: workers, and services of `replicas` each. */
interface Shape {
  readonly workers: number
  readonly services: number
  readonly replicas: number
}

function shape(env: string | undefined, fallback: Shape): Shape {
  if (env === undefined) return fallback
  const [workers, services, replicas] = env.split(/[x×]/).map(Number)
  if (workers === undefined || services === undefined || replicas === undefined || [workers, services, replicas].some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`expected workers×services×replicas, got ${JSON.stringify(env)}`)
  }
  return { workers, services, replicas }
}

const SMALL = shape(process.env['BENCH_SMALL'], { workers: 1_000, services: 100, replicas: 1_000 })
const LARGE = shape(process.env['BENCH_LARGE'], { workers: 10_000, services: 1_000, replicas: 1_000 })

setFlagsFromString('--expose-gc')
const gcFn = runInNewContext('gc') as () => void
const log = (s: string): void => void process.stderr.write(`${s}\n`)
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20)} MiB`

/** Heap in use after full collections, in bytes. */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gcFn()
  return process.memoryUsage().heapUsed
}

/** Peak resident set size of the process so far, in bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024

interface Row {
  readonly benchmark: string
  readonly load: string
  readonly wallMs: number
  readonly cpuMs: number
  readonly virtualMs: number
  readonly peakRssBytes: number
  readonly heapBytes: number
  readonly target?: string
  readonly note?: string
}
const rows: Row[] = []

const spec = (name: string, replicas: number): ServiceSpec => ({
  annotations: { name },
  mode: { replicated: { replicas } },
  task: { container: { image: 'busybox:fake' } },
})

/** When a wait's condition came true: real and CPU ms, virtual ms, since the wait began. */
interface Reached {
  readonly ms: number
  readonly cpuMs: number
  readonly virtualMs: number
}

/**
 * Moves the cluster until `progress()` reaches `total` and `extra()` holds. Both scan the
 * leader's store, so they run at most every 500 ms of real time (and never more than a tenth of
 * it): the condition depends only on the store, so it came true at the last change of the store
 * before the check that saw it — the times of that change are returned (from `watch` and from
 * virtual time `v0`), whatever ran after.
 */
async function waitFor(sim: SimulatedCluster, watch: Stopwatch, v0: number, progress: () => number, total: number, what: string, extra: () => boolean = () => true): Promise<Reached> {
  let seen = -1n
  let checked = -1n
  let checkAt = 0
  let reportAt = performance.now() + PROGRESS_MS
  let last = 0
  let done = false
  let changed: Reached = { ...watch.read(), virtualMs: 0 }
  await sim.runUntil(
    () => {
      const version = sim.store().version
      if (version !== seen) {
        seen = version
        changed = { ...watch.read(), virtualMs: sim.now() - v0 }
      }
      const now = performance.now()
      if (version !== checked && now >= checkAt) {
        checked = version
        last = progress()
        done = last >= total && extra()
        const took = performance.now() - now
        checkAt = performance.now() + Math.max(500, 10 * took)
      }
      if (now >= reportAt) {
        reportAt = now + PROGRESS_MS
        log(`  … ${what}: ${fmt(last)} of ${fmt(total)} after ${fmt(watch.read().ms)} ms (${fmt(sim.now() - v0)} virtual ms)`)
      }
      return done
    },
    { maxVirtualMs: GUARD_VIRTUAL_MS },
  )
  return changed
}

/** Tasks observed RUNNING in the leader's store (a count of the state index: O(1), where `find(…).length` made an array of up to 1,000,000 every check). */
const running = (sim: SimulatedCluster): number => sim.store().view((tx) => tx.tasks.count({ state: TaskState.RUNNING }))

/** Starts a cluster of `s.workers`, creates its services at once, and waits for every task to run. */
async function createRow(name: string, managers: number, s: Shape, target?: string): Promise<SimulatedCluster> {
  const total = s.services * s.replicas
  const load = `${managers} managers, ${fmt(s.workers)} workers, ${fmt(s.services)} services × ${fmt(s.replicas)}`
  const heap0 = heapUsed()
  const boot = new Stopwatch()
  const raft = SNAPSHOT_INTERVAL === undefined ? {} : { raft: { snapshotInterval: SNAPSHOT_INTERVAL } }
  const sim = await simulateCluster({ managers, workers: s.workers, seed: 21, trace: false, ...raft })
  const booted = boot.read()
  const heapNodes = heapUsed()
  log(`${name}: ${load} — cluster up in ${fmt(booted.ms)} ms (${fmt(booted.cpuMs)} CPU ms), heap ${mb(heapNodes - heap0)}`)
  const entries0 = sim.raftStatus().commitIndex
  const watch = new Stopwatch()
  const v0 = sim.now()
  const creates: Promise<unknown>[] = []
  for (let i = 0; i < s.services; i++) creates.push(sim.services.create(spec(`svc-${i}`, s.replicas)))
  await Promise.all(creates)
  const r = await waitFor(sim, watch, v0, () => running(sim), total, 'RUNNING')
  const virtualMs = r.virtualMs
  const peak = peakRss()
  const heap = heapUsed()
  const offHeap = process.memoryUsage().arrayBuffers
  const entries = Number(sim.raftStatus().commitIndex - entries0)
  log(`${name}: all ${fmt(total)} RUNNING in ${fmt(r.ms)} ms (${fmt(r.cpuMs)} CPU ms, ${fmt(virtualMs)} virtual ms, ${fmt(entries)} Raft entries)`)
  rows.push({
    benchmark: `create → every task RUNNING (${name})`,
    load,
    wallMs: r.ms,
    cpuMs: r.cpuMs,
    virtualMs,
    peakRssBytes: peak,
    heapBytes: heap - heap0,
    ...(target === undefined ? {} : { target }),
    note: `${fmt(entries)} Raft entries; ArrayBuffers ${mb(offHeap)}; cluster up: ${fmt(booted.ms)} ms; heap per worker ${fmt((heapNodes - heap0) / s.workers)} B, per task ${fmt((heap - heapNodes) / total)} B`,
  })
  return sim
}

/** Drains `DRAINED` of the cluster's workers at once and waits until every task runs elsewhere. */
async function drainRow(sim: SimulatedCluster, total: number, managers: number): Promise<void> {
  const workers = sim.members().filter((m) => m.role === 'worker')
  const drained = new Set(workers.slice(0, DRAINED).map((w) => w.id))
  const load = `${managers} managers, ${fmt(workers.length)} workers, ${fmt(total)} tasks; ${fmt(drained.size)} drained`
  const watch = new Stopwatch()
  const v0 = sim.now()
  await Promise.all([...drained].map((id) => sim.nodes.setAvailability(id, 'drain')))
  const placed = (): number =>
    sim.store().view((tx) => tx.tasks.find({ state: TaskState.RUNNING }).filter((t) => t.desiredState === TaskState.RUNNING && t.nodeId !== undefined && !drained.has(t.nodeId)).length)
  const onDrained = (): number => sim.store().view((tx) => tx.tasks.find().filter((t) => t.nodeId !== undefined && drained.has(t.nodeId) && t.status.state <= TaskState.RUNNING).length)
  const r = await waitFor(sim, watch, v0, placed, total, 'RUNNING off the drained workers', () => onDrained() === 0)
  const virtualMs = r.virtualMs
  log(`drain: every task RUNNING elsewhere in ${fmt(r.ms)} ms (${fmt(r.cpuMs)} CPU ms, ${fmt(virtualMs)} virtual ms)`)
  rows.push({ benchmark: 'drain → every task RUNNING elsewhere', load, wallMs: r.ms, cpuMs: r.cpuMs, virtualMs, peakRssBytes: peakRss(), heapBytes: heapUsed() })
}

/** Runs the rows `BENCH_SIM_ROWS` picks, prints the table, writes the JSON. */
export async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  const flags = process.execArgv.join(' ')
  log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)}; rows ${[...PICKED].join(', ')}; node flags: ${flags === '' ? 'none' : flags}`)
  if (PICKED.has('large') && getHeapStatistics().heap_size_limit < LARGE_MIN_HEAP_BYTES) {
    throw new Error(`the large row holds ~10 GB of heap; this process may have ${mb(getHeapStatistics().heap_size_limit)}. Run it with node flags ${LARGE_NODE_FLAGS} (pnpm --filter @swarmkit-ts/core bench:sim-1m)`)
  }
  if (PICKED.has('small')) await (await createRow('small', MANAGERS, SMALL)).close()
  let drainDone = false
  if (PICKED.has('large')) {
    const sim = await createRow('large', LARGE_MANAGERS, LARGE, '< 60,000 ms wall (moonshot 30,000)')
    if (PICKED.has('drain')) {
      await drainRow(sim, LARGE.services * LARGE.replicas, LARGE_MANAGERS)
      drainDone = true
    }
    await sim.close()
  }
  if (PICKED.has('drain') && !drainDone) {
    const services = Math.max(1, Math.round(DRAIN_TASKS / 1_000))
    const s: Shape = { workers: DRAIN_WORKERS, services, replicas: Math.round(DRAIN_TASKS / services) }
    const sim = await createRow('before the drain', MANAGERS, s)
    await drainRow(sim, s.services * s.replicas, MANAGERS)
    await sim.close()
  }
  const load1 = loadavg()[0] ?? 0
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end; node flags: ${flags === '' ? 'none' : flags}`)
  printTable([
    ['benchmark', 'load', 'wall ms', 'CPU ms', 'virtual ms', 'peak RSS', 'heap', 'target', 'note'],
    ...rows.map((r) => [r.benchmark, r.load, fmt(r.wallMs), fmt(r.cpuMs), fmt(r.virtualMs), mb(r.peakRssBytes), mb(r.heapBytes), r.target ?? '', r.note ?? '']),
  ])
  const json = { package: '@swarmkit-ts/core', benchmark: 'simulate', startedAt, cpu, cores: availableParallelism(), node: process.version, nodeFlags: process.execArgv, loadAverageAtStart: load0, loadAverageAtEnd: load1, rows }
  log(`wrote ${await writeBenchResults('core-simulate.json', json)}`)
}

/**
 * `pnpm --filter @swarmkit-ts/orchestrator bench`: the figures of issue 14 — a replicated
 * service of 100,000 replicas (create, scale to 0, scale back, heap), 1,000 services × 100
 * replicas created at once, and a rolling update of 10,000 tasks (parallelism 0, monitor 0)
 * through the TaskDriver. In-memory store, no Raft, ManualClock. Each row is run BENCH_RUNS
 * times (default 3) in a fresh store; the table shows the median and the range. Prints the CPU
 * and the load average, and writes bench-results/orchestrator.json at the repository root.
 *
 * A baseline row measures the same number of task creates written straight to the store, so the
 * create rows can be read as a ratio to it (the machine is shared: real time varies with its load).
 *
 * BENCH_REPLICAS scales the large service and the 1,000-service row (default 100,000 tasks);
 * BENCH_UPDATE the rolling update (default 10,000 tasks); BENCH_ONLY=large|many|update runs one
 * row group.
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { measureLargeService, measureManyServices, measureRollingUpdate, measureStoreBaseline } from './measure.ts'
import type { Timing } from './measure.ts'
import { printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'
import type { MedianRow } from '../../../scripts/test-support/bench-report.ts'

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3)
const REPLICAS = Number(process.env['BENCH_REPLICAS'] ?? 100_000)
const UPDATE = Number(process.env['BENCH_UPDATE'] ?? 10_000)
const ONLY = process.env['BENCH_ONLY']
const NODES = 100
const SERVICES = 1_000

type Row = MedianRow
const rows: Row[] = []
const log = (s: string): void => void process.stderr.write(`${s}\n`)

function stats(values: readonly number[]): { median: number; min: number; max: number } {
  const v = [...values].sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2
  return { median, min: v[0] as number, max: v[v.length - 1] as number }
}

function row(benchmark: string, load: string, values: readonly number[], unit: string, extra: { target?: string; note?: string } = {}): void {
  rows.push({ benchmark, load, ...stats(values), unit, target: extra.target, note: extra.note })
}

/** A row of real milliseconds, with the process's CPU milliseconds as a second row (what the shared machine's load does not inflate). */
function timed(benchmark: string, load: string, values: readonly Timing[], extra: { target?: string; note?: string } = {}): void {
  row(benchmark, load, values.map((v) => v.ms), 'ms', extra)
  row(`  the same, CPU time of the process`, load, values.map((v) => v.cpuMs), 'CPU ms')
}

async function repeat<T>(label: string, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < RUNS; i++) {
    log(`${label}: run ${i + 1}/${RUNS}`)
    out.push(await fn())
  }
  return out
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${availableParallelism()} cores, load average ${load0.toFixed(2)}`)

  let floor: number | undefined
  if (ONLY === undefined || ONLY === 'large' || ONLY === 'many') {
    const r = await repeat('store baseline', () => measureStoreBaseline(REPLICAS, NODES))
    floor = stats(r.map((x) => x.cpuMs)).median
    timed('baseline: the same tasks written straight to the store (no orchestrator)', `${REPLICAS.toLocaleString('en-US')} tasks, 200 per transaction`, r)
  }
  const overFloor = (values: readonly Timing[]): string =>
    floor === undefined ? '' : `; ${(stats(values.map((v) => v.cpuMs)).median / floor).toFixed(1)}× the baseline's CPU`

  if (ONLY === undefined || ONLY === 'large') {
    const r = await repeat('large service', () => measureLargeService(REPLICAS, NODES))
    const load = `${REPLICAS.toLocaleString('en-US')} replicas, ${NODES} nodes`
    timed('create a replicated service: until every task exists', load, r.map((x) => x.create), {
      target: '< 1,500 ms',
      note: `${Math.round(REPLICAS / (stats(r.map((x) => x.create.ms)).median / 1000)).toLocaleString('en-US')} tasks/s at the median${overFloor(r.map((x) => x.create))}`,
    })
    row('heap used once every task exists (after full GC)', load, r.map((x) => x.heapBytes / 2 ** 20), 'MiB', {
      note: `${Math.round(stats(r.map((x) => x.heapPerTaskBytes)).median)} bytes per task over the heap before the service`,
    })
    timed('scale it to 0: until every task has desired REMOVE', load, r.map((x) => x.scaleDown))
    timed('scale it back: until every task exists again', load, r.map((x) => x.scaleUp))
  }

  if (ONLY === undefined || ONLY === 'many') {
    const perService = Math.max(1, Math.round(REPLICAS / SERVICES))
    const r = await repeat('many services', () => measureManyServices(SERVICES, perService, NODES))
    timed(`${SERVICES.toLocaleString('en-US')} services created at once: until every task exists`, `${SERVICES} × ${perService} replicas, ${NODES} nodes`, r, {
      note: `${Math.round((SERVICES * perService) / (stats(r.map((x) => x.ms)).median / 1000)).toLocaleString('en-US')} tasks/s at the median${overFloor(r)}`,
    })
  }

  if (ONLY === undefined || ONLY === 'update') {
    const r = await repeat('rolling update', () => measureRollingUpdate(UPDATE, NODES))
    const driver = stats(r.map((x) => x.driverMs)).median
    timed('rolling update, parallelism 0, monitor 0: until COMPLETED', `${UPDATE.toLocaleString('en-US')} tasks, ${NODES} nodes, TaskDriver`, r.map((x) => x.update), {
      note: `TaskDriver steps ${r.map((x) => x.driverSteps).join('/')}, ${Math.round(driver)} ms of the median inside the driver`,
    })
  }

  const load1 = loadavg()[0] ?? 0
  const fmt = (v: number, unit: string): string => (unit === 'MiB' ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'))
  const table = [
    ['benchmark', 'load', 'median', 'min–max', 'unit', 'target', 'note'],
    ...rows.map((r) => [r.benchmark, r.load, fmt(r.median, r.unit), `${fmt(r.min, r.unit)}–${fmt(r.max, r.unit)}`, r.unit, r.target ?? '', r.note ?? '']),
  ]
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end, ${RUNS} runs per row`)
  printTable(table)

  const json = {
    package: '@swarmkit-ts/orchestrator',
    startedAt,
    cpu,
    cores: availableParallelism(),
    node: process.version,
    loadAverageAtStart: load0,
    loadAverageAtEnd: load1,
    runs: RUNS,
    rows,
  }
  log(`wrote ${await writeBenchResults('orchestrator.json', json)}`)
}

await main()

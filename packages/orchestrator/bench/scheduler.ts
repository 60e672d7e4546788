/**
 * The scheduler benchmark, in the shapes of SwarmKit's own (manager/scheduler
 * BenchmarkScheduler*): N ready nodes and M PENDING tasks are in the store, the Scheduler runs,
 * and the time is taken from the commit of the tasks until every one of them is ASSIGNED in the
 * store — the 50 ms debounce, the placement and the batched writes included, as in SwarmKit's
 * (one discarded 1k × 10k run first warms the JIT up).
 * Real time (the system clock) drives the debounce. Median of 3 per row; the CPU model and the
 * ratio to SwarmKit's figure for that CPU are printed; writes bench-results/scheduler.json at
 * the repository root.
 *
 * Run: node ../../scripts/bench-built.mjs bench/scheduler.ts (after building the dependencies);
 * environment: SCHEDULER_BENCH_ONLY=<row id>, SCHEDULER_BENCH_RUNS=N, SCHEDULER_BENCH_BIG=0 (leaves out
 * the row of 1,000,000 tasks onto 10,000 nodes — one run, with memory — which runs by default).
 */
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { NodeAvailability, NodeRole, NodeState, TaskState, silentLogger, systemClock } from '@swarmkit-ts/api'
import type { Task } from '@swarmkit-ts/api'
import { MemoryStore } from '@swarmkit-ts/store'
import { SeededRandom } from '@swarmkit-ts/testkit'
import { Scheduler } from '../src/index.ts'
import { gc, heapUsed } from './measure.ts'
import { printTable, writeBenchResults } from '../../../scripts/test-support/bench-report.ts'

const ONLY = process.env.SCHEDULER_BENCH_ONLY
const RUNS = Number(process.env.SCHEDULER_BENCH_RUNS ?? 3)
const BIG = process.env.SCHEDULER_BENCH_BIG !== '0'

/** A row: SwarmKit's shape and its figures (tasks/s) on the two CPUs it was run on. */
interface Shape {
  readonly id: string
  readonly nodes: number
  readonly tasks: number
  /** Every task its own group (own service, no spec version), or all one service and spec version. */
  readonly grouped: boolean
  /** Only 1 node in 3 passes the tasks' constraint. */
  readonly oneInThree?: boolean
  readonly swarmkit: { readonly epyc: number; readonly xeon: number } | undefined
}

const SHAPES: readonly Shape[] = [
  { id: '1k-10k-own', nodes: 1_000, tasks: 10_000, grouped: false, swarmkit: { epyc: 4_500, xeon: 12_000 } },
  { id: '1k-100k-own', nodes: 1_000, tasks: 100_000, grouped: false, swarmkit: { epyc: 3_700, xeon: 10_100 } },
  { id: '1k-100k-own-filter', nodes: 1_000, tasks: 100_000, grouped: false, oneInThree: true, swarmkit: { epyc: 2_750, xeon: 8_700 } },
  { id: '100k-1k-own', nodes: 100_000, tasks: 1_000, grouped: false, swarmkit: { epyc: 31, xeon: 206 } },
  { id: '1k-100k-one', nodes: 1_000, tasks: 100_000, grouped: true, swarmkit: { epyc: 7_100, xeon: 16_400 } },
  { id: '100k-100k-one', nodes: 100_000, tasks: 100_000, grouped: true, swarmkit: { epyc: 6_600, xeon: 15_100 } },
]
const BIG_SHAPE: Shape = { id: '10k-1m-one', nodes: 10_000, tasks: 1_000_000, grouped: true, swarmkit: undefined }

const pad = (prefix: string, i: number): string => prefix + String(i).padStart(25 - prefix.length, '0')
const log = (msg: string): void => void process.stderr.write(`${msg}\n`)

/** The CPU, and which of SwarmKit's columns it compares to. */
function cpuInfo(): { model: string; family: string; modelNumber: string; column: 'epyc' | 'xeon' } {
  const text = readFileSync('/proc/cpuinfo', 'utf8')
  const field = (name: string): string => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
  const model = field('model name')
  return { model, family: field('cpu family'), modelNumber: field('model'), column: /EPYC|AMD/i.test(model) ? 'epyc' : 'xeon' }
}

interface RunResult {
  readonly ms: number
  readonly cpuMs: number
  readonly heapMiB: number
}

/** One run of `shape` on a fresh store. */
async function run(shape: Shape): Promise<RunResult> {
  const store = new MemoryStore({ clock: systemClock })
  await store.batch((b) => {
    for (let i = 0; i < shape.nodes; i += 100) {
      b.update((tx) => {
        for (let j = i; j < Math.min(shape.nodes, i + 100); j++) {
          tx.nodes.create({
            id: pad('node', j),
            spec: {
              annotations: { name: `n${String(j)}`, ...(shape.oneInThree === true && j % 3 === 0 ? { labels: { tier: 'front' } } : {}) },
              desiredRole: NodeRole.WORKER,
              membership: 'accepted',
              availability: NodeAvailability.ACTIVE,
            },
            description: { hostname: `n${String(j)}`, platform: { os: 'linux', architecture: 'x86_64' } },
            status: { state: NodeState.READY },
            role: NodeRole.WORKER,
          })
        }
      })
    }
  })
  const scheduler = new Scheduler({ store, clock: systemClock, random: new SeededRandom(1), logger: silentLogger })
  scheduler.start()
  const spec: Task['spec'] = shape.oneInThree === true ? { container: { image: 'x' }, placement: { constraints: ['node.labels.tier==front'] } } : { container: { image: 'x' } }
  let assigned = 0
  let done: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (done = resolve))
  const watch = store.watch({ kinds: ['task'], where: (ev) => ev.action === 'update' && ev.object.status.state === TaskState.ASSIGNED }, { queueLimit: 10_000_000 })
  const counting = (async () => {
    for await (const ev of watch) {
      if (ev.action === 'commit') continue
      if (++assigned === shape.tasks) done()
    }
  })()
  gc()
  const now = systemClock.now()
  await store.batch((b) => {
    for (let i = 0; i < shape.tasks; i += 100) {
      b.update((tx) => {
        for (let j = i; j < Math.min(shape.tasks, i + 100); j++) {
          const serviceId = shape.grouped ? pad('svc', 0) : pad('svc', j)
          tx.tasks.create({
            id: pad('task', j),
            spec,
            ...(shape.grouped ? { specVersion: { index: 1n } } : {}),
            serviceId,
            slot: j + 1,
            nodeId: '',
            annotations: { name: `t${String(j)}` },
            serviceAnnotations: { name: serviceId },
            status: { timestamp: now, state: TaskState.PENDING, message: 'pending task scheduling' },
            desiredState: TaskState.RUNNING,
          })
        }
      })
    }
  })
  // Timed from the tasks' commit, as SwarmKit's benchmark starts its timer in the creating transaction.
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  await finished
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const heapMiB = heapUsed() / 2 ** 20
  watch.close()
  await counting
  await scheduler.stop()
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, heapMiB }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

async function main(): Promise<void> {
  const cpu = cpuInfo()
  const load0 = loadavg()[0] ?? 0
  const startedAt = new Date().toISOString()
  const shapes = [...SHAPES, ...(BIG ? [BIG_SHAPE] : [])].filter((s) => ONLY === undefined || s.id === ONLY)
  // One discarded run first, so that the first row is not the one paying for the JIT's warm-up.
  await run(SHAPES[0] as Shape)
  const rows = []
  for (const shape of shapes) {
    const runs: RunResult[] = []
    const n = shape === BIG_SHAPE ? 1 : RUNS
    for (let i = 0; i < n; i++) {
      runs.push(await run(shape))
      log(`${shape.id} run ${String(i + 1)}: ${runs[i]?.ms.toFixed(0) ?? ''} ms`)
    }
    const ms = median(runs.map((r) => r.ms))
    const perSecond = shape.tasks / (ms / 1000)
    const reference = shape.swarmkit?.[cpu.column]
    rows.push({
      shape: shape.id,
      nodes: shape.nodes,
      tasks: shape.tasks,
      grouping: shape.grouped ? 'one service and spec version' : 'every task its own group',
      filter: shape.oneInThree === true ? '1 node in 3 passes' : 'none',
      runsMs: runs.map((r) => Math.round(r.ms)),
      medianMs: Math.round(ms),
      cpuMsAtMedian: Math.round(median(runs.map((r) => r.cpuMs))),
      heapMiBAfter: Math.round(median(runs.map((r) => r.heapMiB))),
      placementsPerSecond: Math.round(perSecond),
      swarmkitPerSecond: reference ?? null,
      ratio: reference === undefined ? null : Number((perSecond / reference).toFixed(2)),
    })
  }
  const load1 = loadavg()[0] ?? 0
  console.log(`${cpu.model} (family ${cpu.family}, model ${cpu.modelNumber}): compared with SwarmKit's ${cpu.column === 'epyc' ? 'AMD EPYC (day 1)' : 'Intel Xeon (day 2)'} column; ${String(availableParallelism())} cores, Node ${process.version}, load ${load0.toFixed(2)} → ${load1.toFixed(2)}`)
  const table = [
    ['shape (nodes × tasks)', 'median ms', 'runs ms', 'placements/s', 'SwarmKit/s', 'ratio', 'heap MiB'],
    ...rows.map((r) => [
      `${r.nodes.toLocaleString('en-US')} × ${r.tasks.toLocaleString('en-US')}, ${r.grouping}${r.filter === 'none' ? '' : `, ${r.filter}`}`,
      r.medianMs.toLocaleString('en-US'),
      r.runsMs.join('/'),
      r.placementsPerSecond.toLocaleString('en-US'),
      r.swarmkitPerSecond?.toLocaleString('en-US') ?? '—',
      r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
      String(r.heapMiBAfter),
    ]),
  ]
  printTable(table)
  const json = { package: '@swarmkit-ts/orchestrator', benchmark: 'scheduler', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, runs: RUNS, rows }
  log(`wrote ${await writeBenchResults('scheduler.json', json)}`)
}

await main()

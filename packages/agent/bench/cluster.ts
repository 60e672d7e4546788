/**
 * `pnpm --filter @swarmkit-ts/agent bench`: the figures of issue 17, on the in-process cluster
 * (test/cluster/in-process-cluster.ts: store, orchestrator with scheduler, network allocator,
 * dispatcher, and an `Agent` on a `FakeRuntime` per node, each linked through
 * `inProcessDispatcher` — every message through the wire codec — on one ManualClock):
 *
 * 1. 1,000 nodes, one replicated service of 100,000 replicas: real time from the create to every
 *    task RUNNING (target < 20 s), then a rolling update of all of them with parallelism 1,000
 *    (other update settings at their defaults: monitor 5 s, stop-first): real and virtual time;
 *    heap per node (idle, registered) and per task (RUNNING, all layers).
 * 2. 10,000 nodes heartbeating for 10 virtual minutes: CPU time per heartbeat.
 *
 * The agents keep their tasks in memory (`MemoryTaskDb`): 100,000 fsynced files would measure
 * the disk. Virtual time moves to the next timer once a turn of the event loop left nothing to
 * run (heartbeats in 10 ms chunks). The create's row gives the process's CPU time and each
 * thread's own (from /proc/thread-self on Linux). Knobs: BENCH_NODES, BENCH_REPLICAS,
 * BENCH_PARALLELISM, BENCH_HB_NODES, BENCH_HB_MINUTES, BENCH_ONLY=create|heartbeat, BENCH_UPDATE=0
 * (no rolling update), BENCH_PROGRESS_MS (real ms between progress lines, 10,000),
 * BENCH_AGENT_THREADS=n (default 2; 0 puts everything on one thread: the create and update with the agents in n `worker_threads` Workers of
 * the same process, each running a share of the nodes — test/cluster/threaded-cluster.ts, linked
 * to the dispatcher over a MessagePort through the wire codec — instead of on the manager's
 * thread; the heap rows then add the agents' threads' heaps to the main one; the heartbeat
 * benchmark stays on one thread). Writes bench-results/agent-cluster.json.
 * Node flags go after the entry: `node ../../scripts/bench-built.mjs bench/cluster.ts --max-semi-space-size=64`
 * (a larger young generation: the create runs with GC at ~40% of the main thread; see docs/benchmarks/agent.md).
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { isMainThread, workerData } from 'node:worker_threads'
import { NodeState, TaskState, taskStateName, UpdateState } from '@swarmkit-ts/api'
import type { ServiceControl } from '@swarmkit-ts/orchestrator'
import type { MemoryStore } from '@swarmkit-ts/store'
import type { ManualClock } from '@swarmkit-ts/testkit'
import { printTable, writeBenchResults, Stopwatch } from '../../../scripts/test-support/bench-report.ts'
import { AGENT_THREAD, runAgentThread, threadCpuMs } from '../test/cluster/agent-thread.ts'
import type { AgentThreadInit } from '../test/cluster/agent-thread.ts'
import { InProcessCluster, clusterServiceSpec, withEnv } from '../test/cluster/in-process-cluster.ts'
import { turn } from '../test/cluster/settle.ts'
import { ThreadedCluster } from '../test/cluster/threaded-cluster.ts'

const NODES = Number(process.env['BENCH_NODES'] ?? 1_000)
const REPLICAS = Number(process.env['BENCH_REPLICAS'] ?? 100_000)
const PARALLELISM = Number(process.env['BENCH_PARALLELISM'] ?? 1_000)
const HB_NODES = Number(process.env['BENCH_HB_NODES'] ?? 10_000)
const HB_MINUTES = Number(process.env['BENCH_HB_MINUTES'] ?? 10)
const ONLY = process.env['BENCH_ONLY']
const UPDATE = process.env['BENCH_UPDATE'] !== '0'
// The agents run on other machines in a real cluster: by default they run here in two worker
// threads of this process, off the manager's thread (BENCH_AGENT_THREADS=0: all on one thread).
const THREADS = Number(process.env['BENCH_AGENT_THREADS'] ?? 2)
const THREAD = THREADS > 0
/** Where the agents ran, for the report. */
const where = THREAD ? `agents in ${THREADS} worker thread${THREADS === 1 ? '' : 's'}` : "agents on the manager's thread"
/** Real milliseconds between progress lines. */
const PROGRESS_MS = Number(process.env['BENCH_PROGRESS_MS'] ?? 10_000)
/** The ManualClock's start in the cluster helper. */
const START_MS = 1_700_000_000_000

setFlagsFromString('--expose-gc')
const gcFn = runInNewContext('gc') as () => void
const log = (s: string): void => void process.stderr.write(`${s}\n`)
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** Heap in use after full collections, in bytes. */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gcFn()
  return process.memoryUsage().heapUsed
}

interface Row {
  readonly benchmark: string
  readonly load: string
  readonly value: number
  readonly unit: string
  readonly target?: string
  readonly note?: string
}
const rows: Row[] = []

/**
 * Runs the cluster until `done()` (checked whenever the store moved), moving virtual time to
 * the next timer whenever a turn of the event loop left the store as it was. Throws when
 * `guardMs` of virtual time pass first.
 */
async function runUntil(c: InProcessCluster, done: () => boolean, guardMs: number, progress: () => string): Promise<void> {
  const until = c.clock.now() + guardMs
  let checked = -1n
  let checkAt = 0
  let reportAt = performance.now() + PROGRESS_MS
  for (;;) {
    const now = performance.now()
    if (now > reportAt) {
      reportAt += PROGRESS_MS
      log(`  … ${fmt(c.clock.now() - START_MS)} virtual ms: ${progress()}`)
    }
    const before = c.store.version
    await turn()
    const quiet = c.store.version === before
    // `done()` scans the store: asked once the store is quiet, or every 20 ms while it moves (not
    // on every turn, which would make the wait quadratic in the number of tasks).
    if (c.store.version !== checked && (quiet || now >= checkAt)) {
      checked = c.store.version
      checkAt = now + 20
      if (done()) return
    }
    if (quiet) {
      const due = c.clock.nextDueAt()
      if (due === undefined || due > until) throw new Error(`not done after ${guardMs} virtual ms`)
      c.clock.advance(Math.max(0, due - c.clock.now()))
    }
  }
}

/** What the create and update need of a cluster, on one thread or two. */
interface BenchCluster {
  readonly store: MemoryStore
  readonly clock: ManualClock
  readonly services: ServiceControl
  /** Runs until `done()`, logging `progress()` every 10 s of real time. */
  runUntil(done: () => boolean, guardMs: number, progress: () => string): Promise<void>
  /** The heap in use on every thread of the cluster, after full collections. */
  heapUsed(): Promise<number>
  /** CPU ms so far of the manager's thread, then of each agents' thread. */
  threadCpuMs(): Promise<number[]>
  close(): Promise<void>
}

/** `done` that logs `progress()` every 10 s of real time when asked. */
function reporting(c: { readonly clock: ManualClock }, done: () => boolean, progress: () => string): () => boolean {
  let reportAt = performance.now() + PROGRESS_MS
  return () => {
    if (performance.now() > reportAt) {
      reportAt += PROGRESS_MS
      log(`  … ${fmt(c.clock.now() - START_MS)} virtual ms: ${progress()}`)
    }
    return done()
  }
}

async function startBenchCluster(): Promise<BenchCluster> {
  if (!THREAD) {
    const c = await InProcessCluster.start({ nodes: NODES, seed: 17, taskDb: 'memory', watchStates: false })
    return { store: c.store, clock: c.clock, services: c.services, runUntil: (d, g, p) => runUntil(c, d, g, p), heapUsed: () => Promise.resolve(heapUsed()), threadCpuMs: () => Promise.resolve([threadCpuMs()]), close: () => c.close() }
  }
  // The agents' thread runs this same module (bundled by bench-built.mjs; through tsx, the test entry).
  const self = new URL(import.meta.url)
  const ts = self.pathname.endsWith('.ts')
  const c = await ThreadedCluster.start({
    nodes: NODES,
    threads: THREADS,
    seed: 17,
    workerUrl: ts ? new URL('../test/cluster/agent-thread-main.ts', self) : self,
    // V8 flags (--max-semi-space-size) are the process's, for every thread; a Worker refuses them in execArgv.
    execArgv: ts ? ['--conditions=@swarmkit-ts/source'] : [],
  })
  return {
    store: c.store,
    clock: c.clock,
    services: c.services,
    runUntil: (d, g, p) => c.runUntil(reporting(c, d, p), g),
    heapUsed: async () => heapUsed() + (await c.agentsHeapUsed()),
    threadCpuMs: async () => [threadCpuMs(), ...(await c.agentsCpuMs())],
    close: () => c.close(),
  }
}

async function benchCreateAndUpdate(): Promise<void> {
  const load = `${fmt(NODES)} nodes, ${fmt(REPLICAS)} replicas`
  const heap0 = heapUsed()
  const c = await startBenchCluster()
  const heapNodes = await c.heapUsed()
  log(`${NODES} nodes registered (${where})`)
  const runningCount = (): number => c.store.view((tx) => tx.tasks.find({ state: TaskState.RUNNING }).length)

  const spec = { ...clusterServiceSpec('big', REPLICAS), update: { parallelism: PARALLELISM } }
  const cpu0 = await c.threadCpuMs()
  const createdAtUs = process.hrtime.bigint() / 1000n
  const create = new Stopwatch()
  const t0 = c.clock.now()
  const svc = await c.services.create(spec)
  const states = [TaskState.NEW, TaskState.PENDING, TaskState.ASSIGNED, TaskState.PREPARING, TaskState.RUNNING] as const
  const progress = (): string =>
    c.store.view((tx) => states.map((state) => `${fmt(tx.tasks.find({ state }).length)} ${taskStateName(state)}`).join(', ')) + ` (${fmt(performance.now() - create.t0)} ms)`
  await c.runUntil(() => runningCount() === REPLICAS, 3_600_000, progress)
  const created = create.read()
  // For --cpu-prof: the window of the create on the profiles' clock (monotonic µs).
  log(`create window (monotonic µs): ${createdAtUs}–${process.hrtime.bigint() / 1000n}`)
  const createVirtual = c.clock.now() - t0
  const perThread = (await c.threadCpuMs()).map((ms, i) => fmt(ms - (cpu0[i] ?? 0))).join(' + ')
  log(`all ${REPLICAS} RUNNING in ${fmt(created.ms)} ms`)
  const heapTasks = await c.heapUsed()
  rows.push({ benchmark: `create → every task RUNNING (${where})`, load, value: created.ms, unit: 'ms', target: '< 20,000', note: `${fmt(created.cpuMs)} CPU ms (threads: manager's ${THREAD ? '+ agents\' ' : ''}${perThread}); ${fmt(createVirtual)} virtual ms` })
  rows.push({ benchmark: 'heap per node (registered, idle)', load, value: (heapNodes - heap0) / NODES, unit: 'bytes', note: 'store node, dispatcher session, agent, runtime, link' })
  rows.push({ benchmark: 'heap per task (RUNNING)', load, value: (heapTasks - heapNodes) / REPLICAS, unit: 'bytes', note: 'store task, assignment, agent task manager, container' })

  if (!UPDATE) return await c.close()
  const update = new Stopwatch()
  const t1 = c.clock.now()
  await c.services.update(svc.id, withEnv(spec, ['V=2']))
  const updated = (): boolean => {
    const s = c.store.view((tx) => tx.services.get(svc.id))
    return s?.updateStatus?.state === UpdateState.COMPLETED && runningCount() === REPLICAS
  }
  const newRunning = (): number => c.store.view((tx) => tx.tasks.find({ serviceId: svc.id })).filter((t) => t.status.state === TaskState.RUNNING && t.spec.container?.env?.[0] === 'V=2').length
  await c.runUntil(updated, 2 * 3_600_000, () => `${fmt(newRunning())} updated tasks RUNNING`)
  const u = update.read()
  rows.push({
    benchmark: `rolling update, parallelism ${fmt(PARALLELISM)} (monitor 5 s, stop-first; ${where})`,
    load,
    value: u.ms,
    unit: 'ms',
    note: `${fmt(u.cpuMs)} CPU ms; ${fmt((c.clock.now() - t1) / 1000, 1)} virtual s`,
  })
  log(`rolling update done in ${fmt(u.ms)} ms`)
  await c.close()
}

async function benchHeartbeats(): Promise<void> {
  const c = await InProcessCluster.start({ nodes: HB_NODES, seed: 5, taskDb: 'memory', watchStates: false })
  log(`${HB_NODES} nodes registered`)
  const beats0 = c.heartbeats()
  const watch = new Stopwatch()
  const end = c.clock.now() + HB_MINUTES * 60_000
  while (c.clock.now() < end) {
    c.clock.advance(Math.min(10, end - c.clock.now()))
    await turn()
  }
  const r = watch.read()
  const beats = c.heartbeats() - beats0
  const down = c.store.view((tx) => tx.nodes.find()).filter((n) => n.status.state !== NodeState.READY).length
  rows.push({
    benchmark: 'CPU time per heartbeat (agent → link → dispatcher → agent)',
    load: `${fmt(HB_NODES)} nodes, ${HB_MINUTES} virtual min`,
    value: (r.cpuMs * 1000) / beats,
    unit: 'CPU µs',
    note: `${fmt(beats)} heartbeats in ${fmt(r.ms)} ms real, ${fmt(r.cpuMs)} CPU ms; nodes not READY at the end: ${down}`,
  })
  await c.close()
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  log(`${cpu}, ${availableParallelism()} cores, load average ${load0.toFixed(2)}; ${where}`)
  if (ONLY === undefined || ONLY === 'create') await benchCreateAndUpdate()
  if (ONLY === undefined || ONLY === 'heartbeat') await benchHeartbeats()
  const load1 = loadavg()[0] ?? 0
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`)
  printTable([['benchmark', 'load', 'value', 'unit', 'target', 'note'], ...rows.map((r) => [r.benchmark, r.load, fmt(r.value, r.unit === 'CPU µs' ? 1 : 0), r.unit, r.target ?? '', r.note ?? ''])])
  const json = { package: '@swarmkit-ts/agent', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, rows }
  log(`wrote ${await writeBenchResults('agent-cluster.json', json)}`)
}

const thread = workerData as { readonly kind?: string; readonly init: AgentThreadInit } | null
if (!isMainThread && thread?.kind === AGENT_THREAD) await runAgentThread(thread.init)
else await main()

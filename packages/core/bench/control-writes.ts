/**
 * Issue 18, benchmark 2: control-plane writes through the public API. Service updates per second
 * through the control gRPC API of a 3-manager cluster (three manager-binary processes, mutual
 * TLS, a manager client certificate), against etcd 3.4 (three processes, mutual TLS on client
 * and peer traffic too unless BENCH_ETCD_TLS=0) driven through its gRPC API in the same run; both
 * clients are @grpc/grpc-js with one channel, both aimed at the leader. 1, 64 and 256 closed-loop clients; each updates its own service (a label change
 * carrying the version it read: no conflicts) or puts its own key (a value the size of the
 * encoded service spec). Prints a table and writes bench-results/core-control.json.
 *
 * Before the measured rows each side gets an unmeasured warm-up: BENCH_WARMUP_SECONDS (default 3)
 * at the highest concurrency, and at least WARMUP_MIN_CLIENTS — the same load on both, so that
 * what is timed is a running cluster (Node's JIT has compiled the hot paths; Go's etcd has nothing
 * to warm but its caches), not the first seconds after start. (At one client, 3 s are ~1,500
 * updates: a run of `BENCH_CONCURRENCY=1` timed partly unoptimized code.) Then each row gets
 * BENCH_ROW_WARMUP_SECONDS (default 1) unmeasured at its own concurrency, on both sides: a lone
 * client takes paths that many never do (a leader's light writes yield to I/O first), and the
 * first of those calls ran unoptimized inside the measured window.
 *
 * Rounds: BENCH_CONTROL_ROUNDS (default 3) times both sides afresh, alternating which goes first;
 * the summary gives each row's median over the rounds and the median of the rounds' ratios (with
 * their range) — one 3 s window on this VM varies by ±20–30 %, at one client more.
 *
 * Env: BENCH_SECONDS (window per row, default 3), BENCH_CONCURRENCY (e.g. `1,64,256`),
 * BENCH_CONTROL_SIDES (`ours,etcd`), BENCH_CONTROL_VIA (`leader` default, or `follower`: our
 * clients talk to a follower, which forwards), BENCH_CONTROL_PROFILE=dir (the managers run with
 * `--cpu-prof --cpu-prof-dir=dir`; stopped cleanly so the profiles are written), BENCH_CONTROL_NODE_FLAGS
 * (more node flags for the managers, space-separated, e.g. `--prof --logfile=/tmp/v8-%p.log`),
 * BENCH_CONTROL_STDOUT_DIR=dir (each manager's stdout to dir/<name>.log, e.g. with `--trace-gc`), BENCH_ETCD_TLS=0
 * (etcd on plain TCP), BENCH_CONTROL_BINARY=file (run this manager-binary bundle instead of bundling the
 * sources: A/B runs against another commit). A partial run (BENCH_CONCURRENCY, BENCH_CONTROL_SIDES or BENCH_CONTROL_VIA set)
 * writes no JSON.
 */
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { encodeSpec, type ServiceSpec } from '@swarmkit-ts/api'
import { etcdAvailable, startEtcdCluster } from '../../raft/bench/etcd-peer.ts'
import { runLoad, type LoadResult } from '../../raft/bench/load.ts'
import { ManagerProcesses } from './control-cluster.ts'
import { makeEtcdTls, opensslAvailable } from './etcd-tls.ts'

const windowMs = Number(process.env.BENCH_SECONDS ?? 3) * 1000
const warmupMs = Number(process.env.BENCH_WARMUP_SECONDS ?? 3) * 1000
const rowWarmupMs = Number(process.env.BENCH_ROW_WARMUP_SECONDS ?? 1) * 1000
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,64,256').split(',').map(Number)
/** The warm-up's clients: the highest concurrency measured, and at least this many. */
const WARMUP_MIN_CLIENTS = 64
const WARMUP_CLIENTS = Math.max(WARMUP_MIN_CLIENTS, ...CONCURRENCY)
const SIDES = new Set((process.env.BENCH_CONTROL_SIDES ?? 'ours,etcd').split(','))
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_CONTROL_ROUNDS ?? 3)) || 1)
const VIA = process.env.BENCH_CONTROL_VIA === 'follower' ? 'follower' : 'leader'
const PROFILE_DIR = process.env.BENCH_CONTROL_PROFILE
/** More node flags for the managers (space-separated), e.g. `--prof --logfile=/tmp/v8-%p.log`. */
const NODE_FLAGS = (process.env.BENCH_CONTROL_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')
/** etcd with mutual TLS on client and peer traffic, as our managers (BENCH_ETCD_TLS=0: plain TCP). */
const ETCD_TLS = process.env.BENCH_ETCD_TLS !== '0'

/** One row of the table. */
interface Row {
  /** The round it was measured in (1…); absent in the summary rows. */
  readonly round?: number
  readonly benchmark: string
  readonly load: string
  readonly opsPerSec: number
  readonly p50Ms?: number
  readonly p99Ms?: number
  /** CPU time per operation (µs), summed over the client and the three members. */
  readonly cpuUsPerOp?: number
  readonly loadAverage: number
  readonly note?: string
}

const log = (s: string): void => void process.stderr.write(`${s}\n`)

/** The spec of client `i`'s service, generation `gen` (the label each update changes). */
export function benchServiceSpec(i: number, gen: number): ServiceSpec {
  return {
    annotations: { name: `bench-${i}`, labels: { team: 'bench', gen: String(gen) } },
    mode: { replicated: { replicas: 0 } },
    task: { container: { image: 'busybox:fake', command: ['sh', '-c', 'sleep 3600'], env: ['MODE=bench', `CLIENT=${i}`] } },
  }
}

/** User and system CPU time of a process in clock ticks (1/100 s), from /proc; 0 elsewhere. */
function cpuTicks(pid: number): { user: number; system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return { user: Number(fields[11] ?? 0), system: Number(fields[12] ?? 0) }
  } catch {
    return { user: 0, system: 0 }
  }
}

/**
 * Counters of a process that a busy machine does not skew, unlike CPU time: its read and write
 * system calls (all threads, from /proc/pid/io) and the times its main thread went to sleep
 * (voluntary context switches: event-loop waits); zeros where /proc lacks them.
 */
function wakeCounters(pid: number): { syscalls: number; sleeps: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? 0)
    return { syscalls: field(io, 'syscr') + field(io, 'syscw'), sleeps: field(status, 'voluntary_ctxt_switches') }
  } catch {
    return { syscalls: 0, sleeps: 0 }
  }
}

/** Runs `load` and measures the CPU (and the wake-ups) of the client and `pids` over it. */
async function measured(pids: readonly number[], load: () => Promise<LoadResult>): Promise<{ r: LoadResult; cpuUsPerOp: number; loadAverage: number }> {
  const all = [process.pid, ...pids]
  const before = all.map(cpuTicks)
  const wakesBefore = all.map(wakeCounters)
  const loadAverage = loadavg()[0] ?? 0
  const r = await load()
  const wakes = all.map((pid, i) => {
    const now = wakeCounters(pid)
    const per = (n: number): string => (n / Math.max(1, r.ops)).toFixed(1)
    return `${per(now.syscalls - (wakesBefore[i]?.syscalls ?? 0))}/${per(now.sleeps - (wakesBefore[i]?.sleeps ?? 0))}`
  })
  log(`    read+write syscalls / main-thread sleeps per op: client ${wakes.join(', members ')}`)
  const us = (ticks: number): number => (ticks * 10_000) / Math.max(1, r.ops)
  const perProcess = all.map((pid, i) => {
    const now = cpuTicks(pid)
    return { user: us(now.user - (before[i]?.user ?? 0)), system: us(now.system - (before[i]?.system ?? 0)) }
  })
  log(`    CPU µs/op (user+system): client ${perProcess.map((p) => `${p.user.toFixed(0)}+${p.system.toFixed(0)}`).join(', members ')}`)
  return { r, cpuUsPerOp: perProcess.reduce((a, p) => a + p.user + p.system, 0), loadAverage }
}

/** One side's rows of one round, by concurrency. */
type SideRun = Map<number, { readonly row: Row; readonly r: LoadResult }>

async function runOurs(round: number): Promise<SideRun> {
  const out: SideRun = new Map()
  log(`swarmkit-ts: 3 manager processes (bundled manager-binary), control gRPC over mTLS to the ${VIA}`)
  const nodeFlags = [...(PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]), ...NODE_FLAGS]
  const cluster = await ManagerProcesses.start(nodeFlags)
  try {
    const leader = await cluster.leader()
    const target = VIA === 'leader' ? leader : (cluster.managers.find((m) => m !== leader) ?? leader)
    const client = await cluster.client(target)
    try {
      const n = WARMUP_CLIENTS
      const ids: string[] = []
      for (let i = 0; i < n; i++) ids.push((await client.services.create(benchServiceSpec(i, 0))).id)
      const versions = new Map<number, bigint>()
      const update = async (w: number, seq: number): Promise<void> => {
        const s = await client.services.update(ids[w] ?? '', benchServiceSpec(w, seq + 1), { version: versions.get(w) ?? 0n })
        versions.set(w, s.meta.version.index)
      }
      const readVersions = async (c: number): Promise<void> => {
        for (let w = 0; w < c; w++) versions.set(w, (await client.services.get(ids[w] ?? '')).meta.version.index)
      }
      if (warmupMs > 0) {
        await readVersions(n)
        // Generations far from the measured rows' (seq + 1): every warm-up write changes the label too.
        await runLoad(n, warmupMs, (w, seq) => update(w, seq + 1_000_000_000))
      }
      for (const c of CONCURRENCY) {
        await readVersions(c)
        if (rowWarmupMs > 0) await runLoad(c, rowWarmupMs, (w, seq) => update(w, seq + 2_000_000_000))
        const { r, cpuUsPerOp, loadAverage } = await measured(cluster.pids(), () =>
          runLoad(c, windowMs, update),
        )
        log(`  ${c} clients: ${r.perSecond.toFixed(0)} updates/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${cpuUsPerOp.toFixed(0)} CPU µs/op`)
        const row: Row = { round, benchmark: OURS_NAME, load: `${c} clients`, opsPerSec: r.perSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuUsPerOp, loadAverage }
        out.set(c, { row: r.errors > 0 ? { ...row, note: `${r.errors} errors` } : row, r })
      }
    } finally {
      client.close()
    }
  } finally {
    await cluster.stop()
  }
  return out
}

async function runEtcd(round: number, valueBytes: number): Promise<SideRun> {
  const out: SideRun = new Map()
  const tlsDir = ETCD_TLS && opensslAvailable() ? await mkdtemp(join(tmpdir(), 'skts-etcd-tls-')) : undefined
  const tls = tlsDir === undefined ? undefined : makeEtcdTls(tlsDir)
  const security = tls === undefined ? 'no TLS' : 'mTLS'
  log(`etcd 3.4: 3 members, puts of ${valueBytes}-byte values through its gRPC API (etcd3 client, ${security} to the leader and between members)`)
  const etcd = await startEtcdCluster(tls === undefined ? {} : { tls })
  try {
    const value = new Uint8Array(valueBytes).fill(118)
    if (warmupMs > 0) await runLoad(WARMUP_CLIENTS, warmupMs, (w) => etcd.put(`bench-${w}`, value))
    for (const c of CONCURRENCY) {
      if (rowWarmupMs > 0) await runLoad(c, rowWarmupMs, (w) => etcd.put(`bench-${w}`, value))
      const { r, cpuUsPerOp, loadAverage } = await measured(etcdPids(), () => runLoad(c, windowMs, (w) => etcd.put(`bench-${w}`, value)))
      log(`  ${c} clients: ${r.perSecond.toFixed(0)} puts/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${cpuUsPerOp.toFixed(0)} CPU µs/op`)
      const row: Row = { round, benchmark: `etcd 3.4, 3 members, puts (${security}, to the leader)`, load: `${c} clients`, opsPerSec: r.perSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuUsPerOp, loadAverage }
      out.set(c, { row: r.errors > 0 ? { ...row, note: `${r.errors} errors` } : row, r })
    }
  } finally {
    await etcd.stop()
    if (tlsDir !== undefined) await rm(tlsDir, { recursive: true, force: true })
  }
  return out
}

const OURS_NAME = `swarmkit-ts, 3 managers, service updates (mTLS, to the ${VIA})`

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/**
 * The rows of every round (each etcd row noted with its round's ratio), then one summary row per
 * side and concurrency: medians over the rounds, and on etcd's the median of the rounds' ratios.
 */
function tabulate(runs: readonly { readonly ours?: SideRun; readonly etcd?: SideRun }[]): Row[] {
  const rows: Row[] = []
  for (const run of runs) {
    for (const c of CONCURRENCY) {
      const o = run.ours?.get(c)
      const e = run.etcd?.get(c)
      if (o !== undefined) rows.push(o.row)
      if (e !== undefined) {
        const ratio = o === undefined || e.r.perSecond === 0 ? undefined : o.r.perSecond / e.r.perSecond
        rows.push(ratio === undefined || e.row.note !== undefined ? e.row : { ...e.row, note: `swarmkit-ts / etcd = ${ratio.toFixed(2)}×` })
      }
    }
  }
  if (runs.length < 2) return rows
  const summary = (side: 'ours' | 'etcd', c: number): Row | undefined => {
    const got = runs.map((run) => run[side]?.get(c)).filter((x) => x !== undefined)
    const first = got[0]
    if (first === undefined) return undefined
    const med = (f: (row: Row) => number | undefined): number => median(got.map((g) => f(g.row) ?? Number.NaN))
    const row: Row = { benchmark: first.row.benchmark, load: `${c} clients`, opsPerSec: med((r) => r.opsPerSec), p50Ms: med((r) => r.p50Ms), p99Ms: med((r) => r.p99Ms), cpuUsPerOp: med((r) => r.cpuUsPerOp), loadAverage: med((r) => r.loadAverage) }
    if (side === 'ours') return row
    const ratios = runs.flatMap((run) => {
      const o = run.ours?.get(c)
      const e = run.etcd?.get(c)
      return o === undefined || e === undefined || e.r.perSecond === 0 ? [] : [o.r.perSecond / e.r.perSecond]
    })
    if (ratios.length === 0) return row
    return { ...row, note: `swarmkit-ts / etcd = ${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×)` }
  }
  for (const c of CONCURRENCY) {
    for (const side of ['ours', 'etcd'] as const) {
      const row = summary(side, c)
      if (row !== undefined) rows.push(row)
    }
  }
  return rows
}

/** The pids of the running etcd processes (children of this process), from /proc. */
function etcdPids(): number[] {
  try {
    const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
    return children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'etcd'
      } catch {
        return false
      }
    })
  } catch {
    return []
  }
}

function printTable(rows: readonly Row[]): void {
  const fmt = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d))
  const table = [
    ['round', 'benchmark', 'load', 'ops/s', 'p50 ms', 'p99 ms', 'CPU µs/op', 'load avg', 'note'],
    ...rows.map((r) => [r.round === undefined ? 'median' : String(r.round), r.benchmark, r.load, fmt(r.opsPerSec), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpuUsPerOp), fmt(r.loadAverage, 2), r.note ?? '']),
  ]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? []
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))
}

/** Runs the benchmark: our side, then etcd's; prints the table; writes bench-results/core-control.json. */
export async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const load0 = loadavg()[0] ?? 0
  const valueBytes = encodeSpec('service', benchServiceSpec(255, 1000)).byteLength
  log(`${cpu}, ${availableParallelism()} cores, load average ${load0.toFixed(2)}`)
  const etcdHere = SIDES.has('etcd') && (await etcdAvailable())
  const runs: { ours?: SideRun; etcd?: SideRun }[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    if (ROUNDS > 1) log(`round ${round} of ${ROUNDS}`)
    const run: { ours?: SideRun; etcd?: SideRun } = {}
    // Alternate which side goes first, so that neither always runs on a machine the other warmed.
    const order = round % 2 === 1 ? (['ours', 'etcd'] as const) : (['etcd', 'ours'] as const)
    for (const side of order) {
      if (side === 'ours' && SIDES.has('ours')) run.ours = await runOurs(round)
      if (side === 'etcd' && etcdHere) run.etcd = await runEtcd(round, valueBytes)
    }
    runs.push(run)
  }
  const rows = tabulate(runs)
  if (SIDES.has('etcd') && !etcdHere) rows.push({ benchmark: 'etcd 3.4 (peer)', load: '-', opsPerSec: Number.NaN, loadAverage: loadavg()[0] ?? 0, note: 'etcd not installed (apt-get install etcd-server); no ratio' })
  const load1 = loadavg()[0] ?? 0
  console.log(`${cpu}, ${availableParallelism()} cores, Node ${process.version}, load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`)
  printTable(rows)
  // A partial run does not replace the full results.
  if (process.env.BENCH_CONCURRENCY !== undefined || process.env.BENCH_CONTROL_SIDES !== undefined || VIA !== 'leader') return
  const out = new URL('../../../bench-results/', import.meta.url)
  await mkdir(out, { recursive: true })
  const file = new URL('core-control.json', out)
  const json = { package: '@swarmkit-ts/core', benchmark: 'control-writes', startedAt, cpu, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, loadAverageAtEnd: load1, valueBytes, windowMs, warmupMs, rounds: ROUNDS, rows }
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`)
  log(`wrote ${file.pathname}`)
}

// Run alone (tsx, or bundled by scripts/bench-built.mjs); bench/run.ts imports it and calls main().
const entry = basename(process.argv[1] ?? '')
if (entry === 'control-writes.ts' || entry === '.control-writes.built.mjs') await main()

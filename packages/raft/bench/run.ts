/**
 * `pnpm bench` for @swarmkit-ts/raft: every figure of the issue in one run, with the peer (a
 * 3-member etcd 3.4 cluster) measured in the same run under the same load where it applies.
 * Prints a table and writes bench-results/raft.json at the repository root.
 *
 * BENCH_SECONDS scales every measurement window (default 3 s). BENCH_ONLY picks sections, comma
 * separated: `core` (RawNode), `in-process`, `process` (3 processes), `etcd` (default: all).
 * BENCH_CONCURRENCY overrides the proposer counts of the 3-process and etcd rows (e.g. `256`).
 * BENCH_STATS=1 prints, after each 3-process row, where each process's time went (CPU, event
 * loop, GC, fsync); BENCH_GRACEFUL=1 stops the members gracefully at the end (so that
 * `KV_NODE_EXEC_ARGV=--cpu-prof` profiles get written); BENCH_CPU=1 prints the CPU time per
 * operation of the client and of each member (Linux: from /proc).
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { ProcessCluster } from '../test/process/process-cluster.ts'
import { etcdAvailable, startEtcdCluster } from './etcd-peer.ts'
import { runInProcess } from './in-process.bench.ts'
import { runLoad, type LoadResult } from './load.ts'
import { runRawNode } from './raw-node.bench.ts'
import { RuntimeStats } from '../test/process/runtime-stats.ts'
import type { KvNodeStats } from '../test/process/protocol.ts'

const windowMs = Number(process.env.BENCH_SECONDS ?? 3) * 1000
const VALUE_BYTES = 256
const CONCURRENCY = process.env.BENCH_CONCURRENCY === undefined ? [1, 64, 256] : process.env.BENCH_CONCURRENCY.split(',').map(Number)
const only = new Set((process.env.BENCH_ONLY ?? 'core,in-process,process,etcd').split(','))

interface Row {
  benchmark: string
  load: string
  opsPerSec: number
  p50Ms?: number | undefined
  p99Ms?: number | undefined
  note?: string | undefined
}
const rows: Row[] = []
const log = (s: string): void => void process.stderr.write(`${s}\n`)

async function runProcesses(ours: Map<number, LoadResult>): Promise<void> {
  log('3 processes: gRPC on loopback, FileRaftStorage with fdatasync')
  const cluster = new ProcessCluster([1n, 2n, 3n], { tickMs: 100, electionTick: 10, snapshotInterval: 10_000, logEntriesForSlowFollowers: 500 })
  try {
    await cluster.bootstrap()
    const leaderId = await cluster.waitLeader()
    const leader = cluster.proc(leaderId)
    const value = 'v'.repeat(VALUE_BYTES)
    const stats = process.env.BENCH_STATS === '1' ? new RuntimeStats() : undefined
    const cpuOf = (): number[] => [process.pid, ...cluster.live().map((p) => p.child.pid ?? 0)].map(cpuTicks)
    for (const c of CONCURRENCY) {
      const cpu0 = cpuOf()
      if (stats !== undefined) {
        await Promise.all(cluster.live().map((p) => p.request('stats', {})))
        stats.take()
      }
      const r = await runLoad(c, windowMs, async (w, s) => {
        await leader.request('put', { key: `k-${c}-${w}-${s}`, value }, 0)
      })
      if (stats !== undefined) {
        const client = stats.take()
        const members = await Promise.all(cluster.live().map(async (p) => [p.id === leaderId ? `leader ${p.id}` : `follower ${p.id}`, await p.request('stats', {})] as const))
        log(`  ${c} proposers: ${r.ops} ops`)
        for (const [who, st] of [['client', client] as const, ...members]) log(`    ${who.padEnd(10)} ${describeStats(st, r.ops)}`)
      }
      ours.set(c, r)
      if (process.env.BENCH_CPU === '1') {
        const names = ['client', ...cluster.live().map((p) => (p.id === leaderId ? 'leader' : 'follower'))]
        const perOp = cpuOf().map((t, i) => ((t - (cpu0[i] ?? 0)) * 10_000) / Math.max(1, r.ops))
        log(`  cpu µs/op at ${c}: ${perOp.map((u, i) => `${names[i]} ${u.toFixed(0)}`).join(', ')}, total ${perOp.reduce((a, b) => a + b, 0).toFixed(0)}`)
      }
      rows.push({ benchmark: 'swarmkit-ts raft, 3 processes (gRPC, WAL + fdatasync)', load: `${c} proposers`, opsPerSec: r.perSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, note: r.errors > 0 ? `${r.errors} errors` : undefined })
    }
    if (process.env.BENCH_GRACEFUL === '1') await Promise.all(cluster.live().map((p) => p.stop()))
  } finally {
    await cluster.close()
  }
}

/** User + system CPU time of a process in clock ticks (1/100 s), from /proc; 0 elsewhere. */
function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  } catch {
    return 0
  }
}

function describeStats(st: KvNodeStats, ops: number): string {
  const f = (n: number, d = 1): string => n.toFixed(d)
  const perOp = ops === 0 ? 0 : (st.cpuMs * 1000) / ops
  return (
    `cpu ${f(st.cpuMs / st.elapsedMs, 2)} cores (${f(perOp, 0)} µs/op), loop busy ${f(st.loopUtilization, 2)}, ` +
    `loop delay p50/p99/max ${f(st.loopDelay.p50)}/${f(st.loopDelay.p99)}/${f(st.loopDelay.max)} ms, ` +
    `gc ${st.gc.count}× total ${f(st.gc.total, 0)} ms max ${f(st.gc.max)} (major ${st.majorGc.count}× max ${f(st.majorGc.max)}), ` +
    `sync ${st.sync.count}× p50/p99/max ${f(st.sync.p50)}/${f(st.sync.p99)}/${f(st.sync.max)} ms`
  )
}

async function runEtcd(ours: Map<number, LoadResult>): Promise<void> {
  if (await etcdAvailable()) {
    log('etcd 3.4: 3 members on loopback, same load through its gRPC API (etcd3 client)')
    const etcd = await startEtcdCluster()
    try {
      const value = new Uint8Array(VALUE_BYTES).fill(118)
      for (const c of CONCURRENCY) {
        const r = await runLoad(c, windowMs, (w, s) => etcd.put(`k-${c}-${w}-${s}`, value))
        const mine = ours.get(c)
        const ratio = mine === undefined || r.perSecond === 0 ? undefined : mine.perSecond / r.perSecond
        rows.push({
          benchmark: 'etcd 3.4, 3 processes (peer, same machine, same run)',
          load: `${c} proposers`,
          opsPerSec: r.perSecond,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          note: ratio === undefined ? undefined : `swarmkit-ts / etcd = ${ratio.toFixed(2)}×`,
        })
      }
    } finally {
      await etcd.stop()
    }
  } else {
    rows.push({ benchmark: 'etcd 3.4 (peer)', load: '-', opsPerSec: Number.NaN, note: 'etcd not installed (apt-get install etcd-server); no ratio' })
  }
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0

  if (only.has('core')) log('raw-node: pure core, 3 members, synchronous pump')
  for (const batch of only.has('core') ? [1, 64, 256] : []) {
    const r = runRawNode(batch, windowMs, VALUE_BYTES)
    rows.push({ benchmark: 'RawNode ×3 (pure core, memory storage)', load: `batch ${batch}`, opsPerSec: r.perSecond })
  }

  if (only.has('in-process')) log('in-process: RaftNode drivers, memory storage, testkit MemoryNetwork (zero delay)')
  for (const p of only.has('in-process') ? [1, 64, 256, 1024] : []) {
    const r = await runInProcess(p, windowMs, VALUE_BYTES)
    rows.push({ benchmark: 'RaftNode ×3 in one process (memory storage, MemoryNetwork)', load: `${p} proposers`, opsPerSec: r.perSecond })
  }

  const ours = new Map<number, LoadResult>()
  if (only.has('process')) await runProcesses(ours)
  if (only.has('etcd')) await runEtcd(ours)

  const fmt = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d))
  const table = [
    ['benchmark', 'load', 'ops/s', 'p50 ms', 'p99 ms', 'note'],
    ...rows.map((r) => [r.benchmark, r.load, fmt(r.opsPerSec), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.note ?? '']),
  ]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? []
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))

  // A partial run (BENCH_ONLY) does not replace the full results.
  if (process.env.BENCH_ONLY !== undefined) return
  const out = new URL('../../../bench-results/', import.meta.url)
  await mkdir(out, { recursive: true })
  const file = new URL('raft.json', out)
  await writeFile(file, `${JSON.stringify({ package: '@swarmkit-ts/raft', startedAt, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, valueBytes: VALUE_BYTES, windowMs, rows }, null, 2)}\n`)
  log(`wrote ${file.pathname}`)
}

await main()

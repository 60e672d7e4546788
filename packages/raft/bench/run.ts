/**
 * `pnpm bench` for @swarmkit-ts/raft: every figure of the issue in one run, with the peer (a
 * 3-member etcd 3.4 cluster) measured in the same run under the same load where it applies.
 * Prints a table and writes bench-results/raft.json at the repository root.
 *
 * BENCH_SECONDS scales every measurement window (default 3 s).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { ProcessCluster } from '../test/process/process-cluster.ts'
import { etcdAvailable, startEtcdCluster } from './etcd-peer.ts'
import { runInProcess } from './in-process.bench.ts'
import { runLoad, type LoadResult } from './load.ts'
import { runRawNode } from './raw-node.bench.ts'

const windowMs = Number(process.env.BENCH_SECONDS ?? 3) * 1000
const VALUE_BYTES = 256
const CONCURRENCY = [1, 64, 256]

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

async function main(): Promise<void> {
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0

  log('raw-node: pure core, 3 members, synchronous pump')
  for (const batch of [1, 64, 256]) {
    const r = runRawNode(batch, windowMs, VALUE_BYTES)
    rows.push({ benchmark: 'RawNode ×3 (pure core, memory storage)', load: `batch ${batch}`, opsPerSec: r.perSecond })
  }

  log('in-process: RaftNode drivers, memory storage, testkit MemoryNetwork (zero delay)')
  for (const p of [1, 64, 256, 1024]) {
    const r = await runInProcess(p, windowMs, VALUE_BYTES)
    rows.push({ benchmark: 'RaftNode ×3 in one process (memory storage, MemoryNetwork)', load: `${p} proposers`, opsPerSec: r.perSecond })
  }

  log('3 processes: gRPC on loopback, FileRaftStorage with fdatasync')
  const ours = new Map<number, LoadResult>()
  const cluster = new ProcessCluster([1n, 2n, 3n], { tickMs: 100, electionTick: 10, snapshotInterval: 10_000, logEntriesForSlowFollowers: 500 })
  try {
    await cluster.bootstrap()
    const leaderId = await cluster.waitLeader()
    const leader = cluster.proc(leaderId)
    const value = 'v'.repeat(VALUE_BYTES)
    for (const c of CONCURRENCY) {
      const r = await runLoad(c, windowMs, async (w, s) => {
        await leader.request('put', { key: `k-${c}-${w}-${s}`, value }, 0)
      })
      ours.set(c, r)
      rows.push({ benchmark: 'swarmkit-ts raft, 3 processes (gRPC, WAL + fdatasync)', load: `${c} proposers`, opsPerSec: r.perSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, note: r.errors > 0 ? `${r.errors} errors` : undefined })
    }
  } finally {
    await cluster.close()
  }

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

  const fmt = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d))
  const table = [
    ['benchmark', 'load', 'ops/s', 'p50 ms', 'p99 ms', 'note'],
    ...rows.map((r) => [r.benchmark, r.load, fmt(r.opsPerSec), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.note ?? '']),
  ]
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? []
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '))

  const out = new URL('../../../bench-results/', import.meta.url)
  await mkdir(out, { recursive: true })
  const file = new URL('raft.json', out)
  await writeFile(file, `${JSON.stringify({ package: '@swarmkit-ts/raft', startedAt, cores: availableParallelism(), node: process.version, loadAverageAtStart: load0, valueBytes: VALUE_BYTES, windowMs, rows }, null, 2)}\n`)
  log(`wrote ${file.pathname}`)
}

await main()

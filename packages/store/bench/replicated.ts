/**
 * Replicated store throughput: single-object update transactions per second through 3 managers
 * in one process (each a `createReplicatedStore`: MemoryStore + RaftNode with MemoryRaftStorage),
 * an in-memory transport that delivers on the next turn of the event loop, the real clock, and
 * many concurrent callers of `store.update()` on the leader (group commit). The baseline is an
 * unreplicated MemoryStore under the same load, measured in the same run.
 *
 * Every manager applies every change set (the followers decode it; the leader applies its own
 * transactions' objects), all on this one thread: the figure is what one core does for the
 * leader and both followers together.
 *
 * Prints a table and writes bench-results/store-replicated.json at the repository root.
 * BENCH_SECONDS sets each measurement window (default 3 s); BENCH_CALLERS a comma-separated list
 * of concurrencies (default 1,64,256,1024).
 *
 * Run: `pnpm --filter @swarmkit-ts/store bench` (with the unreplicated figures), or on its own
 * `node scripts/bench-built.mjs packages/store/bench/replicated.ts` after `pnpm build`.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { MemoryRaftStorage } from '@swarmkit-ts/raft'
import { runningTask as task } from './fixtures.ts'
import type { Message, RaftTransport, RaftTransportHandlers } from '@swarmkit-ts/raft'
import { decodeChangeSet, encodeChangeSet } from '../src/replication/change-set-codec.ts'
import { MemoryStore } from '../src/memory-store.ts'
import { ownFrozen } from '../src/objects/freeze.ts'
import { issueLocalChangeSet } from '../src/proposer.ts'
import type { ChangeSet } from '../src/proposer.ts'
import { createReplicatedStore } from '../src/replication/replicated-store.ts'
import type { ReplicatedStore } from '../src/replication/replicated-store.ts'

/** Delivers each batch of messages on setImmediate, keeping per-link order. */
class ImmediateBus {
  readonly handlers = new Map<bigint, RaftTransportHandlers>()
  endpoint(self: bigint): RaftTransport {
    return {
      start: (h) => {
        this.handlers.set(self, h)
        return Promise.resolve()
      },
      send: (msgs: readonly Message[]) => {
        const batch = [...msgs]
        setImmediate(() => {
          for (const m of batch) {
            if (m.type === 'snapshot') this.handlers.get(self)?.snapshotStatus?.(m.to, true)
            this.handlers.get(m.to)?.message(m)
          }
        })
      },
      addPeer: () => {},
      removePeer: () => {},
      stop: () => {
        this.handlers.delete(self)
        return Promise.resolve()
      },
    }
  }
}


/** One benchmark result. */
export interface ReplicatedBenchRow {
  benchmark: string
  callers: number
  transactions: number
  seconds: number
  /** Transactions acknowledged per second. */
  perSecond: number
  /** Raft log entries the transactions went out in (replicated only). */
  entries?: number
  /** Milliseconds the slowest follower needed after the window to apply everything acknowledged. */
  followerLagMs?: number
}

const OBJECTS = 1000

/** Drives `callers` concurrent single-task updates on `store` for `windowMs`. */
export async function drive(store: MemoryStore, callers: number, windowMs: number): Promise<{ transactions: number; seconds: number }> {
  let done = 0
  let stop = false
  // The callers hold the ids (built once, not per call: the loop measures the store only).
  const ids = Array.from({ length: OBJECTS }, (_, n) => task(n).id)
  const worker = async (w: number): Promise<void> => {
    let i = 0
    while (!stop) {
      const id = ids[(w * 7 + i++) % OBJECTS] as string
      await store.update((tx) =>
        tx.tasks.update(id, (d) => {
          d.status.timestamp = i
        }),
      )
      done++
      // A local proposer settles in microtasks only: let the timer that ends the window run.
      if (i % 256 === 0) await new Promise((r) => setImmediate(r))
    }
  }
  const start = performance.now()
  const workers = Array.from({ length: callers }, (_, w) => worker(w))
  await new Promise((r) => setTimeout(r, windowMs))
  stop = true
  const seconds = (performance.now() - start) / 1000
  const counted = done
  await Promise.all(workers)
  return { transactions: counted, seconds }
}

async function populate(store: MemoryStore): Promise<void> {
  await store.batch((b) => {
    for (let n = 0; n < OBJECTS; n++) b.update((tx) => tx.tasks.create(task(n)))
  })
}

/** Unreplicated baseline: the same load on a MemoryStore with its local proposer. */
export async function runUnreplicated(callers: number, windowMs: number): Promise<ReplicatedBenchRow> {
  const store = new MemoryStore()
  await populate(store)
  await drive(store, callers, Math.min(500, windowMs)) // warm-up
  const r = await drive(store, callers, windowMs)
  return { benchmark: 'MemoryStore, unreplicated (baseline)', callers, ...r, perSecond: r.transactions / r.seconds }
}

/** 3 replicated managers; the load runs on the leader. */
export async function runReplicated(callers: number, windowMs: number): Promise<ReplicatedBenchRow> {
  const bus = new ImmediateBus()
  const ids = [1n, 2n, 3n]
  const members: ReplicatedStore<MemoryStore>[] = ids.map((id) =>
    createReplicatedStore({
      raft: { id, storage: new MemoryRaftStorage(), transport: bus.endpoint(id), tickMs: 50, maxSizePerMsg: 1024 * 1024 },
    }),
  )
  for (const m of members) m.bootstrap(ids.map((id) => ({ id, address: `manager-${id}` })))
  for (const m of members) await m.start()
  members[0]?.raft.campaign()
  let leader: ReplicatedStore<MemoryStore> | undefined
  while (leader === undefined) {
    await new Promise((r) => setTimeout(r, 10))
    leader = members.find((m) => m.isLeader)
  }
  await populate(leader.store)
  await drive(leader.store, callers, Math.min(500, windowMs)) // warm-up
  const before = leader.raft.status().lastIndex
  const r = await drive(leader.store, callers, windowMs)
  const entries = leader.raft.status().lastIndex - before
  const target = leader.raft.applied
  const lagStart = performance.now()
  while (members.some((m) => m.raft.applied < target)) await new Promise((res) => setImmediate(res))
  const followerLagMs = performance.now() - lagStart
  const snapshots = members.map((m) => Buffer.from(m.store.snapshot()).toString('base64'))
  if (snapshots.some((s) => s !== snapshots[0])) throw new Error('managers diverged')
  for (const m of members) await m.stop()
  return { benchmark: 'ReplicatedStore ×3 in one process (memory storage)', callers, ...r, perSecond: r.transactions / r.seconds, entries, followerLagMs }
}

/** Microseconds per single-object update spent in each replication step (change sets of `perSet` updates). */
export interface ReplicationCost {
  perSet: number
  /** Encoding the change set (leader, once). */
  encodeUs: number
  /** Decoding it (each follower). */
  decodeUs: number
  /** `applyEncodedChangeSet`: decoding, adoption, indexes, events (each follower). */
  applyEncodedUs: number
  /** `applyChangeSet` of the transaction's own change set (the leader, unreplicated too). */
  applyLocalUs: number
}

/**
 * Where a replicated update's time goes, per update: encoding its change set (once, on the
 * leader), decoding and applying it on a follower, and applying the transaction's own change set
 * (what the leader does, and an unreplicated store).
 */
export async function runBreakdown(perSet = 128, rounds = 200): Promise<ReplicationCost> {
  const store = new MemoryStore()
  await populate(store)
  const replica = new MemoryStore()
  replica.restore(store.snapshot())
  const build = (from: MemoryStore, round: number): ChangeSet => {
    const actions = from.view((tx) =>
      Array.from({ length: perSet }, (_, k) => {
        const t = tx.tasks.get(task((round * perSet + k) % OBJECTS).id)
        if (t === undefined) throw new Error('missing task')
        return { action: 'update' as const, kind: 'task' as const, object: ownFrozen({ ...t, status: { ...t.status, timestamp: round } }), expectedVersion: t.meta.version.index }
      }),
    )
    return { transactions: actions.map((a) => [a]) }
  }
  const sets: ChangeSet[] = []
  for (let r = 0; r < 8; r++) sets.push(build(store, r))
  let t0 = performance.now()
  let bytes: Uint8Array[] = []
  for (let r = 0; r < rounds; r++) bytes = sets.map((cs) => encodeChangeSet(cs))
  const encodeUs = ((performance.now() - t0) * 1000) / (rounds * sets.length * perSet)
  t0 = performance.now()
  for (let r = 0; r < rounds; r++) for (const b of bytes) decodeChangeSet(b)
  const decodeUs = ((performance.now() - t0) * 1000) / (rounds * bytes.length * perSet)
  let localMs = 0
  let decodedMs = 0
  for (let r = 0; r < rounds; r++) {
    const cs = build(store, r) // reads the current versions (not timed)
    const encoded = encodeChangeSet(cs) // not timed
    const handle = issueLocalChangeSet(cs) // as the commit queue hands it over
    let start = performance.now()
    const local = store.applyChangeSet(cs, store.version + 1n, handle)
    localMs += performance.now() - start
    start = performance.now()
    const remote = replica.applyEncodedChangeSet(encoded, replica.version + 1n)
    decodedMs += performance.now() - start
    if (local.results.some((x) => !x.ok) || remote.results.some((x) => !x.ok)) throw new Error('apply failed')
  }
  const n = rounds * perSet
  return { perSet, encodeUs, decodeUs, applyEncodedUs: (decodedMs * 1000) / n, applyLocalUs: (localMs * 1000) / n }
}

async function main(): Promise<void> {
  const windowMs = Number(process.env['BENCH_SECONDS'] ?? 3) * 1000
  const callerList = (process.env['BENCH_CALLERS'] ?? '1,64,256,1024').split(',').map(Number)
  const startedAt = new Date().toISOString()
  const load0 = loadavg()[0] ?? 0
  const rows: ReplicatedBenchRow[] = []
  for (const callers of callerList) {
    rows.push(await runUnreplicated(callers, windowMs))
    rows.push(await runReplicated(callers, windowMs))
  }
  const cost = await runBreakdown()
  const target = 20_000
  const best = Math.max(...rows.filter((r) => r.benchmark.startsWith('Replicated')).map((r) => r.perSecond))
  const table = rows.map((r) => ({
    benchmark: r.benchmark,
    callers: r.callers,
    'tx/s': Math.round(r.perSecond),
    'tx/entry': r.entries === undefined || r.entries === 0 ? '' : (r.transactions / r.entries).toFixed(1),
    'follower lag ms': r.followerLagMs === undefined ? '' : r.followerLagMs.toFixed(1),
  }))
  console.table(table)
  const unreplicated = Math.max(...rows.filter((r) => !r.benchmark.startsWith('Replicated')).map((r) => r.perSecond))
  console.table([
    { step: 'encode (leader, once)', 'µs/update': cost.encodeUs.toFixed(1) },
    { step: 'decode (each follower)', 'µs/update': cost.decodeUs.toFixed(1) },
    { step: 'applyEncodedChangeSet: decode + apply (each follower)', 'µs/update': cost.applyEncodedUs.toFixed(1) },
    { step: "applyChangeSet, the transaction's own (leader)", 'µs/update': cost.applyLocalUs.toFixed(1) },
    { step: 'unreplicated update() incl. apply (best run)', 'µs/update': (1e6 / unreplicated).toFixed(1) },
    {
      step: 'one thread, 3 managers: update() + encode + 2 × (decode + apply)',
      'µs/update': (1e6 / unreplicated + cost.encodeUs + 2 * cost.applyEncodedUs).toFixed(1),
    },
  ])
  console.log(`best replicated: ${Math.round(best)} tx/s (target ≥ ${target}); SwarmKit go-memdb, one-update transactions (unreplicated, reference from the issue): 14,700/s`)
  const out = {
    package: '@swarmkit-ts/store',
    benchmark: 'replicated single-object update transactions',
    startedAt,
    cores: availableParallelism(),
    node: process.version,
    loadAverageAtStart: load0,
    windowMs,
    objects: OBJECTS,
    targetPerSecond: target,
    bestReplicatedPerSecond: best,
    costPerUpdate: cost,
    rows,
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
  await mkdir(resolve(root, 'bench-results'), { recursive: true })
  await writeFile(resolve(root, 'bench-results/store-replicated.json'), `${JSON.stringify(out, null, 2)}\n`)
}

// Run as the entry only. In a bundle (scripts/bench-built.mjs) every module shares the bundle's
// import.meta.url, so the bundle of replicated-workers.ts, which imports this file, is excluded
// by name.
const entry = process.argv[1] ?? ''
if (isMainThread && import.meta.url === pathToFileURL(resolve(entry)).href && !/replicated-workers/.test(entry)) await main()
